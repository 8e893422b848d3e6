export * from './errors';
export * from './declaration-content';
export { checkDeclarationFile } from './check-file';

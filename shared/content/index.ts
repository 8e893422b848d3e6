export * from './errors';
export * from './declaration-content';
export { checkDeclarationFile } from './check-file';
export { FileInspection, InspectionShortError, type InspectionRequest } from './file-inspection';

export * from './errors';
export * from './digest';
export * from './fs-format';
export * from './material';
export { buildDetachedSignature, parseDetachedSignature, CMS_OIDS } from './cms';
export type { ParsedSignature } from './cms';
export * from './sign';
export * from './verify';
export * from './self-signed';

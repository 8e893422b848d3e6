/**
 * The public API of the domain core. Adapters (CLI, Lambda handlers) import
 * from here; anything not listed is internal to its folder.
 */
export * from './errors';
export * from './names';
export * from './signing';
export * from './content';
export * from './ledger';
export * from './transport';
export * from './send';
export * from './responses';
export * from './store';
export * from './notify';
export * from './secrets';
export * from './pull';
export * from './watchdog';
export { readFileChunks, FILE_CHUNK_BYTES } from './io/read-file-chunks';
export { writeFileAtomic } from './local/atomic-file';
export { sampleDmfaXml } from './demo/sample-dmfa';
export type { SampleDmfaOptions } from './demo/sample-dmfa';

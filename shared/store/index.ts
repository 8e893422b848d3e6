export type { ObjectStore, StoredObject } from './port';
export { StoreKeyError, StoreWriteError } from './errors';
export { checkStoreKey, localFolderStore } from './local-folder';

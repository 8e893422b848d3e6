export type { ObjectStore, StoredObject } from './port';
export { StoreKeyError, StoreNotFoundError, StoreReadError, StoreWriteError } from './errors';
export type { StoreFailureDetails } from './errors';
export { checkStoreKey, localFolderStore } from './local-folder';

import { OnssTransferError } from '../errors';

/** A key that would leave the store (`..`, an absolute path, odd characters). */
export class StoreKeyError extends OnssTransferError {
  constructor(key: string) {
    super(`store key ${JSON.stringify(key).slice(0, 200)} is not a safe relative key`, {
      code: 'STORE_KEY_INVALID',
    });
  }
}

/** The store could not keep an object. */
export class StoreWriteError extends OnssTransferError {
  constructor(key: string, cause: unknown) {
    super(`cannot store ${key}`, { code: 'STORE_WRITE_FAILED', cause });
  }
}

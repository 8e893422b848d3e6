import { OnssTransferError } from '../errors';

/** A key that would leave the store (`..`, an absolute path, odd characters). */
export class StoreKeyError extends OnssTransferError {
  constructor(key: string) {
    super(`store key ${JSON.stringify(key).slice(0, 200)} is not a safe relative key`, {
      code: 'STORE_KEY_INVALID',
    });
  }
}

/** What a store failure may say besides its key: a reason in words, and whether to try again. */
export interface StoreFailureDetails {
  /** A short reason for people (`AccessDenied (HTTP 403)`); never object content. */
  reason?: string;
  /** True when the same call may succeed later (throttling, a dropped connection). Default false. */
  transient?: boolean;
}

/** The store could not keep an object. */
export class StoreWriteError extends OnssTransferError {
  /** True when trying the same put again may succeed. */
  readonly transient: boolean;

  constructor(key: string, cause: unknown, details: StoreFailureDetails = {}) {
    super(`cannot store ${key}${details.reason === undefined ? '' : `: ${details.reason}`}`, {
      code: 'STORE_WRITE_FAILED',
      cause,
    });
    this.transient = details.transient ?? false;
  }
}

/** The store could not read an object it holds, or say whether it holds it. */
export class StoreReadError extends OnssTransferError {
  /** True when trying the same read again may succeed. */
  readonly transient: boolean;

  constructor(key: string, cause: unknown, details: StoreFailureDetails = {}) {
    super(`cannot read ${key}${details.reason === undefined ? '' : `: ${details.reason}`}`, {
      code: 'STORE_READ_FAILED',
      cause,
    });
    this.transient = details.transient ?? false;
  }
}

/** `open` of a key the store does not hold. */
export class StoreNotFoundError extends OnssTransferError {
  constructor(key: string, cause?: unknown) {
    super(`the store holds no object ${key}`, { code: 'STORE_NOT_FOUND', cause });
  }
}

import { OnssTransferError } from '../errors';

/** A downloaded file does not match what the server listed or what the store kept. */
export class StoreMismatchError extends OnssTransferError {
  constructor(name: string, detail: string) {
    super(`${name}: ${detail}; kept on the server`, { code: 'STORE_MISMATCH' });
  }
}

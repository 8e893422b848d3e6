import { OnssTransferError } from '../errors';

/** A downloaded file does not match what the server listed or what the store kept. */
export class StoreMismatchError extends OnssTransferError {
  constructor(name: string, detail: string) {
    super(`${name}: ${detail}; kept on the server`, { code: 'STORE_MISMATCH' });
  }
}

/** A pull option is out of range (an unpacking limit that is not a positive whole number). */
export class PullOptionsError extends OnssTransferError {
  constructor(option: string, problem: string) {
    super(`${option} ${problem}`, { code: 'PULL_OPTIONS_INVALID' });
  }
}

/**
 * A compressed response would unpack past a limit (too many entries, too many bytes): a zip
 * bomb, or an answer far larger than any the transfer point writes. The original is kept.
 */
export class UnpackLimitError extends OnssTransferError {
  constructor(detail: string) {
    super(detail, { code: 'UNPACK_LIMIT' });
  }
}

/**
 * Files carry the name of an answer set already stored and deleted from the server: a name
 * used twice. They are other answers, so they are neither taken for the stored set nor
 * deleted: they stay on the server for a person to look at.
 */
export class ResponseNameReusedError extends OnssTransferError {
  constructor(folder: string, id: string) {
    super(
      `${folder}/${id}: a response set of this name was already stored and deleted; these ` +
        'files are another answer under the same name: kept on the server',
      { code: 'RESPONSE_NAME_REUSED' },
    );
  }
}

import { OnssTransferError } from '../errors';

/**
 * The content of a declaration breaks a rule the reception checks: XML syntax
 * (ACRF-102), an unsupported encoding (ACRF-138), a form identification that
 * does not match the name's application (ACRF-158), no data (ACRF-134); or a limit of ours
 * with no reception code: elements nested deeper than we read (CONTENT_TOO_DEEP).
 */
export class ContentRuleError extends OnssTransferError {
  /** Byte offset in the declaration near which the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(message: string, code: string, offset?: number, cause?: unknown) {
    super(`${message} (${code})`, { code, cause });
    this.offset = offset;
  }
}

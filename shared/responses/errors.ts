/**
 * Failures of the response parser. A response that fails is still the transfer point's answer:
 * the caller keeps the file and reports the error, it never drops it.
 */
import { OnssTransferError } from '../errors';

/**
 * Stable codes of the response parser's errors. Their values are part of the contract (logs,
 * CLI reports, alarms): never rename one.
 */
export const RESPONSE_ERROR_CODES = {
  /** Not well-formed XML, an encoding we cannot read, or bytes invalid in that encoding. */
  RESPONSE_MALFORMED: 'RESPONSE_MALFORMED',
  /** A single markup construct longer than the parser's limit, or elements nested too deep. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** An option of the parser that is not a usable number (a caller bug). */
  RESPONSE_PARSER_OPTIONS_INVALID: 'RESPONSE_PARSER_OPTIONS_INVALID',
  /** `write` or `end` called on a parser that has already ended (a caller bug). */
  RESPONSE_PARSER_ENDED: 'RESPONSE_PARSER_ENDED',
} as const;

/**
 * A response that cannot be read as XML: not well-formed (including any DOCTYPE, refused so
 * that no entity is ever declared, let alone expanded), in an encoding the parser does not
 * read, or with bytes that are not valid in its encoding.
 */
export class ResponseParseError extends OnssTransferError {
  /**
   * Where the problem is, in bytes: the end of the slice of at most 64 KiB in which it was
   * found (0 for a problem with the first bytes, such as an encoding not read). The message
   * gives the line and column when the XML parser knows them.
   */
  readonly offset: number;

  constructor(message: string, offset: number, cause?: unknown) {
    super(message, { code: RESPONSE_ERROR_CODES.RESPONSE_MALFORMED, cause });
    this.offset = offset;
  }
}

/**
 * A response with a single tag, comment, CDATA section, processing instruction or entity
 * reference longer than the parser's limit, or with elements nested deeper than its limit. The
 * XML parser holds such a construct whole, and every open element, so it is refused before it
 * is read into memory. Long text is not refused: it is cut.
 */
export class ResponseTooLargeError extends OnssTransferError {
  /** Where the limit was passed, in bytes: the end of the slice of at most 64 KiB. */
  readonly offset: number;
  /** The limit passed: characters of one construct, or levels of nesting. */
  readonly limit: number;

  constructor(message: string, offset: number, limit: number) {
    super(message, { code: RESPONSE_ERROR_CODES.RESPONSE_TOO_LARGE });
    this.offset = offset;
    this.limit = limit;
  }
}

/** `write` or `end` called on a response parser that has already ended. */
export class ResponseParserEndedError extends OnssTransferError {
  constructor() {
    super('the response parser has already ended: create a new one for each response', {
      code: RESPONSE_ERROR_CODES.RESPONSE_PARSER_ENDED,
    });
  }
}

/** An option of the response parser that is not a usable integer. */
export class ResponseParserOptionsError extends OnssTransferError {
  constructor(message: string) {
    super(message, { code: RESPONSE_ERROR_CODES.RESPONSE_PARSER_OPTIONS_INVALID });
  }
}

import { OnssTransferError } from '../errors';

/**
 * Failures of secrets. No message, property or cause of these errors ever holds a secret value
 * or a piece of one: only secret ids, field names and what was expected of them.
 */
export class SecretError extends OnssTransferError {}

/** Stable codes of secret failures. */
export const SECRET_CODES = {
  /** The secret's value is not of the expected shape (bad JSON, a field missing or wrong). */
  INVALID: 'SECRET_INVALID',
  /** No secret of that id. */
  NOT_FOUND: 'SECRET_NOT_FOUND',
  /** The secret exists but we may not read or write it (IAM, KMS key policy). */
  ACCESS_DENIED: 'SECRET_ACCESS_DENIED',
  /** The secret service failed or did not answer. */
  UNAVAILABLE: 'SECRET_UNAVAILABLE',
} as const;

/** One of {@link SECRET_CODES} other than INVALID. */
export type SecretAccessCode = Exclude<
  (typeof SECRET_CODES)[keyof typeof SECRET_CODES],
  typeof SECRET_CODES.INVALID
>;

/**
 * A secret value of the wrong shape. `field` names the field at fault (`privateKeyPem`,
 * `format`...), or is `(value)` for the document as a whole.
 */
export class SecretFormatError extends SecretError {
  /** The field at fault, or `(value)` when the whole value is. */
  readonly field: string;

  constructor(what: string, field: string, problem: string, cause?: unknown) {
    super(
      `${what}: ${field === WHOLE_VALUE ? 'the value' : `field "${field}"`} ${problem}`,
      cause === undefined ? { code: SECRET_CODES.INVALID } : { code: SECRET_CODES.INVALID, cause },
    );
    this.field = field;
  }
}

/** The `field` of a SecretFormatError about the value as a whole. */
export const WHOLE_VALUE = '(value)';

/** A secret that could not be read or written. */
export class SecretAccessError extends SecretError {
  /** True when trying again later may help (throttling, a service fault, a dropped connection). */
  readonly transient: boolean;

  constructor(
    message: string,
    options: { code: SecretAccessCode; transient: boolean; cause?: unknown },
  ) {
    super(message, { code: options.code, cause: options.cause });
    this.transient = options.transient;
  }
}

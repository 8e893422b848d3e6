/**
 * One base error for the whole core, one subclass per kind of failure.
 * Each carries a stable `code`: `ACRF-nnn` where the transfer point has a
 * reception error code for the rule, otherwise a project code in capitals.
 */

/** Options common to every error of the project. */
export interface OnssErrorOptions {
  /** Stable machine-readable code, e.g. `ACRF-131` or `KEY_PASSWORD_WRONG`. */
  code: string;
  /** The original failure, kept for `--debug` and logs. */
  cause?: unknown;
}

/** Base class of every error the core throws on purpose. */
export class OnssTransferError extends Error {
  /** Stable code: `ACRF-nnn` for a transfer point rule, else a project code. */
  readonly code: string;

  constructor(message: string, options: OnssErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
  }

  /** The transfer point's reception error number, when the code is one. */
  get acrf(): number | undefined {
    const match = /^ACRF-(\d{3})$/.exec(this.code);
    return match ? Number(match[1]) : undefined;
  }
}

/** Formats an ACRF reception code as used in answers: `ACRF-007`. */
export function acrfCode(n: number): string {
  return `ACRF-${String(n).padStart(3, '0')}`;
}

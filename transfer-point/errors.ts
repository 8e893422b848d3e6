/**
 * Failures of the local transfer point. They are about the simulator itself (a bad option, a
 * wait that timed out, a response it could not write), never about a declaration: a bad
 * declaration is not an error here but a verdict with ACRF codes.
 */
import { OnssTransferError } from '../shared/errors';

/** Stable codes of the simulator's own failures; part of the contract, never renamed. */
export const SIMULATOR_CODES = {
  /** An option given to `startSimulator` cannot be used. */
  OPTIONS_INVALID: 'SIMULATOR_OPTIONS_INVALID',
  /** A `waitFor...` call saw nothing matching before its deadline. */
  TIMEOUT: 'SIMULATOR_TIMEOUT',
  /** The simulator was stopped while something still waited on it. */
  STOPPED: 'SIMULATOR_STOPPED',
  /** Judging a set, cancelling one or writing a response failed on the simulator's side. */
  PROCESSING_FAILED: 'SIMULATOR_PROCESSING_FAILED',
  /** A scripting call (`rejectNext`, `dropAfterBytes`, `setThrottle`) got a bad argument. */
  SCRIPT_INVALID: 'SIMULATOR_SCRIPT_INVALID',
  /** Every one of the 99,999 response sequences is taken. */
  SEQUENCE_EXHAUSTED: 'SIMULATOR_SEQUENCE_EXHAUSTED',
} as const;

/** Base class of every failure of the simulator. */
export class SimulatorError extends OnssTransferError {}

/** An option of `startSimulator` or a scripting argument that cannot be used; says what to fix. */
export class SimulatorOptionsError extends SimulatorError {
  /** The option or argument at fault, e.g. `options.port`. */
  readonly option: string;

  constructor(option: string, problem: string, code: string = SIMULATOR_CODES.OPTIONS_INVALID) {
    super(`${option}: ${problem}`, { code });
    this.option = option;
  }
}

/** Nothing matching arrived before the deadline of a `waitFor...` call. */
export class SimulatorTimeoutError extends SimulatorError {
  constructor(message: string) {
    super(message, { code: SIMULATOR_CODES.TIMEOUT });
  }
}

/** The simulator stopped while a caller still waited on it. */
export class SimulatorStoppedError extends SimulatorError {
  constructor(what: string) {
    super(`the simulator stopped while ${what}`, { code: SIMULATOR_CODES.STOPPED });
  }
}

/**
 * The simulator could not finish handling an uploaded file (a disk error while writing the
 * response set, say). Reported through the `failed` event: the FTP session goes on.
 */
export class SimulatorProcessingError extends SimulatorError {
  /** The uploaded file whose handling failed (GO or TD), or the notification's GO name. */
  readonly fileName: string;

  constructor(fileName: string, what: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${what} failed for ${fileName}: ${reason}`, {
      code: SIMULATOR_CODES.PROCESSING_FAILED,
      cause,
    });
    this.fileName = fileName;
  }
}

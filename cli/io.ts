import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { OnssTransferError } from '../shared/errors';

/** Where a command writes and what it may read: the process, or a test's capture. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** True when a person watches (stderr is a terminal): progress bars are drawn then. */
  isTerminal?: boolean;
  /** True when stdout is a terminal: commands that print secrets refuse to (import-key). */
  stdoutIsTerminal?: boolean;
  /** Resolves when a long-running command (the simulator) should stop; default Ctrl-C. */
  waitForStop?: () => Promise<void>;
  /**
   * The time lateness is judged at (the watchdog of `pull`, `status`); default the system
   * clock. Tests and the demo move it on to show a late answer without waiting an hour; the
   * ledger keeps its own clock.
   */
  now?: () => Date;
}

/** Exit codes: 0 done, 1 a rule or check failed, 2 the command was used wrongly. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake in how the command was called (missing option, unset variable). */
export class UsageError extends OnssTransferError {
  constructor(message: string) {
    super(message, { code: 'USAGE' });
  }
}

/** The process's own streams and environment. */
export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  isTerminal: process.stderr.isTTY === true,
  stdoutIsTerminal: process.stdout.isTTY === true,
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Variable names are upper case by convention; another word may be a password typed by mistake.
const CONVENTIONAL_ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Hides option values in commander's messages (`unknown option '--key-password=...'`):
 * a mistyped flag may carry a secret.
 */
export function redactOptionValues(text: string): string {
  return text.replace(/(--?[A-Za-z][\w-]*)=[^\s']*/g, '$1=<hidden>');
}

/**
 * Reads a secret from the environment variable the user named. Secrets never
 * come as flag values: those end up in shell histories and process lists.
 */
export function secretFromEnv(
  io: CliIo,
  variable: string | undefined,
  flag = '--key-password-env',
): string | undefined {
  if (variable === undefined) return undefined;
  if (!ENV_NAME.test(variable)) {
    // Never repeat it: someone may have typed the password itself here.
    throw new UsageError(
      `${flag} takes the NAME of an environment variable (letters, digits, _), not a password`,
    );
  }
  const value = io.env[variable];
  if (value === undefined) {
    throw new UsageError(
      CONVENTIONAL_ENV_NAME.test(variable)
        ? `environment variable ${variable} is not set (named by ${flag})`
        : `the environment variable named by ${flag} is not set (its name is not shown: ` +
            'not in upper case, it may be a password typed there by mistake)',
    );
  }
  return value;
}

/** Prints a value as one JSON document. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

// Say what the user tried to do, not which system call failed.
const SYSCALL_VERBS: Readonly<Record<string, string>> = {
  open: 'open',
  stat: 'open',
  lstat: 'open',
  realpath: 'open',
  read: 'read',
  write: 'write',
};

const SYSTEM_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on device',
};

function isSystemError(
  error: unknown,
): error is Error & { code: string; syscall: string; path: string } {
  return (
    // Duck-typed: errors from Node's core may come from another realm (jest's vm).
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { syscall?: unknown }).syscall === 'string' &&
    typeof (error as { path?: unknown }).path === 'string'
  );
}

/** The one line an error becomes on stderr; the stack only with --debug. */
export function reportError(io: CliIo, error: unknown, debug: boolean): number {
  if (error instanceof OnssTransferError) {
    // A message may quote a server's reply or a listed name: control characters are escaped.
    io.stderr(
      `onss-transfer: ${displayText(error.message)}${error.message.includes(error.code) ? '' : ` [${error.code}]`}\n`,
    );
  } else if (isSystemError(error)) {
    // fs errors: say which file and why, in words, without Node's prefix.
    io.stderr(
      `onss-transfer: cannot ${SYSCALL_VERBS[error.syscall] ?? error.syscall} ${error.path}: ${SYSTEM_REASONS[error.code] ?? error.code}\n`,
    );
  } else {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`onss-transfer: unexpected failure: ${message}\n`);
  }
  if (debug && error instanceof Error) {
    io.stderr(`${error.stack ?? ''}\n`);
    if (error.cause instanceof Error)
      io.stderr(`caused by: ${error.cause.stack ?? error.cause.message}\n`);
  }
  // A bad option value (an unknown --folder, say) is a usage error too.
  const usage =
    error instanceof UsageError ||
    (error instanceof OnssTransferError && error.code === 'RULE_OPTIONS_INVALID');
  return usage ? EXIT.usage : EXIT.failed;
}

/** Runs a flag value parser; its refusal becomes a usage error (exit 2) naming the flag. */
export function asUsage<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof OnssTransferError) throw new UsageError(`${flag}: ${error.message}`);
    throw error;
  }
}

/**
 * Refuses an output path that is one of the inputs (the file to sign, the
 * key...): writing there would destroy it. Compares real paths, so links
 * and `./` spellings are caught too.
 */
export async function refuseOutputOverInput(
  output: string,
  inputs: ReadonlyArray<string | undefined>,
): Promise<void> {
  const target = await realOrResolved(output);
  for (const input of inputs) {
    if (input !== undefined && (await realOrResolved(input)) === target) {
      throw new UsageError(`--out ${output} is also an input: choose another output file`);
    }
  }
}

async function realOrResolved(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path); // does not exist yet: compare as spelled
  }
}

// C0/C1 controls and the bidirectional overrides that can make text read differently.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from outside (a certificate subject in a received signature) made safe
 * for a terminal: controls and bidi overrides escaped, accents kept.
 */
export function displayText(text: string): string {
  return text.replace(UNSAFE_TEXT, (char) => `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`);
}

/** Formats a date as YYYY-MM-DD for people. */
export function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

import { OnssTransferError } from '../shared/errors';

/** Where a command writes and what it may read: the process, or a test's capture. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
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
};

/**
 * Reads a secret from the environment variable the user named. Secrets never
 * come as flag values: those end up in shell histories and process lists.
 */
export function secretFromEnv(io: CliIo, variable: string | undefined): string | undefined {
  if (variable === undefined) return undefined;
  const value = io.env[variable];
  if (value === undefined) {
    throw new UsageError(
      `environment variable ${variable} is not set (named by --key-password-env)`,
    );
  }
  return value;
}

/** Prints a value as one JSON document. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

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
    io.stderr(
      `onss-transfer: ${error.message}${error.message.includes(error.code) ? '' : ` [${error.code}]`}\n`,
    );
  } else if (isSystemError(error)) {
    // fs errors: say which file and why, in words, without Node's prefix.
    io.stderr(
      `onss-transfer: cannot ${error.syscall} ${error.path}: ${SYSTEM_REASONS[error.code] ?? error.code}\n`,
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

/** Formats a date as YYYY-MM-DD for people. */
export function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

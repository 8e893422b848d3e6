/**
 * What every case of the hostile corpus checks the same way: that a failure is a typed error of
 * the project naming its problem, that a text shown to a person carries no raw control
 * character, and the fingerprints (bytes, folder contents) that tell "nothing was lost".
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { OnssTransferError } from '../../../shared/errors';
import { HOME_FOLDERS, type Simulator } from '../../../transfer-point';
import { ftpConnector, type TransportConnector } from '../../../shared/transport';

/** An error class of the project, to check a failure against. */
export type ErrorClass = abstract new (...args: never[]) => OnssTransferError;

/**
 * The error a promise rejects with (or a function throws), checked to be an instance of
 * `type` (never a bare Error or TypeError) with `code`, and a message matching `names`.
 * Resolves with it for further checks; fails the test when there is none.
 */
export async function typedFailure<E extends OnssTransferError>(
  attempt: Promise<unknown> | (() => unknown),
  type: abstract new (...args: never[]) => E,
  code: string,
  names: RegExp,
): Promise<E> {
  let caught: unknown;
  let failed = false;
  try {
    await (typeof attempt === 'function' ? attempt() : attempt);
  } catch (error) {
    caught = error;
    failed = true;
  }
  if (!failed) throw new Error(`expected a ${type.name} (${code}), but nothing failed`);
  expect(caught).toBeInstanceOf(type);
  const error = caught as E;
  expect(error.code).toBe(code);
  expect(error.message).toMatch(names);
  return error;
}

// C0 controls but the line feed, DEL, C1 controls, zero-width and bidirectional marks.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;

/** Checks that text meant for a terminal or a log holds nothing that could drive the terminal. */
export function expectPrintable(text: string): void {
  const found = UNSAFE.exec(text);
  expect(found === null ? 'none' : `U+${(found[0].codePointAt(0) ?? 0).toString(16)}`).toBe('none');
}

/** SHA-256 of a file's bytes, or `absent`: a fingerprint to compare before and after. */
export function fingerprint(path: string): string {
  if (!existsSync(path)) return 'absent';
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** SHA-256 of bytes, lower-case hex. */
export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every file of the simulator's home folders, `FOLDER/name`, sorted. */
export function simulatorFiles(simulator: Simulator): string[] {
  return HOME_FOLDERS.flatMap((folder) =>
    readdirSync(simulator.pathOf(folder)).map((name) => `${folder}/${name}`),
  ).sort();
}

/** A connector to the simulator with short retries: hostile cases must fail fast. */
export function simulatorConnector(simulator: Simulator): TransportConnector {
  return ftpConnector({
    host: simulator.host,
    port: simulator.port,
    user: simulator.user,
    password: simulator.password,
    connectRetry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
    operationRetry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
    timeoutMs: 5_000,
  });
}

/** Upload retries of the send pipeline, short for the same reason. */
export const QUICK_RETRY = { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 } as const;

/** The environment variable the CLI runs of the corpus take the FTP password from. */
export const PASSWORD_VARIABLE = 'FTP_PASSWORD';

/**
 * The CLI flags that reach `simulator` over FTP, the password taken from
 * PASSWORD_VARIABLE, with the ledger at `ledgerPath`.
 */
export function serverFlags(
  simulator: Pick<Simulator, 'host' | 'port' | 'user'>,
  ledgerPath: string,
): string[] {
  return [
    '--host',
    simulator.host,
    '--port',
    String(simulator.port),
    '--user',
    simulator.user,
    '--password-env',
    PASSWORD_VARIABLE,
    '--ledger',
    ledgerPath,
  ];
}

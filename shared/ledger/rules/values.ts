/** Checks of plain values every rule shares: hashes, ISO times, objects, booleans, text. */
import { LedgerRequestError } from '../errors';

const SHA256_HEX = /^[0-9a-f]{64}$/;
// Control characters never belong in a ticket; they would also break the CLI's table output.
export const CONTROL = /\p{Cc}/u;

/** A SHA-256 as 64 lower-case hex digits, or a LedgerRequestError. */
export function normalizeSha256(value: string): string {
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (!SHA256_HEX.test(lower)) {
    throw new LedgerRequestError(`${JSON.stringify(value)} is not a SHA-256 in hex`);
  }
  return lower;
}

/** An ISO time normalized to `toISOString()` form (so text order is time order), or throws. */
export function normalizeIso(value: string, what: string): string {
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new LedgerRequestError(`${what} ${JSON.stringify(value)} is not an ISO date and time`);
  }
  return new Date(time).toISOString();
}

/** Throws LedgerRequestError, naming `what`, unless the value is a non-null object. */
export function checkObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) {
    throw new LedgerRequestError(`${what} is not an object`);
  }
}

/** The value when it is true or false, else a LedgerRequestError naming `what`. */
export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') {
    throw new LedgerRequestError(`${what} ${JSON.stringify(value)} is not true or false`);
  }
  return value;
}

/** The value when it is a non-empty string, else a LedgerRequestError naming `what`. */
export function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new LedgerRequestError(`${what} ${JSON.stringify(value)} is not a non-empty string`);
  }
  return value;
}

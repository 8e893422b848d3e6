/** Leases of a live set: who is sending it right now, until when, and its renewal and release. */
import { LeaseLostError, LedgerRequestError } from '../errors';
import type { DeclarationRecord } from '../types';
import { stageOf } from './states';
import { CONTROL } from './values';

/** How long a claim's lease lasts when the caller does not say, in ms: two minutes. */
export const DEFAULT_LEASE_MS = 120_000;

/**
 * Longest lease the ledger grants, in ms: a day. A longer one would keep the set of a run that
 * died locked past any real upload, and is most likely a unit mistake (seconds for ms...).
 */
export const MAX_LEASE_MS = 86_400_000;

/** Longest owner token the ledger records (a UUID is 36 characters). */
export const MAX_OWNER_LENGTH = 128;

/**
 * Checks a lease owner token and returns it: a string of 1 to MAX_OWNER_LENGTH characters
 * without surrounding blanks or control characters. It is compared for equality on every call
 * about the set, so a stray space would lose the lease on the first renewal.
 */
export function validateOwner(owner: string): string {
  if (
    typeof owner !== 'string' ||
    owner.length === 0 ||
    owner.length > MAX_OWNER_LENGTH ||
    owner.trim() !== owner ||
    CONTROL.test(owner)
  ) {
    throw new LedgerRequestError(
      `lease owner ${JSON.stringify(owner)} is not 1 to ${MAX_OWNER_LENGTH} printable ` +
        'characters without surrounding blanks',
    );
  }
  return owner;
}

/**
 * Checks a lease duration and returns it, DEFAULT_LEASE_MS when undefined: a whole number of
 * ms from 1 to MAX_LEASE_MS.
 */
export function validateLeaseMs(leaseMs: number | undefined): number {
  if (leaseMs === undefined) return DEFAULT_LEASE_MS;
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_LEASE_MS) {
    throw new LedgerRequestError(
      `lease duration ${String(leaseMs)} is not a whole number of ms from 1 to ${MAX_LEASE_MS}`,
    );
  }
  return leaseMs;
}

/** The end of a lease taken at `now` (ISO) for `leaseMs`, as ISO. */
export function leaseEndOf(now: string, leaseMs: number): string {
  return new Date(Date.parse(now) + leaseMs).toISOString();
}

/**
 * Whether a record's lease is still running at `now` (ISO): it has one and `leaseUntil > now`.
 * A lease ends at its `leaseUntil` exactly, and a record without a lease is held by nobody.
 */
export function isLeaseRunning(record: DeclarationRecord, now: string): boolean {
  return record.leaseUntil !== undefined && Date.parse(record.leaseUntil) > Date.parse(now);
}

/**
 * Throws LeaseLostError unless `owner` holds the lease of `record`: the set is live and its
 * owner is `owner`. An ended lease nobody took over still counts as held: only a claim takes a
 * set from its owner, in the same atomic write that gives it to the next one.
 */
export function checkLeaseHolder(record: DeclarationRecord, owner: string): void {
  if (stageOf(record.state) !== 'live' || record.owner !== owner) {
    throw new LeaseLostError(record);
  }
}

/**
 * Extends the lease of a live set its owner holds: `leaseUntil` becomes `now + leaseMs`
 * (default DEFAULT_LEASE_MS) and `updatedAt` now, so a conditional write on `updatedAt`
 * (DynamoDB) sees every change. Throws LeaseLostError when `owner` does not hold it (see
 * checkLeaseHolder), LedgerRequestError for a malformed owner or duration. Pure: returns the
 * record to write under the same condition as a transition.
 */
export function applyLeaseRenewal(
  current: DeclarationRecord,
  owner: string,
  leaseMs: number | undefined,
  now: string,
): DeclarationRecord {
  validateOwner(owner);
  const duration = validateLeaseMs(leaseMs);
  checkLeaseHolder(current, owner);
  return { ...current, leaseUntil: leaseEndOf(now, duration), updatedAt: now };
}

/**
 * Ends the lease of a live set its owner holds, at once: `owner` and `leaseUntil` are removed,
 * so the next claim of the source resumes the set without waiting for the lease to run out.
 * For a run that stops with its set still live (a network failure that outlasted the retries).
 * Throws as applyLeaseRenewal. Pure: returns the record to write.
 */
export function applyLeaseRelease(
  current: DeclarationRecord,
  owner: string,
  now: string,
): DeclarationRecord {
  validateOwner(owner);
  checkLeaseHolder(current, owner);
  return withoutLease({ ...current, updatedAt: now });
}

// A copy of the record without lease fields; the record given is not changed.
export function withoutLease(record: DeclarationRecord): DeclarationRecord {
  const copy = { ...record };
  delete copy.owner;
  delete copy.leaseUntil;
  return copy;
}

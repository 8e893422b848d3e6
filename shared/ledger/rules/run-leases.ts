/** Run leases: which run holds a kind of scheduled job (`pull`), and until when. */
import { LedgerRequestError } from '../errors';
import { leaseEndOf, validateLeaseMs, validateOwner } from './leases';

/** A run lease as stored: who holds the job `name` and until when (ISO 8601 UTC). */
export interface RunLease {
  name: string;
  owner: string;
  until: string;
}

// Lower-case words joined by dashes: the name of a kind of job (`pull`), never user data.
const RUN_LEASE_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** Checks a run lease name: 1 to 64 lower-case letters, digits and dashes, a letter first. */
export function validateRunLeaseName(name: string): string {
  if (typeof name !== 'string' || !RUN_LEASE_NAME.test(name)) {
    throw new LedgerRequestError(
      `run lease name ${JSON.stringify(name)} is not 1 to 64 lower-case letters, digits or dashes`,
    );
  }
  return name;
}

/**
 * Decides a request for the run lease `name` at `now`: the lease to write when the caller gets
 * it (none held, the holder's ended, or the caller already holds it and renews), undefined when
 * another owner's lease still runs. Pure.
 */
export function decideRunLease(
  current: RunLease | undefined,
  request: { name: string; owner: string; leaseMs: number },
  now: string,
): RunLease | undefined {
  const name = validateRunLeaseName(request.name);
  const owner = validateOwner(request.owner);
  const duration = validateLeaseMs(request.leaseMs);
  if (
    current !== undefined &&
    current.owner !== owner &&
    Date.parse(current.until) > Date.parse(now)
  ) {
    return undefined;
  }
  return { name, owner, until: leaseEndOf(now, duration) };
}

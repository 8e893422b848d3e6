import { randomUUID } from 'node:crypto';
import { OnssTransferError } from '../errors';
import type { Ledger } from '../ledger';

/** Another run of the same job holds its run lease: this one did nothing. */
export class RunInProgressError extends OnssTransferError {
  constructor(name: string) {
    super(`another ${name} run is in progress: this one did nothing`, {
      code: 'RUN_IN_PROGRESS',
    });
  }
}

/** The run lease every pull takes, so two pulls never work the same folders at once. */
export const PULL_RUN_LEASE = 'pull';

/**
 * The run lease of a pull of `channel`'s account (`pull-<channel>`), PULL_RUN_LEASE without
 * one: each account's pull runs on its own, one channel's slow or failing run never holding up
 * another's.
 */
export function pullRunLease(channel?: string): string {
  return channel === undefined ? PULL_RUN_LEASE : `${PULL_RUN_LEASE}-${channel}`;
}

/**
 * Runs `work` while holding the ledger's run lease `name`, then releases it, whatever `work`
 * did. Throws RunInProgressError, without calling `work`, while another owner holds it.
 * `leaseMs` must outlast the longest run (a Lambda's timeout): a run that dies keeps the lease
 * until then, and one that outlives it could overlap the next.
 */
export async function runExclusively<T>(
  ledger: Ledger,
  name: string,
  options: { leaseMs: number; owner?: string },
  work: () => Promise<T>,
): Promise<T> {
  const owner = options.owner ?? randomUUID();
  if (!(await ledger.acquireRunLease(name, owner, options.leaseMs))) {
    throw new RunInProgressError(name);
  }
  try {
    return await work();
  } finally {
    // A release that fails must not hide what the work did: the lease then simply runs out.
    await ledger.releaseRunLease(name, owner).catch(() => undefined);
  }
}

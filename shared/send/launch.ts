/**
 * The launch: the empty GO that makes the transfer point take a set, sent once. A run holds the
 * set's launch lease from the moment it records `launching` until it records `launched`, so
 * a second run never puts a GO beside the first run's. A run that died in between (after
 * `launching` was written, before or after its GO went out) leaves the set `launching`; the
 * next delivery of the same source finishes it: it takes the launch lease once the dead run's
 * has ended, looks at the upload folder, and puts the GO only when the set is still there,
 * complete, without one.
 */
import { Readable } from 'node:stream';
import type { DeclarationRecord, Ledger } from '../ledger';
import { DuplicateSourceError } from '../ledger';
import type { Transport } from '../transport';
import { SendError } from './errors';
import { remotePath, type SendPlan } from './plan';

/** How long a run may take between recording `launching` and recording `launched`. */
export const LAUNCH_LEASE_MS = 120_000;
/**
 * The wait before a second look at a set that shows no GO: a transfer point taking a set away
 * may remove its GO before its parts, and one look could mistake that for a GO never sent.
 */
export const LAUNCH_RECHECK_MS = 1_000;

/**
 * The run lease that guards the launch of set `setId`: `launch-dmfa-123456-20261125-00001-t`
 * (run lease names are lower case, digits and dashes; a set id's fields never hold a dash).
 */
export function launchLease(setId: string): string {
  return `launch-${setId.toLowerCase().replace(/[^a-z0-9]/g, '-')}`;
}

/**
 * Takes the launch lease of set `setId` for `owner` and resolves with its name; throws
 * LaunchInProgressError while another run holds it.
 */
export async function takeLaunchLease(
  ledger: Ledger,
  setId: string,
  owner: string,
): Promise<string> {
  const lease = launchLease(setId);
  if (!(await ledger.acquireRunLease(lease, owner, LAUNCH_LEASE_MS))) {
    throw new LaunchInProgressError(setId);
  }
  return lease;
}

/** Another run is launching the set (or died doing it and its lease has not ended yet). */
export class LaunchInProgressError extends SendError {
  constructor(setId: string) {
    super(
      `${setId} is being launched by another run (or one that stopped while launching, whose ` +
        'lease has not ended yet): try again later',
      { code: 'LAUNCH_IN_PROGRESS' },
    );
  }
}

/**
 * Uploads the empty GO, once. The transport retries a put only while nothing was sent; a
 * failure after that leaves it unknown whether the GO arrived, so it is looked for on the
 * server; when it cannot be seen the failure is GO_UNCERTAIN and the set stays `launching`,
 * for {@link finishLaunch} to settle on the next delivery.
 */
export async function putGo(transport: Transport, plan: SendPlan): Promise<void> {
  const goPath = remotePath(plan, plan.go);
  try {
    await transport.put(Readable.from([]), goPath);
  } catch (error) {
    const present = await transport.size(goPath).catch(() => undefined);
    if (present !== undefined) return; // it arrived; only the reply was lost
    throw new SendError(
      `the GO of ${plan.setId} may or may not have reached the server ` +
        `(${(error as Error).message}); the next delivery looks again before sending it`,
      { code: 'GO_UNCERTAIN', cause: error },
    );
  }
}

/**
 * Whether the GO of a `launching` set went out, as the upload folder shows it: its GO is
 * there (`out`), or its files are no longer all there with the sizes sent, since only the
 * transfer point takes a set away and it does so after a GO (`out`), or the set is complete
 * without a GO (`absent`).
 */
async function goSeen(
  transport: Transport,
  plan: SendPlan,
  record: DeclarationRecord,
): Promise<'out' | 'absent'> {
  const listing = new Map((await transport.list(plan.folder)).map((e) => [e.name, e.size]));
  if (listing.has(plan.go)) return 'out';
  const sent = record.files.filter((file) => file.role !== 'GO');
  return sent.every((file) => listing.get(file.name) === file.size) ? 'absent' : 'out';
}

/** What {@link finishLaunch} needs. */
export interface FinishLaunchInput {
  ledger: Ledger;
  /** The set as the claim found it, `launching`. */
  record: DeclarationRecord;
  /** Its plan, read back from the record. */
  plan: SendPlan;
  transport: () => Promise<Transport>;
  owner: string;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Finishes a set a dead run left `launching`: under the set's launch lease (else
 * LaunchInProgressError), and only while it is still `launching` (else DuplicateSourceError:
 * an answer settled it), puts its GO when the server shows none beside the complete set (two
 * looks, LAUNCH_RECHECK_MS apart), then records it `launched`. Resolves with the record.
 */
export async function finishLaunch(input: FinishLaunchInput): Promise<DeclarationRecord> {
  const { ledger, plan, owner } = input;
  const lease = await takeLaunchLease(ledger, plan.setId, owner);
  try {
    const current = (await ledger.get(plan.setId)) ?? input.record;
    if (current.state !== 'launching') throw new DuplicateSourceError(current);
    const transport = await input.transport();
    if ((await goSeen(transport, plan, current)) === 'absent') {
      await input.sleep(LAUNCH_RECHECK_MS);
      if ((await goSeen(transport, plan, current)) === 'absent') await putGo(transport, plan);
    }
    return await markLaunched(ledger, current, plan, input.now());
  } finally {
    await ledger.releaseRunLease(lease, owner).catch(() => undefined);
  }
}

/** Records a `launching` set as `launched`, its GO among its files. */
export function markLaunched(
  ledger: Ledger,
  record: Pick<DeclarationRecord, 'id' | 'files'>,
  plan: SendPlan,
  at: Date,
): Promise<DeclarationRecord> {
  const files = record.files.filter((file) => file.role !== 'GO');
  return ledger.transition(record.id, 'launching', 'launched', {
    launchedAt: at.toISOString(),
    files: [...files, { name: plan.go, size: 0, role: 'GO' }],
  });
}

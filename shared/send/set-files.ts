/** The set's files on the server: checked before the GO, removed when the set is abandoned. */
import { OnssTransferError } from '../errors';
import type { Ledger, SentFile } from '../ledger';
import { isTransientTransportError, type Transport } from '../transport';
import { RemoteSizeMismatchError, SendError } from './errors';
import { remotePath, type SendPlan } from './plan';
import type { SendContext, SendEvent, SendRequest } from './send-types';

/**
 * One listing of the upload folder before the GO: every FI and FS is there
 * with the size sent, and no other file carries the set's name (a leftover
 * of an earlier plan would make the reception refuse the set, 121 or 123).
 */
export async function confirmSet(
  transport: Transport,
  plan: SendPlan,
  files: SentFile[],
  emit: (event: SendEvent) => void,
): Promise<void> {
  const expected = new Set(files.map((file) => file.name));
  const listing = await transport.list(plan.folder);
  for (const entry of listing) {
    if (belongsToSet(entry.name, plan.setId) && !expected.has(entry.name)) {
      if (entry.name.startsWith('GO.')) {
        throw new SendError(`${entry.name} is already on the server: not launching twice`, {
          code: 'GO_ALREADY_PRESENT',
        });
      }
      await transport.delete(remotePath(plan, entry.name));
      emit({ type: 'cleanup', name: entry.name });
    }
  }
  const listed = new Map(listing.map((e) => [e.name, e.size]));
  for (const file of files) {
    const size = listed.get(file.name);
    if (size !== file.size) throw new RemoteSizeMismatchError(file.name, file.size, size);
  }
}

/** Whether a file name is an FI, FS, GO or TD of the set (any part count). */
function belongsToSet(name: string, setId: string): boolean {
  return ['FI', 'FS', 'GO', 'TD'].some((prefix) => name.startsWith(`${prefix}.${setId}.`));
}

/**
 * Removes every FI and FS of a set from the upload folder, whatever its plan
 * was; returns the names that could not be removed. A GO is never removed.
 */
async function removeSetFiles(
  transport: Transport,
  folder: string,
  setId: string,
  emit: (event: SendEvent) => void,
): Promise<string[]> {
  const leftovers: string[] = [];
  let listing: Array<{ name: string }>;
  try {
    listing = await transport.list(folder);
  } catch {
    return [`(the files of ${setId}: the folder could not be listed)`];
  }
  for (const { name } of listing) {
    if (!belongsToSet(name, setId) || name.startsWith('GO.')) continue;
    try {
      if (await transport.delete(`${folder}/${name}`)) emit({ type: 'cleanup', name });
    } catch {
      leftovers.push(name);
    }
  }
  return leftovers;
}

function describeLeftovers(leftovers: string[]): string {
  return leftovers.length === 0
    ? '; its files were removed'
    : `; these files could not be removed and are still on the server: ${leftovers.join(', ')}`;
}

/**
 * After a failure before GO: a refusal of the declaration itself removes the
 * set's files from the server (whatever plan put them there) and records the
 * reason, naming any file that could not be removed; a transport failure
 * leaves the set `uploading` for a resume. Only while this run still holds
 * the lease (renewed first, so it lasts through the removal): the files of a
 * set another run took over are that run's.
 */
export async function abandon(
  error: unknown,
  ledger: Ledger,
  transport: Transport,
  plan: SendPlan,
  owner: string,
  emit: (event: SendEvent) => void,
): Promise<void> {
  if (isTransientTransportError(error) || !(error instanceof OnssTransferError)) return;
  try {
    const record = await ledger.renewLease(plan.setId, owner);
    if (record.state !== 'uploading') return;
    const leftovers = await removeSetFiles(transport, plan.folder, plan.setId, emit);
    const message = `${error.message}${describeLeftovers(leftovers)}`;
    await ledger.transition(
      plan.setId,
      'uploading',
      'failed',
      { failure: { code: error.code, message } },
      { owner },
    );
    emit({ type: 'abandoned', setId: plan.setId, code: error.code, message });
  } catch {
    // The original failure is what the caller must see; the set stays resumable.
  }
}

/**
 * A source sent again after it changed (a new version of the same path or
 * key) while an older version's set is still unlaunched: the older set's
 * files are removed from the server and it is recorded as failed, so no
 * orphan parts are left for the transfer point to answer with 130.
 */
export async function retireOlderVersions(
  request: SendRequest,
  context: SendContext,
  session: { get: () => Promise<Transport> },
  emit: (event: SendEvent) => void,
): Promise<void> {
  const { identity } = request.source;
  const live = await context.ledger.list({ state: ['planned', 'uploading'] });
  for (const older of live) {
    const sameSource = older.source.kind === identity.kind && older.source.id === identity.id;
    if (!sameSource || older.source.version === identity.version) continue;
    const leftovers = await removeSetFiles(await session.get(), older.folder, older.id, emit);
    await context.ledger.transition(older.id, older.state, 'failed', {
      failure: {
        code: 'SOURCE_REPLACED',
        message: `a newer version of ${identity.id} was sent${describeLeftovers(leftovers)}`,
      },
    });
  }
}

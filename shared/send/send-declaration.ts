/**
 * The send pipeline's entry point: plan and claim the set, upload its parts (upload-parts.ts),
 * confirm them on the server (set-files.ts), then launch it with its GO (launch.ts). The
 * request and context types live in send-types.ts.
 */
import { randomUUID } from 'node:crypto';
import type { ClaimResult, DeclarationRecord, Ledger, SentFile } from '../ledger';
import { DuplicateSourceError, LeaseLostError } from '../ledger';
import { DEFAULT_RETRY_OPTIONS, type Transport, type TransportConnector } from '../transport';
import { isResend, planFromRecord, plannedFiles, requireMaterial, resolveKey } from './claim-plan';
import { ChannelSenderError, DuplicateContentError, SetCancelledError } from './errors';
import { finishLaunch, markLaunched, putGo, takeLaunchLease } from './launch';
import { planDeclaration, type SendPlan } from './plan';
import { abandon, confirmSet, retireOlderVersions } from './set-files';
import type { SendContext, SendEvent, SendRequest, SendResult } from './send-types';
import { uploadParts } from './upload-parts';

/**
 * Sends one declaration: plan, claim in the ledger, then in one pass over
 * the source upload each FI part while it is hashed and checked, upload its
 * FS made from that digest, confirm every size on the server, and only then
 * upload the empty GO. GO is the commit point: a content refusal (102, 158,
 * 138), a changed source or a duplicate content removes the uploaded parts
 * and records the failure; nothing half-sent is ever launched, and a set
 * whose GO may have left is never sent again. A transient network failure
 * that outlasts the retries leaves the set `uploading`: the next run of the
 * same source resumes it under the same names.
 *
 * Each call is one run with its own lease token: the claim leases the set to
 * it, every state change is made as its owner, the lease is renewed on a
 * timer while uploading and once more before the GO, and ownership is checked
 * before each part. A run of the same source that starts while the
 * lease runs is refused (SEND_IN_PROGRESS); a run whose lease was taken over
 * stops (LEASE_LOST) before touching the set again. A run that stops with its
 * set still live releases the lease, so the next run resumes it at once.
 */
export async function sendDeclaration(
  request: SendRequest,
  context: SendContext,
): Promise<SendResult> {
  const started = Date.now();
  const now = context.now ?? (() => new Date());
  const emit = context.onEvent ?? (() => undefined);
  const { ledger } = context;
  const { channel } = request;
  if (channel !== undefined && request.declaration.sender !== channel.sender) {
    throw new ChannelSenderError(request.declaration.sender, channel);
  }
  const key = await resolveKey(request, ledger, now());
  const plan = planDeclaration(request.source.size, key, request.plan);
  requireMaterial(plan, context, now());
  const session = lazySession(context.connector);
  // This run's lease token: the ledger lets only its holder move the set or renew its lease.
  const owner = randomUUID();
  try {
    await retireOlderVersions(request, context, session, emit);
    let claim: ClaimResult;
    try {
      claim = await ledger.claim(
        {
          key: plan.key,
          nparts: plan.nparts,
          folder: plan.folder,
          source: request.source.identity,
          files: plannedFiles(plan),
          ...(request.resendOf === undefined ? {} : { resendOf: request.resendOf }),
          ...(channel === undefined ? {} : { channel: channel.name }),
        },
        // Only an explicit `resend` sends a source the ledger counts as sent again: a resend link
        // alone (a new object put under resend/) is a new source, and its repeated delivery must
        // stay refused as a duplicate.
        { owner, resend: request.resend ?? false },
      );
    } catch (error) {
      // A run that died while launching left the set `launching`: finish it, GO at most once.
      if (error instanceof DuplicateSourceError && error.existing.state === 'launching') {
        return await relaunch(error.existing, request, context, session, owner, started, emit);
      }
      throw error;
    }
    const setId = claim.record.id;
    try {
      return await sendClaimed(request, context, claim, plan, owner, session, started, emit);
    } catch (error) {
      // A set left live (a network failure, a refusal before the parts were removed) is free
      // for the next run at once; one that moved on, or that another run holds, is not ours.
      await ledger.releaseLease(setId, owner).catch(() => undefined);
      // An operator's cancel during the run ends it at its next ledger step: say so, rather
      // than the lease or state conflict it shows as.
      const now = await ledger.get(setId).catch(() => undefined);
      if (now?.state === 'cancelled') throw new SetCancelledError(now, error);
      throw error;
    }
  } finally {
    await session.close();
  }
}

// A third of the ledger's default lease (120 s): two renewals may fail before it runs out.
const LEASE_HEARTBEAT_MS = 40_000;

/** The send after a successful claim: upload, confirm, launch, all as the lease's owner. */
async function sendClaimed(
  request: SendRequest,
  context: SendContext,
  claim: ClaimResult,
  planned: SendPlan,
  owner: string,
  session: { get: () => Promise<Transport> },
  started: number,
  emit: (event: SendEvent) => void,
): Promise<SendResult> {
  const { ledger } = context;
  const now = context.now ?? (() => new Date());
  let plan = planned;
  if (claim.resumed) {
    // A resumed set keeps its own names, part size and signing, whatever today's flags say:
    // its files may already be on the server.
    plan = planFromRecord(claim.record, request);
    requireMaterial(plan, context, now());
  }
  const asOwner = { owner };
  let lost: unknown;
  // Throws LeaseLostError when another run took the set over: stop before touching it again.
  const renew = async (): Promise<void> => {
    await ledger.renewLease(plan.setId, owner);
  };
  // Before each part: a read, not a write (each ledger write is an fsync, ~0.1 s here). The
  // timer below renews the lease; this only makes sure no other run has taken the set over.
  const stillOwner = async (): Promise<void> => {
    if (lost !== undefined) throw lost;
    const current = await ledger.get(plan.setId);
    if (current !== undefined && current.owner !== owner) throw new LeaseLostError(current);
  };
  emit({ type: 'planned', plan, resumed: claim.resumed });
  await ledger.transition(plan.setId, ['planned', 'uploading'], 'uploading', undefined, asOwner);
  const transport = await session.get();
  // A part of 200 MB on a slow line outlasts a lease: renew it on a timer while uploading,
  // and remember a loss so that this run stops before the GO.
  const heartbeat = setInterval(() => {
    renew().catch((error: unknown) => {
      lost ??= error;
    });
  }, LEASE_HEARTBEAT_MS);
  heartbeat.unref();
  let uploaded: { files: SentFile[]; sha256: string };
  try {
    uploaded = await uploadParts(request, context, transport, plan, stillOwner, emit);
    await request.source.assertUnchanged();
    await refuseDuplicateContent(ledger, plan, uploaded.sha256, isResend(request));
    await confirmSet(transport, plan, uploaded.files, emit);
  } catch (error) {
    clearInterval(heartbeat);
    await abandon(error, ledger, transport, plan, owner, emit);
    throw error;
  }
  clearInterval(heartbeat);
  if (lost !== undefined) throw lost;
  await renew();
  // The launch lease covers `launching` to `launched`: a run finishing a set it finds
  // `launching` (this one's, had it died) waits for it, so no second GO can join this one.
  const lease = await takeLaunchLease(ledger, plan.setId, owner);
  await ledger.transition(
    plan.setId,
    'uploading',
    'launching',
    {
      sourceSha256: uploaded.sha256,
      sourceSize: request.source.size,
      files: uploaded.files,
    },
    asOwner,
  );
  await putGo(transport, plan);
  const record = await markLaunched(ledger, { id: plan.setId, files: uploaded.files }, plan, now());
  await ledger.releaseRunLease(lease, owner).catch(() => undefined);
  emit({ type: 'launched', go: plan.go });
  return {
    record,
    plan,
    resumed: claim.resumed,
    sha256: uploaded.sha256,
    durationMs: Date.now() - started,
  };
}

/** Finishes a set a dead run left `launching` (see finishLaunch), as this run's result. */
async function relaunch(
  existing: DeclarationRecord,
  request: SendRequest,
  context: SendContext,
  session: { get: () => Promise<Transport> },
  owner: string,
  started: number,
  emit: (event: SendEvent) => void,
): Promise<SendResult> {
  const plan = planFromRecord(existing, request);
  const record = await finishLaunch({
    ledger: context.ledger,
    record: existing,
    plan,
    transport: session.get,
    owner,
    now: context.now ?? (() => new Date()),
    sleep: context.retry?.sleep ?? DEFAULT_RETRY_OPTIONS.sleep,
  });
  emit({ type: 'launched', go: plan.go });
  return {
    record,
    plan,
    resumed: true,
    sha256: record.sourceSha256 ?? '',
    durationMs: Date.now() - started,
  };
}

/** A transport session opened on first use, so refusals before any transfer open none. */
function lazySession(connector: TransportConnector): {
  get: () => Promise<Transport>;
  close: () => Promise<void>;
} {
  let opening: Promise<Transport> | undefined;
  return {
    get: () => (opening ??= connector.connect()),
    close: async () => {
      if (opening) await (await opening.catch(() => undefined))?.close();
    },
  };
}

/** Refuses content already launched under another set, unless resending. */
async function refuseDuplicateContent(
  ledger: Ledger,
  plan: SendPlan,
  sha256: string,
  resend: boolean,
): Promise<void> {
  if (resend) return;
  const earlier = (await ledger.findLaunchedBySha256(sha256)).find((r) => r.id !== plan.setId);
  if (earlier) throw new DuplicateContentError(plan.setId, earlier.id);
}

import { createHash, randomUUID } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { ContentRuleError, InspectionShortError } from '../content';
import { OnssTransferError } from '../errors';
import type { ClaimResult, DeclarationRecord, Ledger, SentFile } from '../ledger';
import { DuplicateSourceError, LeaseLostError, STATE_STAGES } from '../ledger';
import { MAX_FILE_BYTES, todayInBrussels, type DeclarationKey, type Environment } from '../names';
import {
  checkMaterial,
  DEFAULT_DIGEST,
  DIGEST_ALGORITHMS,
  signDigest,
  type DigestAlgorithm,
  type FsFormat,
  type SigningMaterial,
} from '../signing';
import {
  DEFAULT_RETRY_OPTIONS,
  isTransientTransportError,
  retry,
  type RetryOptions,
  type Transport,
  type TransportConnector,
} from '../transport';
import { ByteTap } from './byte-tap';
import { finishLaunch, markLaunched, putGo, takeLaunchLease } from './launch';
import {
  DuplicateContentError,
  RemoteSizeMismatchError,
  SendError,
  SigningMaterialRequiredError,
} from './errors';
import {
  planDeclaration,
  remotePath,
  type PlanOptions,
  type PlannedPart,
  type SendPlan,
} from './plan';
import type { DeclarationSource } from './source';
import { wholeSourceFor, type WholeSource } from './whole-source';

/** The declaration's name fields; the others come from the source and the plan. */
export interface DeclarationParams {
  app: string;
  sender: string;
  env: Environment;
  /** Five characters, or `next` (default) for the ledger's next free sequence. */
  seq?: string;
  /** YYYYMMDD; default today in Brussels. */
  date?: string;
}

/** What to send and how. */
export interface SendRequest {
  source: DeclarationSource;
  declaration: DeclarationParams;
  plan?: PlanOptions;
  digest?: DigestAlgorithm;
  fsFormat?: FsFormat;
  /** Send a source or a name the ledger counts as sent (an operator's explicit choice). */
  resend?: boolean;
}

/** Progress and milestones, for a progress bar or a log. */
export type SendEvent =
  | { type: 'planned'; plan: SendPlan; resumed: boolean }
  | { type: 'progress'; name: string; bytes: number; total: number }
  | { type: 'sent'; name: string; size: number }
  | { type: 'retry'; name: string; attempt: number; delayMs: number; reason: string }
  | { type: 'cleanup'; name: string }
  | { type: 'launched'; go: string };

/** The ports and settings the pipeline runs with. */
export interface SendContext {
  ledger: Ledger;
  connector: TransportConnector;
  /** Needed when the plan is signed (R always; T/S per setting). */
  material?: SigningMaterial;
  now?: () => Date;
  onEvent?: (event: SendEvent) => void;
  /** Retries of one file's upload on transient failures. */
  retry?: Partial<RetryOptions>;
}

/** The outcome of a send that launched its declaration. */
export interface SendResult {
  record: DeclarationRecord;
  plan: SendPlan;
  resumed: boolean;
  sha256: string;
  durationMs: number;
}

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
        },
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
    await refuseDuplicateContent(ledger, plan, uploaded.sha256, request.resend ?? false);
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

function requireMaterial(plan: SendPlan, context: SendContext, now: Date): void {
  if (!plan.signed) return;
  if (context.material === undefined) throw new SigningMaterialRequiredError(plan.setId);
  checkMaterial(context.material, now); // refuse expired or weak material before sending
}

/** The plan a resumed set was claimed with, read back from its recorded files. */
function planFromRecord(record: DeclarationRecord, request: SendRequest): SendPlan {
  const parts = record.files.filter((file) => file.role === 'FI');
  const signed = record.files.some((file) => file.role === 'FS');
  const partSize = record.nparts > 1 ? (parts[0] as SentFile).size : MAX_FILE_BYTES;
  const plan = planDeclaration(request.source.size, record.key, {
    ...request.plan,
    partSize,
    signFor: { T: signed, S: signed },
  });
  if (plan.nparts !== record.nparts || plan.signed !== signed) {
    throw new SendError(
      `${record.id} was started with ${record.nparts} part(s); the source no longer fits that plan`,
      { code: 'RESUME_PLAN_MISMATCH' },
    );
  }
  return plan;
}

/**
 * A source sent again after it changed (a new version of the same path or
 * key) while an older version's set is still unlaunched: the older set's
 * files are removed from the server and it is recorded as failed, so no
 * orphan parts are left for the transfer point to answer with 130.
 */
async function retireOlderVersions(
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

/** The key to send under: explicit, the live set of this source (resume), or the next sequence. */
async function resolveKey(
  request: SendRequest,
  ledger: Ledger,
  now: Date,
): Promise<DeclarationKey> {
  const { app, sender, env } = request.declaration;
  const date = request.declaration.date ?? todayInBrussels(now);
  const seq = request.declaration.seq ?? 'next';
  if (seq !== 'next') return { app, sender, date, seq, env };
  const previous = await ledger.findBySource(request.source.identity);
  const stage = previous ? STATE_STAGES[previous.state] : undefined;
  // A live set of this source resumes under its own names; a committed one is refused by the
  // claim (unless resending): either way no new sequence is spent.
  if (previous && (stage === 'live' || (stage === 'committed' && !request.resend))) {
    return previous.key;
  }
  return { app, sender, date, seq: await ledger.nextSequence(sender, date, env), env };
}

function plannedFiles(plan: SendPlan): SentFile[] {
  return [
    ...plan.parts.flatMap((part): SentFile[] => [
      { name: part.fi, size: part.size, role: 'FI' },
      ...(part.fs ? [{ name: part.fs, size: 0, role: 'FS' } as const] : []),
    ]),
    { name: plan.go, size: 0, role: 'GO' },
  ];
}

async function uploadParts(
  request: SendRequest,
  context: SendContext,
  transport: Transport,
  plan: SendPlan,
  assertOwner: () => Promise<void>,
  emit: (event: SendEvent) => void,
): Promise<{ files: SentFile[]; sha256: string }> {
  const algorithm = request.digest ?? DEFAULT_DIGEST;
  // With one part signed in SHA-256, the part's digest is the source's: no second hash.
  const partIsWhole = plan.nparts === 1 && algorithm === 'sha256';
  const whole = wholeSourceFor(request.source, plan.key.app, !partIsWhole);
  // The second session, for the parts of even rank, opened when the second part starts.
  let second: Promise<Transport> | undefined;
  try {
    return await uploadEachPart(
      request,
      context,
      { first: transport, second: () => (second ??= context.connector.connect()) },
      plan,
      whole,
      algorithm,
      assertOwner,
      emit,
    );
  } catch (error) {
    // A refusal of bytes read apart from the upload's may be of another version of the file.
    if (error instanceof ContentRuleError || error instanceof InspectionShortError) {
      await request.source.assertUnchanged();
    }
    throw error;
  } finally {
    await whole.destroy();
    await (await second?.catch(() => undefined))?.close();
  }
}

/** One part's outcome: its FI (and FS) as sent, and its digest in hex. */
interface PartSent {
  files: SentFile[];
  hex: string;
}

/**
 * Uploads every part, each FI then its FS, on two sessions taken in turn:
 * part k+1 starts on the other session as soon as part k's bytes are all
 * read, while the server closes part k's file and its FS goes up (on vsftpd
 * a close costs tens of milliseconds a part). One part at a time per
 * session; a failure waits for the other part in flight to settle before it
 * is reported, so nothing is uploaded behind the removal of the set's files.
 */
async function uploadEachPart(
  request: SendRequest,
  context: SendContext,
  sessions: { first: Transport; second: () => Promise<Transport> },
  plan: SendPlan,
  whole: WholeSource,
  algorithm: DigestAlgorithm,
  assertOwner: () => Promise<void>,
  emit: (event: SendEvent) => void,
): Promise<{ files: SentFile[]; sha256: string }> {
  const uploads: Promise<PartSent>[] = [];
  try {
    for (const [index, part] of plan.parts.entries()) {
      if (index >= 2) await uploads[index - 2]; // its session is free again
      await assertOwner(); // a run that lost the set uploads nothing more over another run's parts
      const transport = index % 2 === 0 ? sessions.first : await sessions.second();
      let read: () => void = () => undefined;
      const allRead = new Promise<void>((resolve) => (read = resolve));
      const upload = uploadPartAndSignature({
        request,
        context,
        transport,
        plan,
        part,
        whole,
        algorithm,
        emit,
        allRead: read,
      });
      upload.catch(() => undefined); // awaited below, in order
      uploads.push(upload);
      await Promise.race([allRead, upload]);
    }
    const sent = await Promise.all(uploads);
    const sha256 = (await whole.finish()) ?? (sent[sent.length - 1] as PartSent).hex;
    return { files: sent.flatMap((part) => part.files), sha256 };
  } catch (error) {
    await Promise.allSettled(uploads);
    throw error;
  }
}

/** One part's upload: what it sends, where, and who sees its bytes. */
interface PartJob {
  request: SendRequest;
  context: SendContext;
  /** The session this part goes up on. */
  transport: Transport;
  plan: SendPlan;
  part: PlannedPart;
  whole: WholeSource;
  algorithm: DigestAlgorithm;
  emit: (event: SendEvent) => void;
  /** Called once every byte of the FI was read (the next part may start). */
  allRead: () => void;
}

/** One part: its FI, then the FS made from the FI's digest, on one session. */
async function uploadPartAndSignature(job: PartJob): Promise<PartSent> {
  const { request, context, transport, plan, part, algorithm, emit } = job;
  const digest = await uploadPart(job);
  const files: SentFile[] = [
    {
      name: part.fi,
      size: part.size,
      role: 'FI',
      ...(digest.sha256 ? { sha256: digest.sha256 } : {}),
    },
  ];
  if (part.fs) {
    const signed = await signDigest(
      { algorithm, digest: digest.raw, size: part.size },
      context.material as SigningMaterial,
      {
        ...(request.fsFormat ? { format: request.fsFormat } : {}),
        now: (context.now ?? (() => new Date()))(),
      },
    );
    const bytes = Buffer.from(signed.fs, 'latin1');
    await putWithRetry(
      context,
      transport,
      plan,
      part.fs,
      () => Readable.from([bytes]),
      bytes.length,
      emit,
    );
    files.push({ name: part.fs, size: bytes.length, role: 'FS' });
  }
  return { files, hex: digest.hex };
}

interface PartDigest {
  raw: Buffer;
  hex: string;
  /** SHA-256 of the part, when the part's digest algorithm is SHA-256. */
  sha256: string | undefined;
}

async function uploadPart(job: PartJob): Promise<PartDigest> {
  const { request, context, transport, plan, part, whole, algorithm, emit, allRead } = job;
  let digest: PartDigest | undefined;
  await putWithRetry(
    context,
    transport,
    plan,
    part.fi,
    () => {
      // Each attempt reads the part again and hashes it afresh.
      const hash = createHash(DIGEST_ALGORITHMS[algorithm].node);
      let offset = part.start;
      const tap = new ByteTap((chunk) => {
        hash.update(chunk);
        const pending = whole.see(chunk, offset);
        offset += chunk.length;
        emit({ type: 'progress', name: part.fi, bytes: offset - part.start, total: part.size });
        return pending;
      });
      tap.on('end', () => {
        const raw = hash.digest();
        const hex = raw.toString('hex');
        digest = { raw, hex, sha256: algorithm === 'sha256' ? hex : undefined };
        allRead();
      });
      // pipeline() destroys the file stream too when the upload gives up on the tap.
      return pipeline(request.source.openRange(part.start, part.end), tap, () => undefined);
    },
    part.size,
    emit,
  );
  if (digest === undefined)
    throw new OnssTransferError(`${part.fi} was not read to its end`, { code: 'SOURCE_SHORT' });
  return digest;
}

/**
 * Uploads one file and checks its size on the server, retrying transient
 * failures with a fresh stream. A refusal by a consumer of the stream (the
 * content checker) is never retried: it is rethrown as it is.
 */
async function putWithRetry(
  context: SendContext,
  transport: Transport,
  plan: SendPlan,
  name: string,
  open: () => Readable,
  size: number,
  emit: (event: SendEvent) => void,
): Promise<void> {
  const path = remotePath(plan, name);
  await retry(
    async () => {
      const stream = open();
      try {
        await transport.put(stream, path);
      } catch (error) {
        throw consumerFailure(stream) ?? error;
      }
      const failure = consumerFailure(stream);
      if (failure) throw failure;
      const remote = await transport.size(path);
      if (remote !== size) throw new RemoteSizeMismatchError(name, size, remote);
    },
    {
      ...context.retry,
      isRetryable: (error) =>
        isTransientTransportError(error) || error instanceof RemoteSizeMismatchError,
      onRetry: (error, attempt, delayMs) =>
        emit({ type: 'retry', name, attempt, delayMs, reason: (error as Error).message }),
    },
  );
  emit({ type: 'sent', name, size });
}

function consumerFailure(stream: Readable): unknown {
  return stream instanceof ByteTap ? stream.failure : undefined;
}

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

/** One listing of the upload folder: every FI and FS is there with the size sent. */
/**
 * One listing of the upload folder before the GO: every FI and FS is there
 * with the size sent, and no other file carries the set's name (a leftover
 * of an earlier plan would make the reception refuse the set, 121 or 123).
 */
async function confirmSet(
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
async function abandon(
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
    await ledger.transition(
      plan.setId,
      'uploading',
      'failed',
      {
        failure: { code: error.code, message: `${error.message}${describeLeftovers(leftovers)}` },
      },
      { owner },
    );
  } catch {
    // The original failure is what the caller must see; the set stays resumable.
  }
}

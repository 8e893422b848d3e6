import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { DeclarationContentChecker } from '../content';
import { OnssTransferError } from '../errors';
import type { DeclarationRecord, Ledger, SentFile } from '../ledger';
import { STATE_STAGES } from '../ledger';
import { todayInBrussels, type DeclarationKey, type Environment } from '../names';
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
  isTransientTransportError,
  retry,
  type RetryOptions,
  type Transport,
  type TransportConnector,
} from '../transport';
import { BackgroundHash } from '../io/background-hash';
import { ByteTap } from './byte-tap';
import {
  DuplicateContentError,
  RemoteSizeMismatchError,
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

/** Consumers of the whole source, fed each byte exactly once even when a part is re-read. */
interface WholeSource {
  checker: DeclarationContentChecker;
  /**
   * SHA-256 of the whole source on a worker thread (the main thread hashes the parts),
   * unless the single part's own digest already is it.
   */
  hash: BackgroundHash | undefined;
  /** Offset up to which the source has been fed. */
  fed: number;
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
  let plan = planDeclaration(request.source.size, key, request.plan);
  if (plan.signed) {
    if (context.material === undefined) throw new SigningMaterialRequiredError(plan.setId);
    checkMaterial(context.material, now()); // refuse expired or weak material before sending
  }
  const claim = await ledger.claim(
    {
      key: plan.key,
      nparts: plan.nparts,
      folder: plan.folder,
      source: request.source.identity,
      files: plannedFiles(plan),
    },
    { resend: request.resend ?? false },
  );
  if (claim.record.id !== plan.setId)
    plan = planDeclaration(request.source.size, claim.record.key, request.plan);
  emit({ type: 'planned', plan, resumed: claim.resumed });
  let record = await ledger.transition(plan.setId, ['planned', 'uploading'], 'uploading');

  const transport = await context.connector.connect();
  try {
    const uploaded = await uploadParts(request, context, transport, plan, emit);
    await request.source.assertUnchanged();
    await refuseDuplicateContent(ledger, plan, uploaded.sha256, request.resend ?? false);
    await confirmSizes(transport, plan, uploaded.files);
    record = await ledger.transition(plan.setId, 'uploading', 'launching', {
      sourceSha256: uploaded.sha256,
      sourceSize: request.source.size,
      files: uploaded.files,
    });
    await launch(transport, plan, context);
    record = await ledger.transition(plan.setId, 'launching', 'launched', {
      launchedAt: now().toISOString(),
      files: [...uploaded.files, { name: plan.go, size: 0, role: 'GO' }],
    });
    emit({ type: 'launched', go: plan.go });
    return {
      record,
      plan,
      resumed: claim.resumed,
      sha256: uploaded.sha256,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    await abandon(error, ledger, transport, plan, emit);
    throw error;
  } finally {
    await transport.close();
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
  emit: (event: SendEvent) => void,
): Promise<{ files: SentFile[]; sha256: string }> {
  const algorithm = request.digest ?? DEFAULT_DIGEST;
  // With one part signed in SHA-256, the part's digest is the source's: no second hash.
  const partIsWhole = plan.nparts === 1 && algorithm === 'sha256';
  const whole: WholeSource = {
    checker: new DeclarationContentChecker(plan.key.app),
    hash: partIsWhole ? undefined : new BackgroundHash('sha256'),
    fed: 0,
  };
  try {
    return await uploadEachPart(request, context, transport, plan, whole, algorithm, emit);
  } finally {
    await whole.hash?.destroy();
  }
}

async function uploadEachPart(
  request: SendRequest,
  context: SendContext,
  transport: Transport,
  plan: SendPlan,
  whole: WholeSource,
  algorithm: DigestAlgorithm,
  emit: (event: SendEvent) => void,
): Promise<{ files: SentFile[]; sha256: string }> {
  const files: SentFile[] = [];
  let sha256 = '';
  for (const part of plan.parts) {
    const digest = await uploadPart(
      request,
      context,
      transport,
      plan,
      part,
      whole,
      algorithm,
      emit,
    );
    files.push({
      name: part.fi,
      size: part.size,
      role: 'FI',
      ...(digest.sha256 ? { sha256: digest.sha256 } : {}),
    });
    if (whole.hash === undefined) sha256 = digest.hex;
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
  }
  whole.checker.end(); // the last rules need the whole document (a missing end tag...)
  if (whole.hash) sha256 = (await whole.hash.digest()).toString('hex');
  return { files, sha256 };
}

interface PartDigest {
  raw: Buffer;
  hex: string;
  /** SHA-256 of the part, when the part's digest algorithm is SHA-256. */
  sha256: string | undefined;
}

async function uploadPart(
  request: SendRequest,
  context: SendContext,
  transport: Transport,
  plan: SendPlan,
  part: PlannedPart,
  whole: WholeSource,
  algorithm: DigestAlgorithm,
  emit: (event: SendEvent) => void,
): Promise<PartDigest> {
  let digest: PartDigest | undefined;
  await putWithRetry(
    context,
    transport,
    plan,
    part.fi,
    () => {
      // Each attempt reads the part again and hashes it afresh; the whole-source consumers
      // only see bytes past what they were already fed, so each byte reaches them once.
      const hash = createHash(DIGEST_ALGORITHMS[algorithm].node);
      let offset = part.start;
      const tap = new ByteTap((chunk) => {
        hash.update(chunk);
        const end = offset + chunk.length;
        let pending: Promise<void> | undefined;
        if (end > whole.fed) {
          const fresh = chunk.subarray(Math.max(0, whole.fed - offset));
          whole.checker.write(fresh);
          pending = whole.hash?.update(fresh);
          whole.fed = end;
        }
        offset = end;
        emit({ type: 'progress', name: part.fi, bytes: offset - part.start, total: part.size });
        return pending;
      });
      tap.on('end', () => {
        const raw = hash.digest();
        const hex = raw.toString('hex');
        digest = { raw, hex, sha256: algorithm === 'sha256' ? hex : undefined };
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
async function confirmSizes(
  transport: Transport,
  plan: SendPlan,
  files: SentFile[],
): Promise<void> {
  const listed = new Map((await transport.list(plan.folder)).map((e) => [e.name, e.size]));
  for (const file of files) {
    const size = listed.get(file.name);
    if (size !== file.size) throw new RemoteSizeMismatchError(file.name, file.size, size);
  }
}

/**
 * Uploads the empty GO. When its upload fails on the way, the GO may still
 * have arrived: it is retried only while the server shows no GO and still
 * holds the set's first FI (the transfer point removes a set it has taken).
 */
async function launch(transport: Transport, plan: SendPlan, context: SendContext): Promise<void> {
  const goPath = remotePath(plan, plan.go);
  const firstFi = remotePath(plan, (plan.parts[0] as PlannedPart).fi);
  await retry(
    async () => {
      try {
        await transport.put(Readable.from([]), goPath);
      } catch (error) {
        if (!isTransientTransportError(error)) throw error;
        if ((await transport.size(goPath)) !== undefined) return; // it arrived
        if ((await transport.size(firstFi)) === undefined) return; // the set was taken
        throw error;
      }
    },
    { ...context.retry, isRetryable: isTransientTransportError },
  );
}

/**
 * After a failure before GO: a refusal of the declaration itself removes the
 * uploaded parts and records the reason; a transport failure leaves the set
 * `uploading` for a resume. A failure once the GO may have left changes nothing.
 */
async function abandon(
  error: unknown,
  ledger: Ledger,
  transport: Transport,
  plan: SendPlan,
  emit: (event: SendEvent) => void,
): Promise<void> {
  const record = await ledger.get(plan.setId);
  if (record?.state !== 'uploading' || isTransientTransportError(error)) return;
  if (!(error instanceof OnssTransferError)) return; // an unknown failure: keep it resumable
  for (const part of plan.parts) {
    for (const name of part.fs ? [part.fi, part.fs] : [part.fi]) {
      try {
        if (await transport.delete(remotePath(plan, name))) emit({ type: 'cleanup', name });
      } catch {
        // Best effort: a part left without its GO is never processed by the transfer point.
      }
    }
  }
  await ledger.transition(plan.setId, 'uploading', 'failed', {
    failure: { code: error.code, message: error.message },
  });
}

/** The parts' upload: each FI hashed and checked on its way, then its FS, on two sessions. */
import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { ContentRuleError, InspectionShortError } from '../content';
import { OnssTransferError } from '../errors';
import type { SentFile } from '../ledger';
import {
  DIGEST_ALGORITHMS,
  DEFAULT_DIGEST,
  signDigest,
  type DigestAlgorithm,
  type SigningMaterial,
} from '../signing';
import type { Transport } from '../transport';
import { ByteTap } from './byte-tap';
import type { PlannedPart, SendPlan } from './plan';
import { putWithRetry } from './put-with-retry';
import type { SendContext, SendEvent, SendRequest } from './send-types';
import { wholeSourceFor, type WholeSource } from './whole-source';

/**
 * Uploads every part of the plan (FI, then its FS) while the whole source is checked and
 * hashed beside them; resolves with the files as sent and the source's SHA-256.
 */
export async function uploadParts(
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

/**
 * The verdict on the signatures of a stored response set: every data part (FO or CO) must come
 * with its FS (same name but for the prefix), each FS must verify as a detached CMS signature
 * of its part (streamed back from the store), and, when a trust is given, be made by a signer
 * the trust accepts.
 */
import { buffer } from 'node:stream/consumers';
import type { ResponseFile, ResponseRecord } from '../ledger';
import {
  checkAnswerSigner,
  hashStream,
  MAX_FS_BYTES,
  verifyDetached,
  type AnswerTrust,
  type TrustedSigner,
} from '../signing';
import type { ObjectStore } from '../store';

/** What the signatures of a set came to. */
export interface SignatureVerdict {
  signature: 'valid' | 'invalid' | 'missing';
  /** Why it is not valid; for a valid one checked against a trust, who signed it. */
  detail?: string;
  /** With a trust, the signer it accepted (that of the last part, when there are several). */
  signer?: TrustedSigner;
}

/** A detail kept in the ledger and quoted in events: a hostile certificate may be verbose. */
const MAX_DETAIL = 1_000;

function bounded(text: string): string {
  return text.length <= MAX_DETAIL ? text : `${text.slice(0, MAX_DETAIL - 1)}…`;
}

/** The part of a response file name after its prefix: `ACRF.999999.20261125.00001.T`. */
function suffixOf(file: ResponseFile): string {
  return file.name.slice(file.name.indexOf('.') + 1);
}

function describeSigner(signer: TrustedSigner): string {
  return signer.via === 'fingerprint'
    ? `signed by ${signer.subject}, a pinned certificate (SHA-256 ${signer.fingerprint})`
    : `signed by ${signer.subject} (SHA-256 ${signer.fingerprint}), which chains to ${signer.anchor ?? 'the CA bundle'}`;
}

/**
 * Checks every FS of a stored response set against its data part and, with `trust`, its
 * signer (at `at`). Never throws for what the files hold: a set without FS is `missing`, a part
 * without its FS, an FS without its part, one too large, one that does not verify or an
 * untrusted signer are `invalid`, each with a detail that names the file.
 */
export async function checkResponseSignatures(
  store: ObjectStore,
  record: ResponseRecord,
  trust: AnswerTrust | undefined,
  at: Date,
): Promise<SignatureVerdict> {
  const data = record.files.filter((f) => f.role === 'data');
  const signatures = record.files.filter((f) => f.role === 'signature');
  if (signatures.length === 0) {
    return { signature: 'missing', detail: 'the set came without an FS' };
  }
  const unsigned = data.find((part) => !signatures.some((fs) => suffixOf(fs) === suffixOf(part)));
  if (unsigned !== undefined) {
    return { signature: 'invalid', detail: bounded(`${unsigned.name} came without its FS`) };
  }
  let signer: TrustedSigner | undefined;
  for (const fs of signatures) {
    const part = data.find((candidate) => suffixOf(candidate) === suffixOf(fs));
    if (part === undefined || fs.size > MAX_FS_BYTES) {
      return {
        signature: 'invalid',
        detail: bounded(`${fs.name} matches no data part or is too large`),
      };
    }
    try {
      const content = await buffer(await store.open(fs.storeKey));
      await verifyDetached(
        content,
        async (algorithm) => hashStream(await store.open(part.storeKey), algorithm),
        at,
      );
      if (trust !== undefined) signer = checkAnswerSigner(content, trust, at);
    } catch (error) {
      return { signature: 'invalid', detail: bounded(`${fs.name}: ${(error as Error).message}`) };
    }
  }
  return signer === undefined
    ? { signature: 'valid' }
    : { signature: 'valid', detail: bounded(describeSigner(signer)), signer };
}

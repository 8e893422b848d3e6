import { createHash, type Hash } from 'node:crypto';
import { readFileChunks } from '../io/read-file-chunks';
import { DigestRefusedError } from './errors';

/** Digest algorithms the transfer point accepts: SHA-256 (default) or SHA-1 (deprecated). */
export const DIGEST_ALGORITHMS = {
  sha256: { node: 'sha256', webCrypto: 'SHA-256', oid: '2.16.840.1.101.3.4.2.1', bytes: 32 },
  sha1: { node: 'sha1', webCrypto: 'SHA-1', oid: '1.3.14.3.2.26', bytes: 20 },
} as const;

/** A digest algorithm name as used on the command line. */
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

/** The default digest: SHA-256, as the transfer point's current guidance asks. */
export const DEFAULT_DIGEST: DigestAlgorithm = 'sha256';

/**
 * Checks a digest name given by a user and returns it typed.
 * MD5 and anything unknown are refused with a {@link DigestRefusedError}.
 */
export function parseDigestAlgorithm(name: string): DigestAlgorithm {
  const lower = name.toLowerCase().replace('-', '');
  if (lower === 'sha256' || lower === 'sha1') return lower;
  if (lower === 'md5') {
    throw new DigestRefusedError('digest md5 is refused: the transfer point no longer accepts it');
  }
  throw new DigestRefusedError(`digest "${name}" is not supported: use sha256 (default) or sha1`);
}

/** Maps a digest OID found in a signature to our name; throws for MD5 and unknown ones. */
export function digestAlgorithmFromOid(oid: string): DigestAlgorithm {
  for (const [name, spec] of Object.entries(DIGEST_ALGORITHMS)) {
    if (spec.oid === oid) return name as DigestAlgorithm;
  }
  if (oid === '1.2.840.113549.2.5') {
    throw new DigestRefusedError('the signature uses MD5, which the transfer point refuses');
  }
  throw new DigestRefusedError(`the signature uses an unsupported digest algorithm (OID ${oid})`);
}

/** Result of hashing a file: the digest and the number of bytes read. */
export interface FileDigest {
  algorithm: DigestAlgorithm;
  digest: Buffer;
  size: number;
}

/**
 * Hashes a file as it is read, in large chunks with reading and hashing
 * overlapped: memory does not grow with the file. `onChunk` sees the byte
 * count of each chunk (for progress).
 */
export async function hashFile(
  path: string,
  algorithm: DigestAlgorithm = DEFAULT_DIGEST,
  onChunk?: (bytes: number) => void,
): Promise<FileDigest> {
  const hash: Hash = createHash(DIGEST_ALGORITHMS[algorithm].node);
  const size = await readFileChunks(path, (chunk) => {
    hash.update(chunk); // consumes the bytes now: the buffer may be reused after
    onChunk?.(chunk.length);
  });
  return { algorithm, digest: hash.digest(), size };
}

/** Hashes a stream as it flows (an object read back from a store, say). */
export async function hashStream(
  source: AsyncIterable<Buffer | Uint8Array>,
  algorithm: DigestAlgorithm = DEFAULT_DIGEST,
): Promise<FileDigest> {
  const hash = createHash(DIGEST_ALGORITHMS[algorithm].node);
  let size = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { algorithm, digest: hash.digest(), size };
}

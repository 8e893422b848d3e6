import { buildDetachedSignature } from './cms';
import { DEFAULT_DIGEST, hashFile, type DigestAlgorithm, type FileDigest } from './digest';
import { encodeFs, type FsFormat } from './fs-format';
import { checkMaterial, type MaterialSummary, type SigningMaterial } from './material';
import { basename } from 'node:path';
import { checkFileSize, MAX_FILE_BYTES } from '../names';
import { statRegularFile } from '../io/regular-file';

/** Options of {@link signFile}; every one has a safe default. */
export interface SignOptions {
  /** Digest algorithm; default sha256. */
  digest?: DigestAlgorithm;
  /** FS layout; default `line` (one base64 line, no line ending). */
  format?: FsFormat;
  /** Clock for the certificate check and signingTime; default now. */
  now?: Date;
  /**
   * Largest file accepted, default the transfer point's 200,000,000 bytes
   * (ACRF-184). `false` lifts it, for benchmarks and for callers that split.
   */
  sizeLimit?: number | false;
  /** Called with the byte count of each chunk as it is hashed. */
  onProgress?: (bytes: number) => void;
}

/** What signing produced: the FS text and the facts behind it. */
export interface SignResult {
  /** The FS file content, ready to be written as is. */
  fs: string;
  format: FsFormat;
  digest: FileDigest;
  signer: MaterialSummary;
}

/**
 * Signs a digest already computed (by a streamed upload, say) and returns the
 * FS file content. The material is checked first: expired, weak or mismatched
 * material is refused with a typed error.
 */
export async function signDigest(
  digest: FileDigest,
  material: SigningMaterial,
  options: Omit<SignOptions, 'onProgress' | 'sizeLimit'> = {},
): Promise<SignResult> {
  const now = options.now ?? new Date();
  const signer = checkMaterial(material, now);
  const format = options.format ?? 'line';
  const der = await buildDetachedSignature(digest.digest, digest.algorithm, material, now);
  return { fs: encodeFs(der, format), format, digest, signer };
}

/**
 * Signs a file as the FS of an FI part: checks the material, then hashes the
 * file as a stream (memory does not grow with it), then builds the detached
 * CMS signature. A path that is not a regular file, an empty file (ACRF-134)
 * and one over the size limit (ACRF-184) are refused before a byte is read;
 * a file that grows past the limit while read is refused too.
 */
export async function signFile(
  path: string,
  material: SigningMaterial,
  options: SignOptions = {},
): Promise<SignResult> {
  checkMaterial(material, options.now ?? new Date());
  const name = basename(path);
  const limit = options.sizeLimit === false ? null : (options.sizeLimit ?? MAX_FILE_BYTES);
  const info = await statRegularFile(path);
  checkSize(info.size, limit, name);
  let read = 0;
  const digest = await hashFile(path, options.digest ?? DEFAULT_DIGEST, (bytes) => {
    read += bytes;
    if (read > info.size) checkSize(read, limit, name); // the file grew while read
    options.onProgress?.(bytes);
  });
  checkSize(digest.size, limit, name);
  return signDigest(digest, material, options);
}

/** 134 for an empty file; 184 past the limit, unless the limit is lifted (null). */
function checkSize(size: number, limit: number | null, name: string): void {
  if (limit !== null) checkFileSize(size, limit, name);
  else if (size === 0) checkFileSize(0, MAX_FILE_BYTES, name);
}

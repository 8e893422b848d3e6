import { buildDetachedSignature } from './cms';
import { DEFAULT_DIGEST, hashFile, type DigestAlgorithm, type FileDigest } from './digest';
import { encodeFs, type FsFormat } from './fs-format';
import { checkMaterial, type MaterialSummary, type SigningMaterial } from './material';
import { checkFileSize } from '../names';

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
 * CMS signature. An empty file is refused (ACRF-134), and so is one over the
 * size limit (ACRF-184), before any signature exists.
 */
export async function signFile(
  path: string,
  material: SigningMaterial,
  options: SignOptions = {},
): Promise<SignResult> {
  checkMaterial(material, options.now ?? new Date());
  const digest = await hashFile(path, options.digest ?? DEFAULT_DIGEST, options.onProgress);
  if (options.sizeLimit === false) {
    if (digest.size === 0) checkFileSize(0); // no data (134) is refused even without a limit
  } else {
    checkFileSize(digest.size, options.sizeLimit);
  }
  return signDigest(digest, material, options);
}

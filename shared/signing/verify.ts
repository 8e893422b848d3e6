import { verify as verifySignature, X509Certificate } from 'node:crypto';
import { parseDetachedSignature, SignerCertificateMissing, type ParsedSignature } from './cms';
import {
  digestAlgorithmFromOid,
  DIGEST_ALGORITHMS,
  hashFile,
  type DigestAlgorithm,
} from './digest';
import { SignatureFormatError, SignatureInvalidError } from './errors';
import { decodeFs, type FsFormat } from './fs-format';
import {
  checkValidityAt,
  describeKey,
  summarizeCertificate,
  type MaterialSummary,
} from './material';
import { statRegularFile } from '../io/regular-file';
import { checkFileSize } from '../names';

/** What a successful verification found. */
export interface VerifyResult {
  format: FsFormat;
  digestAlgorithm: DigestAlgorithm;
  /** Bytes of the FI file that were hashed. */
  size: number;
  signingTime?: Date;
  signer: Omit<MaterialSummary, 'keyType' | 'keyStrength'>;
  /**
   * False: the certificate chain is not judged here (the transfer point keeps
   * its own list of accepted CAs), only the signature and the digest.
   */
  chainChecked: false;
}

// Signature algorithm OIDs we can check with the certificate's key.
const RSA_PKCS1 = new Set([
  '1.2.840.113549.1.1.1', // rsaEncryption
  '1.2.840.113549.1.1.5', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
]);
const ECDSA = new Set(['1.2.840.10045.4.1', '1.2.840.10045.4.3.2', '1.2.840.10045.2.1']);

function parseOrRefuse(der: Buffer): ParsedSignature {
  try {
    return parseDetachedSignature(der);
  } catch (cause) {
    if (cause instanceof SignerCertificateMissing) {
      throw new SignatureInvalidError(cause.message, cause);
    }
    const reason = cause instanceof Error ? cause.message : 'unreadable';
    throw new SignatureFormatError(`the FS file is not a usable CMS signature: ${reason}`, cause);
  }
}

/**
 * Verifies an FS file against its FI file: the FS format rules, then the
 * digest of the FI (streamed) against the signed messageDigest, then the
 * signature over the signed attributes with the included signer certificate.
 * Throws {@link SignatureFormatError} or {@link SignatureInvalidError} (ACRF-125), and
 * refuses a weak signer key or a certificate not valid at signing time as the signer does.
 */
export async function verifyFile(
  fiPath: string,
  fsContent: Buffer,
  now: Date = new Date(),
): Promise<VerifyResult> {
  await statRegularFile(fiPath);
  return verifyDetached(fsContent, (algorithm) => hashFile(fiPath, algorithm), now);
}

/**
 * Verifies an FS against content it does not hold: `digestOf` hashes the
 * content (a file, a stored object streamed back) with the algorithm the
 * signature names. The same checks as {@link verifyFile}.
 */
export async function verifyDetached(
  fsContent: Buffer,
  digestOf: (algorithm: DigestAlgorithm) => Promise<{ digest: Buffer; size: number }>,
  now: Date = new Date(),
): Promise<VerifyResult> {
  const { der, format } = decodeFs(fsContent);
  const parsed = parseOrRefuse(der);
  if (parsed.hasContent) {
    throw new SignatureInvalidError('the signature carries its content: an FS must be detached');
  }
  const digestAlgorithm = digestAlgorithmFromOid(parsed.digestAlgorithmOid);
  const { digest, size } = await digestOf(digestAlgorithm);
  if (size === 0) checkFileSize(0); // an empty FI is refused (134) whatever its signature
  if (!digest.equals(parsed.messageDigest)) {
    throw new SignatureInvalidError(
      'the FI file does not match the signature (its digest differs from the signed one)',
    );
  }
  const certificate = new X509Certificate(parsed.signerCertificateDer);
  const oid = parsed.signatureAlgorithmOid;
  if (!RSA_PKCS1.has(oid) && !ECDSA.has(oid)) {
    throw new SignatureInvalidError(`the signature algorithm (OID ${oid}) is not supported`);
  }
  const ok = verifySignature(
    DIGEST_ALGORITHMS[digestAlgorithm].node,
    parsed.signedAttributesDer,
    certificate.publicKey,
    parsed.signature,
  );
  if (!ok) {
    throw new SignatureInvalidError('the signature does not verify with the signer certificate');
  }
  // A signature that verifies can still be one the transfer point refuses: a weak key, or a
  // certificate outside its validity when the file was signed.
  describeKey(certificate.publicKey);
  const signer = summarizeCertificate(certificate, now);
  checkValidityAt(signer, parsed.signingTime ?? now);
  return {
    format,
    digestAlgorithm,
    size,
    ...(parsed.signingTime ? { signingTime: parsed.signingTime } : {}),
    signer,
    chainChecked: false,
  };
}

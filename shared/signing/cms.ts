import { webcrypto, type KeyObject, type X509Certificate } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from './digest';
import type { SigningMaterial } from './material';

/** CMS object identifiers used in the FS signature. */
export const CMS_OIDS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
} as const;

// pkijs reaches WebCrypto through an engine; Node's own implementation is enough.
export const cryptoEngine = new pkijs.CryptoEngine({
  name: 'node',
  crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'],
});

/** A standalone ArrayBuffer copy of some bytes (asn1js and PKI.js want one). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Imports a Node private key into WebCrypto for PKI.js, for the given digest. */
export async function importSigningKey(
  key: KeyObject,
  digest: DigestAlgorithm,
): Promise<CryptoKey> {
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const hash = DIGEST_ALGORITHMS[digest].webCrypto;
  const algorithm =
    key.asymmetricKeyType === 'ec'
      ? { name: 'ECDSA', namedCurve: ecCurveName(key) }
      : { name: 'RSASSA-PKCS1-v1_5', hash };
  return webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
}

function ecCurveName(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const names: Record<string, string> = {
    prime256v1: 'P-256',
    secp384r1: 'P-384',
    secp521r1: 'P-521',
  };
  return names[curve ?? ''] ?? 'P-256';
}

function attribute(type: string, value: asn1js.AsnType): pkijs.Attribute {
  return new pkijs.Attribute({ type, values: [value] });
}

/**
 * Sorts attributes for a SET OF. DER requires a SET OF in ascending order of the elements' encodings, and
 * PKI.js keeps the order it is given: strict verifiers reject an unsorted set.
 */
export function derSorted(attributes: pkijs.Attribute[]): pkijs.Attribute[] {
  const encoded = attributes.map((attr) => ({
    attr,
    der: Buffer.from(attr.toSchema().toBER(false)),
  }));
  encoded.sort((a, b) => Buffer.compare(a.der, b.der));
  return encoded.map((entry) => entry.attr);
}

/** signingTime is UTCTime up to 2049 and GeneralizedTime from 2050 on (RFC 5652, 11.3). */
function timeValue(date: Date): asn1js.UTCTime | asn1js.GeneralizedTime {
  return date.getUTCFullYear() < 2050
    ? new asn1js.UTCTime({ valueDate: date })
    : new asn1js.GeneralizedTime({ valueDate: date });
}

function toPkijsCertificate(cert: X509Certificate): pkijs.Certificate {
  return pkijs.Certificate.fromBER(toArrayBuffer(cert.raw));
}

/**
 * Builds a detached CMS SignedData (DER) over a digest computed elsewhere:
 * the file itself is never needed in memory. Signed attributes: contentType
 * (id-data), signingTime and messageDigest, in DER order; the signer
 * certificate (and any chain) is included.
 */
export async function buildDetachedSignature(
  digest: Buffer,
  algorithm: DigestAlgorithm,
  material: SigningMaterial,
  signingTime: Date = new Date(),
): Promise<Buffer> {
  const signer = toPkijsCertificate(material.certificate);
  const signedAttrs = new pkijs.SignedAndUnsignedAttributes({
    type: 0,
    attributes: derSorted([
      attribute(CMS_OIDS.contentType, new asn1js.ObjectIdentifier({ value: CMS_OIDS.data })),
      attribute(CMS_OIDS.signingTime, timeValue(signingTime)),
      attribute(
        CMS_OIDS.messageDigest,
        new asn1js.OctetString({ valueHex: toArrayBuffer(digest) }),
      ),
    ]),
  });
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: CMS_OIDS.data }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({
          issuer: signer.issuer,
          serialNumber: signer.serialNumber,
        }),
        signedAttrs,
      }),
    ],
    certificates: [signer, ...material.chain.map(toPkijsCertificate)],
  });
  const key = await importSigningKey(material.privateKey, algorithm);
  // sign() defaults to SHA-1: always name the digest.
  await signedData.sign(key, 0, DIGEST_ALGORITHMS[algorithm].webCrypto, undefined, cryptoEngine);
  const contentInfo = new pkijs.ContentInfo({
    contentType: CMS_OIDS.signedData,
    content: signedData.toSchema(true),
  });
  return Buffer.from(contentInfo.toSchema().toBER(false));
}

/** The certificate named by the signer identifier is not in the signature. */
export class SignerCertificateMissing extends Error {
  constructor() {
    super('the signer certificate named by the signature is not in it');
  }
}

/** The parts of a detached signature that a verifier needs. */
export interface ParsedSignature {
  digestAlgorithmOid: string;
  signatureAlgorithmOid: string;
  /** The messageDigest signed attribute. */
  messageDigest: Buffer;
  /** The signed attributes re-tagged as a SET: the bytes the signature covers. */
  signedAttributesDer: Buffer;
  signature: Buffer;
  signingTime?: Date;
  /** DER of the certificate named by the signer identifier. */
  signerCertificateDer: Buffer;
  /** DER of every certificate the signature carries, the signer's first, then the others. */
  certificatesDer: Buffer[];
  /** True when the signature carries the content (not detached). */
  hasContent: boolean;
}

/**
 * Parses a DER CMS ContentInfo holding a SignedData with one signer and
 * returns what verification needs. Throws a plain Error on malformed input;
 * callers wrap it in their typed error.
 */
export function parseDetachedSignature(der: Buffer): ParsedSignature {
  const contentInfo = pkijs.ContentInfo.fromBER(toArrayBuffer(der));
  if (contentInfo.contentType !== CMS_OIDS.signedData) {
    throw new Error(`not a CMS SignedData (content type ${contentInfo.contentType})`);
  }
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  const signerInfo = signedData.signerInfos[0];
  if (signedData.signerInfos.length !== 1 || signerInfo === undefined) {
    throw new Error(`expected one signer, found ${signedData.signerInfos.length}`);
  }
  const attrs = signerInfo.signedAttrs;
  if (attrs === undefined) throw new Error('the signature has no signed attributes');
  const find = (oid: string) => attrs.attributes.find((a) => a.type === oid)?.values[0];
  const digestValue = find(CMS_OIDS.messageDigest);
  if (!(digestValue instanceof asn1js.OctetString)) {
    throw new Error('the signature has no messageDigest attribute');
  }
  const contentType = find(CMS_OIDS.contentType);
  if (
    !(contentType instanceof asn1js.ObjectIdentifier) ||
    contentType.getValue() !== CMS_OIDS.data
  ) {
    throw new Error('the contentType signed attribute is missing or not id-data');
  }
  const time = find(CMS_OIDS.signingTime);
  const signingTime =
    time instanceof asn1js.UTCTime || time instanceof asn1js.GeneralizedTime
      ? time.toDate()
      : undefined;
  const sid = signerInfo.sid;
  const certificate = (signedData.certificates ?? []).find(
    (cert): cert is pkijs.Certificate =>
      cert instanceof pkijs.Certificate &&
      sid instanceof pkijs.IssuerAndSerialNumber &&
      cert.issuer.isEqual(sid.issuer) &&
      cert.serialNumber.isEqual(sid.serialNumber),
  );
  if (certificate === undefined) throw new SignerCertificateMissing();
  const others = (signedData.certificates ?? []).filter(
    (cert): cert is pkijs.Certificate => cert instanceof pkijs.Certificate && cert !== certificate,
  );
  // The signature covers the attributes encoded as a SET (tag 0x31), not as [0].
  const signedAttributesDer = Buffer.from(attrs.encodedValue);
  signedAttributesDer[0] = 0x31;
  return {
    digestAlgorithmOid: signerInfo.digestAlgorithm.algorithmId,
    signatureAlgorithmOid: signerInfo.signatureAlgorithm.algorithmId,
    messageDigest: Buffer.from(digestValue.valueBlock.valueHexView),
    signedAttributesDer,
    signature: Buffer.from(signerInfo.signature.valueBlock.valueHexView),
    ...(signingTime ? { signingTime } : {}),
    signerCertificateDer: Buffer.from(certificate.toSchema().toBER(false)),
    certificatesDer: [certificate, ...others].map((cert) =>
      Buffer.from(cert.toSchema().toBER(false)),
    ),
    hasContent: signedData.encapContentInfo.eContent !== undefined,
  };
}

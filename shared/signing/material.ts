import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import {
  CertificateValidityError,
  KeyMismatchError,
  KeyPasswordRequiredError,
  KeyPasswordWrongError,
  MaterialUnreadableError,
  WeakKeyError,
} from './errors';

/** What a signature is made with: the private key, its certificate, and any chain. */
export interface SigningMaterial {
  /** The signer's private key (never logged, never serialised by us). */
  privateKey: KeyObject;
  /** The signer certificate: the one whose public key matches `privateKey`. */
  certificate: X509Certificate;
  /** Other certificates found beside it (issuers), included in the signature. */
  chain: X509Certificate[];
}

/** Facts about the signing material that are safe to print. */
export interface MaterialSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Whole days until the certificate expires (negative once expired). */
  daysLeft: number;
  keyType: 'rsa' | 'ec';
  /** RSA modulus length in bits, or the EC curve name. */
  keyStrength: string;
}

/** Curves the transfer point's ECC guidance covers. */
const ACCEPTED_CURVES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
};

const MIN_RSA_BITS = 2048;
const DAY_MS = 86_400_000;

const CERT_PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function isEncryptedPem(pem: string): boolean {
  return pem.includes('ENCRYPTED PRIVATE KEY') || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
}

/**
 * Reads a PEM private key (PKCS#8, optionally encrypted, or the older PKCS#1 /
 * SEC1 forms). The password is only handed to OpenSSL, never echoed.
 */
export function readPemPrivateKey(pem: string | Buffer, password?: string): KeyObject {
  const text = pem.toString();
  const encrypted = isEncryptedPem(text);
  if (encrypted && password === undefined) throw new KeyPasswordRequiredError('the private key');
  try {
    return createPrivateKey(
      encrypted ? { key: text, format: 'pem', passphrase: password } : { key: text, format: 'pem' },
    );
  } catch (cause) {
    if (encrypted) throw new KeyPasswordWrongError('the private key', cause);
    throw new MaterialUnreadableError('the private key is not a readable PEM private key', cause);
  }
}

/** Reads every certificate of a PEM file (the signer and perhaps its issuers). */
export function readPemCertificates(pem: string | Buffer): X509Certificate[] {
  const blocks = pem.toString().match(CERT_PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new MaterialUnreadableError('the certificate file holds no PEM certificate');
  }
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (cause) {
      throw new MaterialUnreadableError(
        'the certificate file holds an unreadable certificate',
        cause,
      );
    }
  });
}

/** Picks the certificate matching the key; the others become the chain. */
export function pairKeyWithCertificate(
  privateKey: KeyObject,
  certs: X509Certificate[],
): SigningMaterial {
  const matches = (cert: X509Certificate) => {
    try {
      return cert.checkPrivateKey(privateKey);
    } catch {
      return false; // different key types: not this one
    }
  };
  const now = Date.now();
  const current = (cert: X509Certificate) =>
    Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
  // A renewed certificate often sits beside the expired one: take the valid one first.
  const valid = certs.findIndex((cert) => matches(cert) && current(cert));
  const index = valid >= 0 ? valid : certs.findIndex(matches);
  const certificate = certs[index];
  if (certificate === undefined) {
    throw new KeyMismatchError(
      `the private key does not match the certificate (${certs[0]?.subject.replace(/\n/g, ', ') ?? 'none'})`,
    );
  }
  return { privateKey, certificate, chain: certs.filter((_, i) => i !== index) };
}

/** Loads signing material from a PEM key and a PEM certificate file content. */
export function loadPemMaterial(source: {
  keyPem: string | Buffer;
  certPem: string | Buffer;
  password?: string;
}): SigningMaterial {
  const privateKey = readPemPrivateKey(source.keyPem, source.password);
  return pairKeyWithCertificate(privateKey, readPemCertificates(source.certPem));
}

/**
 * Type and strength of a key (private or public), refusing what the transfer
 * point does not take: RSA under 2048 bits, curves other than P-256/P-384,
 * other key types. Throws {@link WeakKeyError}.
 */
export function describeKey(key: KeyObject): Pick<MaterialSummary, 'keyType' | 'keyStrength'> {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw new WeakKeyError(`the RSA key has ${bits} bits: at least ${MIN_RSA_BITS} are required`);
    }
    return { keyType: 'rsa', keyStrength: `${bits} bits` };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = ACCEPTED_CURVES[details.namedCurve ?? ''];
    if (curve === undefined) {
      throw new WeakKeyError(
        `the EC key uses curve ${details.namedCurve ?? 'unknown'}: use P-256 or P-384`,
      );
    }
    return { keyType: 'ec', keyStrength: curve };
  }
  throw new WeakKeyError(
    `a ${key.asymmetricKeyType ?? 'unknown'} key cannot sign for the transfer point: use RSA (2048+) or EC (P-256/P-384)`,
  );
}

/** One-line subject or issuer, `CN=..., O=...` rather than OpenSSL's multi-line form. */
export function oneLineName(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

/** Safe-to-print facts about a certificate; throws nothing. */
export function summarizeCertificate(
  cert: X509Certificate,
  now: Date = new Date(),
): Omit<MaterialSummary, 'keyType' | 'keyStrength'> {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  return {
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    serialNumber: cert.serialNumber,
    notBefore,
    notAfter,
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
  };
}

/**
 * Checks that the material can make a signature the transfer point accepts:
 * certificate valid now, key strong enough. Throws a typed error otherwise,
 * before anything is written.
 */
export function checkMaterial(material: SigningMaterial, now: Date = new Date()): MaterialSummary {
  const key = describeKey(material.privateKey);
  const summary = { ...summarizeCertificate(material.certificate, now), ...key };
  checkValidityAt(summary, now);
  return summary;
}

/** Throws {@link CertificateValidityError} when `at` is outside the certificate's validity. */
export function checkValidityAt(
  summary: Pick<MaterialSummary, 'subject' | 'notBefore' | 'notAfter'>,
  now: Date,
): void {
  if (now < summary.notBefore) {
    throw new CertificateValidityError(
      `the certificate of ${summary.subject} is not valid before ${summary.notBefore.toISOString()}`,
      'CERT_NOT_YET_VALID',
    );
  }
  if (now > summary.notAfter) {
    throw new CertificateValidityError(
      `the certificate of ${summary.subject} expired on ${summary.notAfter.toISOString()}`,
      'CERT_EXPIRED',
    );
  }
}

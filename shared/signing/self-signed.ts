import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { cryptoEngine, importSigningKey, toArrayBuffer } from './cms';
import type { SigningMaterial } from './material';

/** What a throwaway certificate should look like. */
export interface SelfSignedOptions {
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
  key?: KeyObject;
  /** Serial number; default random. */
  serialNumber?: number;
}

const DAY_MS = 86_400_000;

function name(commonName: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({
        type: '2.5.4.3',
        value: new asn1js.Utf8String({ value: commonName }),
      }),
    ],
  });
}

/**
 * Makes a self-signed certificate for a key (a fresh RSA 2048 one by default):
 * for the local demo, the simulator and tests. The transfer point would not
 * trust it; it only lets the whole loop run without a real certificate.
 */
export async function createSelfSigned(options: SelfSignedOptions = {}): Promise<SigningMaterial> {
  const privateKey = options.key ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const notBefore = options.notBefore ?? new Date(Date.now() - DAY_MS);
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * DAY_MS);
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({
    value: options.serialNumber ?? Math.floor(Math.random() * 2 ** 31) + 1,
  });
  cert.issuer = name(options.commonName ?? 'onss-transfer throwaway signer');
  cert.subject = name(options.commonName ?? 'onss-transfer throwaway signer');
  cert.notBefore.value = notBefore;
  cert.notAfter.value = notAfter;
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(toArrayBuffer(spki));
  cert.extensions = [
    new pkijs.Extension({
      extnID: '2.5.29.19', // basicConstraints: not a CA
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false),
    }),
    new pkijs.Extension({
      extnID: '2.5.29.15', // keyUsage: digitalSignature + nonRepudiation
      critical: true,
      extnValue: new asn1js.BitString({
        valueHex: new Uint8Array([0xc0]).buffer,
        unusedBits: 6,
      }).toBER(false),
    }),
  ];
  await cert.sign(await importSigningKey(privateKey, 'sha256'), 'SHA-256', cryptoEngine);
  const certificate = new X509Certificate(Buffer.from(cert.toSchema(true).toBER(false)));
  return { privateKey, certificate, chain: [] };
}

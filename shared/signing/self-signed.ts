import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
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
  /**
   * Host names and IP addresses a TLS server certificate is for (subjectAltName); default none,
   * a signer's certificate. Given, the certificate is made for a TLS server (keyUsage
   * digitalSignature + keyEncipherment, extKeyUsage serverAuth): clients check the host they
   * connect to against this list, never against the common name.
   */
  serverNames?: readonly string[];
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

/** An IPv4 or IPv6 address as the 4 or 16 bytes of an iPAddress GeneralName. */
function addressBytes(address: string): Uint8Array {
  if (isIP(address) === 4) return Uint8Array.from(address.split('.').map(Number));
  // An embedded IPv4 tail (`::ffff:127.0.0.1`) is two 16-bit groups.
  const hex = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d: string) =>
    [((Number(a) << 8) | Number(b)).toString(16), ((Number(c) << 8) | Number(d)).toString(16)].join(
      ':',
    ),
  );
  // Expand `::` to the missing zero groups, then write each 16-bit group.
  const [head = '', tail] = hex.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const given = [...groups(head), ...(tail === undefined ? [] : groups(tail))];
  const filled =
    tail === undefined
      ? given
      : [...groups(head), ...Array<string>(8 - given.length).fill('0'), ...groups(tail)];
  return Uint8Array.from(
    filled.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff]),
  );
}

function subjectAltName(names: readonly string[]): pkijs.Extension {
  const altNames = names.map((host) =>
    isIP(host) === 0
      ? new pkijs.GeneralName({ type: 2, value: host }) // dNSName
      : new pkijs.GeneralName({
          type: 7, // iPAddress
          value: new asn1js.OctetString({ valueHex: addressBytes(host) }),
        }),
  );
  return new pkijs.Extension({
    extnID: '2.5.29.17',
    critical: false,
    extnValue: new pkijs.GeneralNames({ names: altNames }).toSchema().toBER(false),
  });
}

/**
 * Makes a self-signed certificate for a key (a fresh RSA 2048 one by default):
 * for the local demo, the simulator and tests. The transfer point would not
 * trust it; it only lets the whole loop run without a real certificate. With
 * `serverNames` it is a TLS server certificate instead (the simulator's FTPS),
 * which a client pins by giving it as its CA.
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
  const server = options.serverNames !== undefined;
  cert.extensions = [
    new pkijs.Extension({
      extnID: '2.5.29.19', // basicConstraints: not a CA
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false),
    }),
    new pkijs.Extension({
      // keyUsage: digitalSignature + nonRepudiation (a signer), digitalSignature +
      // keyEncipherment (a TLS server)
      extnID: '2.5.29.15',
      critical: true,
      extnValue: new asn1js.BitString({
        valueHex: new Uint8Array([server ? 0xa0 : 0xc0]).buffer,
        unusedBits: server ? 5 : 6,
      }).toBER(false),
    }),
  ];
  if (options.serverNames !== undefined) {
    cert.extensions.push(
      subjectAltName(options.serverNames),
      new pkijs.Extension({
        extnID: '2.5.29.37', // extKeyUsage: serverAuth
        critical: false,
        extnValue: new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.1'] })
          .toSchema()
          .toBER(false),
      }),
    );
  }
  await cert.sign(await importSigningKey(privateKey, 'sha256'), 'SHA-256', cryptoEngine);
  const certificate = new X509Certificate(Buffer.from(cert.toSchema(true).toBER(false)));
  return { privateKey, certificate, chain: [] };
}

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CMS_OIDS, derSorted } from '../../shared/signing/cms';
import {
  createSelfSigned,
  parseDetachedSignature,
  signFile,
  verifyFile,
} from '../../shared/signing';
import { makeIdentity, opensslSign, opensslVerify, scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir();
afterAll(cleanup);

const fi = join(dir, 'FI.tamper');
writeFileSync(fi, '<DmfAOriginal/>\n');

function reencode(der: Buffer): string {
  return der.toString('base64');
}

async function signedDer(commonName = 'Tamper Test', serialNumber = 4242): Promise<Buffer> {
  const material = await createSelfSigned({ commonName, serialNumber });
  return Buffer.from((await signFile(fi, material)).fs, 'base64');
}

describe('signed attributes are a DER SET OF', () => {
  it('sorts attributes given in any order by their encoding', () => {
    const attrs = [
      new pkijs.Attribute({
        type: CMS_OIDS.messageDigest,
        values: [new asn1js.OctetString({ valueHex: new Uint8Array(32).buffer })],
      }),
      new pkijs.Attribute({
        type: CMS_OIDS.signingTime,
        values: [new asn1js.UTCTime({ valueDate: new Date() })],
      }),
      new pkijs.Attribute({
        type: CMS_OIDS.contentType,
        values: [new asn1js.ObjectIdentifier({ value: CMS_OIDS.data })],
      }),
    ];
    const sorted = derSorted(attrs).map((a) => Buffer.from(a.toSchema().toBER(false)));
    for (let i = 1; i < sorted.length; i += 1) {
      expect(Buffer.compare(sorted[i - 1] as Buffer, sorted[i] as Buffer)).toBe(-1);
    }
    expect(derSorted(attrs).map((a) => a.type)).toEqual([
      CMS_OIDS.contentType,
      CMS_OIDS.signingTime,
      CMS_OIDS.messageDigest,
    ]);
  });
});

describe('the verifier checks the signature itself, not only the digest', () => {
  it('refuses a flipped signature byte (OpenSSL agrees)', async () => {
    const der = await signedDer();
    const signature = parseDetachedSignature(der).signature;
    const at = der.indexOf(signature);
    expect(at).toBeGreaterThan(0);
    der[at + 10] = (der[at + 10] as number) ^ 0x01;
    const fsPath = join(dir, 'FS.flipped');
    writeFileSync(fsPath, reencode(der));
    expect(opensslVerify(fi, fsPath).ok).toBe(false);
    await expect(verifyFile(fi, readFileSync(fsPath))).rejects.toMatchObject({ code: 'ACRF-125' });
  });

  it('refuses a changed signingTime (the digest still matches)', async () => {
    const der = await signedDer();
    const time = parseDetachedSignature(der).signingTime as Date;
    const text = time.toISOString().replace(/[-:T]/g, '').slice(2, 14); // YYMMDDhhmmss
    const at = der.indexOf(Buffer.from(text, 'latin1'));
    expect(at).toBeGreaterThan(0);
    der[at] = '9'.charCodeAt(0); // another decade
    await expect(verifyFile(fi, Buffer.from(reencode(der)))).rejects.toMatchObject({
      code: 'ACRF-125',
    });
  });

  it('refuses a certificate swapped for another key with the same issuer and serial', async () => {
    const der = await signedDer('Same Name', 777);
    const other = await createSelfSigned({ commonName: 'Same Name', serialNumber: 777 });
    const original = parseDetachedSignature(der).signerCertificateDer;
    const replacement = other.certificate.raw;
    expect(replacement.length).toBe(original.length); // same shape: a byte-for-byte swap
    const swapped = Buffer.from(der);
    replacement.copy(swapped, der.indexOf(original));
    await expect(verifyFile(fi, Buffer.from(reencode(swapped)))).rejects.toMatchObject({
      code: 'ACRF-125',
    });
  });

  it('refuses a signature whose signer certificate is missing', async () => {
    const der = await signedDer();
    const info = pkijs.ContentInfo.fromBER(new Uint8Array(der).buffer);
    const signed = new pkijs.SignedData({ schema: info.content });
    signed.certificates = [];
    const stripped = new pkijs.ContentInfo({
      contentType: CMS_OIDS.signedData,
      content: signed.toSchema(true),
    });
    const bytes = Buffer.from(stripped.toSchema().toBER(false));
    await expect(verifyFile(fi, Buffer.from(reencode(bytes)))).rejects.toMatchObject({
      code: 'ACRF-125',
    });
  });

  it('refuses a valid OpenSSL signature made with an RSA 1024 key', async () => {
    const weak = await makeIdentity('rsa1024');
    const der = opensslSign(weak, fi);
    await expect(verifyFile(fi, Buffer.from(der.toString('base64')))).rejects.toMatchObject({
      code: 'KEY_TOO_WEAK',
    });
  });
});

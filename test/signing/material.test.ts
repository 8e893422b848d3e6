import { readFileSync } from 'node:fs';
import {
  checkMaterial,
  createSelfSigned,
  loadPemMaterial,
  loadPkcs12Material,
  parseDigestAlgorithm,
  type SigningError,
} from '../../shared/signing';
import { makeIdentity, makeKey, scratchDir, writeP12, type P12Variant } from '../helpers/pki';

const PASSWORD = 'Pa55-w0rd/with spaces';
const DAY = 86_400_000;
const { dir, cleanup } = scratchDir();
afterAll(cleanup);

function caught(fn: () => unknown): SigningError {
  try {
    fn();
  } catch (error) {
    return error as SigningError;
  }
  throw new Error('expected a refusal');
}

describe('refusals of signing material', () => {
  it.each<P12Variant>(['modern', 'legacy', 'des3'])(
    'a %s PKCS#12 with the wrong password: KEY_PASSWORD_WRONG, password never shown',
    async (variant) => {
      const id = await makeIdentity('rsa2048');
      const p12 = readFileSync(writeP12(id, dir, variant, PASSWORD));
      const error = caught(() => loadPkcs12Material(p12, 'not-the-password'));
      expect(error.code).toBe('KEY_PASSWORD_WRONG');
      expect(`${error.message} ${String(error.stack)}`).not.toContain('not-the-password');
      expect(loadPkcs12Material(p12, PASSWORD).certificate.subject).toContain('CN=');
    },
  );

  it('an encrypted PEM key with the wrong password or none', async () => {
    const id = await makeIdentity('ec256');
    const keyPem = id.material.privateKey
      .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASSWORD })
      .toString();
    const wrong = caught(() =>
      loadPemMaterial({ keyPem, certPem: id.certPem, password: 'nope-123' }),
    );
    expect(wrong.code).toBe('KEY_PASSWORD_WRONG');
    expect(wrong.message).not.toContain('nope-123');
    const none = caught(() => loadPemMaterial({ keyPem, certPem: id.certPem }));
    expect(none.code).toBe('KEY_PASSWORD_REQUIRED');
  });

  it('a key that does not match the certificate', async () => {
    const a = await makeIdentity('rsa2048');
    const b = await makeIdentity('rsa2048');
    expect(caught(() => loadPemMaterial({ keyPem: a.keyPem, certPem: b.certPem })).code).toBe(
      'KEY_CERT_MISMATCH',
    );
  });

  it('an expired and a not-yet-valid certificate', async () => {
    const expired = await makeIdentity('rsa2048', {
      notBefore: new Date(Date.now() - 40 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    expect(caught(() => checkMaterial(expired.material)).code).toBe('CERT_EXPIRED');
    const future = await makeIdentity('ec384', {
      notBefore: new Date(Date.now() + DAY),
      notAfter: new Date(Date.now() + 40 * DAY),
    });
    expect(caught(() => checkMaterial(future.material)).code).toBe('CERT_NOT_YET_VALID');
  });

  it('keys too weak or of a type the transfer point does not take', async () => {
    const weak = await makeIdentity('rsa1024');
    expect(caught(() => checkMaterial(weak.material))).toMatchObject({
      code: 'KEY_TOO_WEAK',
      message: expect.stringContaining('1024 bits'),
    });
    const ed = await makeIdentity('ed25519');
    expect(caught(() => checkMaterial(ed.material)).code).toBe('KEY_TOO_WEAK');
  });

  it('reports the facts of good material', async () => {
    const id = await makeIdentity('ec256', { commonName: 'Payroll Signer' });
    const summary = checkMaterial(id.material);
    expect(summary).toMatchObject({
      subject: 'CN=Payroll Signer',
      keyType: 'ec',
      keyStrength: 'P-256',
    });
    expect(summary.daysLeft).toBeGreaterThan(300);
  });

  it('unreadable inputs', () => {
    expect(caught(() => loadPkcs12Material(Buffer.from('not a p12'), 'x')).code).toBe(
      'MATERIAL_UNREADABLE',
    );
    expect(caught(() => loadPemMaterial({ keyPem: 'junk', certPem: 'junk' })).code).toBe(
      'MATERIAL_UNREADABLE',
    );
  });

  it.each([
    ['sha256', 'sha256'],
    ['SHA-256', 'sha256'],
    ['sha1', 'sha1'],
  ])('digest %s is accepted', (input, expected) => {
    expect(parseDigestAlgorithm(input)).toBe(expected);
  });

  it.each(['md5', 'MD5', 'sha512', 'crc32'])('digest %s is refused', (input) => {
    expect(caught(() => parseDigestAlgorithm(input)).code).toBe('DIGEST_REFUSED');
  });
});

describe('certificate chains', () => {
  it('finds the signer in a PEM file that starts with its issuer', async () => {
    const leaf = await makeIdentity('rsa2048', { commonName: 'Leaf' });
    const ca = await makeIdentity('rsa2048', { commonName: 'Issuing CA' });
    const material = loadPemMaterial({ keyPem: leaf.keyPem, certPem: ca.certPem + leaf.certPem });
    expect(material.certificate.subject).toBe('CN=Leaf');
    expect(material.chain.map((c) => c.subject)).toEqual(['CN=Issuing CA']);
  });

  it('finds the signer and its chain in a PKCS#12 made with -certfile', async () => {
    const leaf = await makeIdentity('ec256', { commonName: 'P12 Leaf' });
    const ca = await makeIdentity('rsa2048', { commonName: 'P12 CA' });
    const p12 = readFileSync(writeP12(leaf, dir, 'modern', PASSWORD, ca.certPem));
    const material = loadPkcs12Material(p12, PASSWORD);
    expect(material.certificate.subject).toBe('CN=P12 Leaf');
    expect(material.chain.map((c) => c.subject)).toEqual(['CN=P12 CA']);
    expect(material.certificate.raw.equals(leaf.material.certificate.raw)).toBe(true);
    expect(material.chain[0]?.raw.equals(ca.material.certificate.raw)).toBe(true);
  });

  it('prefers the valid certificate when an expired one of the same key sits beside it', async () => {
    const key = makeKey('rsa2048');
    const old = await createSelfSigned({
      key,
      commonName: 'Old',
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - 30 * DAY),
    });
    const renewed = await createSelfSigned({ key, commonName: 'Renewed' });
    const keyPem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
    const material = loadPemMaterial({
      keyPem,
      certPem: old.certificate.toString() + renewed.certificate.toString(),
    });
    expect(material.certificate.subject).toBe('CN=Renewed');
  });
});

describe('PKCS#12 containers give back exactly what was put in', () => {
  const VARIANTS: P12Variant[] = ['modern', 'legacy', 'des3'];

  // Our self-signed RSA certificates carry sha256WithRSAEncryption without a
  // NULL parameter: a parse and re-encode (as forge does) adds one, 2 bytes
  // longer, and the copy's signature no longer verifies.
  it.each(VARIANTS)('a %s PKCS#12 keeps the certificate byte for byte', async (variant) => {
    const id = await makeIdentity('rsa2048', { commonName: `Exact ${variant}` });
    const original = id.material.certificate;
    const material = loadPkcs12Material(
      readFileSync(writeP12(id, dir, variant, PASSWORD)),
      PASSWORD,
    );
    expect(material.certificate.raw.length).toBe(original.raw.length);
    expect(material.certificate.raw.equals(original.raw)).toBe(true);
    expect(material.certificate.verify(original.publicKey)).toBe(true);
    expect(material.certificate.checkPrivateKey(material.privateKey)).toBe(true);
  });

  const UNICODE_PASSWORD = 'pässwörd-Ω 🔑';

  it.each(VARIANTS)(
    'a %s PKCS#12 opens with a non-ASCII password (UTF-8 for PBES2, BMPString for the MAC and legacy PBE)',
    async (variant) => {
      const id = await makeIdentity('ec256');
      const p12 = readFileSync(writeP12(id, dir, variant, UNICODE_PASSWORD));
      const material = loadPkcs12Material(p12, UNICODE_PASSWORD);
      expect(material.certificate.raw.equals(id.material.certificate.raw)).toBe(true);
      expect(material.certificate.checkPrivateKey(material.privateKey)).toBe(true);
      const wrong = caught(() => loadPkcs12Material(p12, 'passwörd-Ω 🔑'));
      expect(wrong.code).toBe('KEY_PASSWORD_WRONG');
      expect(`${wrong.message} ${String(wrong.stack)}`).not.toContain('passwörd');
      expect(caught(() => loadPkcs12Material(p12)).code).toBe('KEY_PASSWORD_REQUIRED');
    },
  );
});

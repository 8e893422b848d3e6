import { inspect } from 'node:util';
import { readFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import {
  formatSigningSecret,
  loadSigningSecret,
  parseServerSecret,
  parseSigningSecret,
  SecretFormatError,
  signingMaterialFromSecret,
  WHOLE_VALUE,
} from '../../shared/secrets';
import { makeIdentity, scratchDir, writeP12, type Identity } from '../helpers/pki';

/** A value that must never show up in an error, whatever field it sits in. */
const SENTINEL = 'Sentinel-7f3a9c-DoNotLeak';

const { dir, cleanup } = scratchDir('onss-secrets-');
afterAll(cleanup);

let id: Identity;
let other: Identity;
let p12Base64 = '';
let encryptedKeyPem = '';
const P12_PASSWORD = 'p12 password-42';

beforeAll(async () => {
  id = await makeIdentity('rsa2048', { commonName: 'Secret Signer' });
  other = await makeIdentity('ec256', { commonName: 'Someone Else' });
  p12Base64 = readFileSync(writeP12(id, dir, 'modern', P12_PASSWORD)).toString('base64');
  encryptedKeyPem = createPrivateKey(id.keyPem)
    .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'key-pass' })
    .toString();
});

const json = (value: Record<string, unknown>) => JSON.stringify(value);

/** Every way an error can be looked at: none may show the sentinel. */
function expectNoLeak(error: unknown): void {
  expect(error).toBeInstanceOf(SecretFormatError);
  const e = error as SecretFormatError;
  for (const view of [e.message, e.stack ?? '', JSON.stringify(e), inspect(e, { depth: 10 })]) {
    expect(view).not.toContain(SENTINEL);
  }
}

function refusal(parse: () => unknown): SecretFormatError {
  try {
    parse();
  } catch (error) {
    expectNoLeak(error);
    return error as SecretFormatError;
  }
  throw new Error('expected a refusal');
}

describe('parseSigningSecret: shapes', () => {
  it('reads a PEM secret and a PKCS#12 secret', () => {
    expect(
      parseSigningSecret(
        json({ format: 'pem', privateKeyPem: id.keyPem, certificatePem: id.certPem }),
      ),
    ).toEqual({ format: 'pem', privateKeyPem: id.keyPem, certificatePem: id.certPem });
    expect(
      parseSigningSecret(json({ format: 'pkcs12', pkcs12Base64: p12Base64, password: '' })),
    ).toEqual({ format: 'pkcs12', pkcs12Base64: p12Base64, password: '' });
  });

  const pem = () => ({ format: 'pem', privateKeyPem: id.keyPem, certificatePem: id.certPem });
  const p12 = () => ({ format: 'pkcs12', pkcs12Base64: p12Base64, password: P12_PASSWORD });

  it.each([
    {
      title: 'not JSON',
      input: () => `{"format":"pem","privateKeyPem":"${SENTINEL}`,
      field: WHOLE_VALUE,
    },
    { title: 'a JSON array', input: () => `["${SENTINEL}"]`, field: WHOLE_VALUE },
    { title: 'no format', input: () => json({ privateKeyPem: SENTINEL }), field: 'format' },
    { title: 'an unknown format', input: () => json({ format: SENTINEL }), field: 'format' },
    {
      title: 'a key that is not PEM',
      input: () => json({ ...pem(), privateKeyPem: SENTINEL }),
      field: 'privateKeyPem',
    },
    {
      title: 'a certificate that is not PEM',
      input: () => json({ ...pem(), certificatePem: SENTINEL }),
      field: 'certificatePem',
    },
    {
      title: 'a missing certificate',
      input: () => json({ format: 'pem', privateKeyPem: id.keyPem }),
      field: 'certificatePem',
    },
    {
      title: 'a password that is not a string',
      input: () => json({ ...pem(), keyPassword: [SENTINEL] }),
      field: 'keyPassword',
    },
    {
      title: 'an unknown field',
      input: () => json({ ...pem(), keyPasword: SENTINEL }),
      field: 'keyPasword',
    },
    {
      title: 'an unknown field whose name looks like a value',
      input: () => json({ ...pem(), [`${SENTINEL} value`]: 'x' }),
      field: WHOLE_VALUE,
    },
    {
      title: 'PKCS#12 bytes that are not base64',
      input: () => json({ ...p12(), pkcs12Base64: `${SENTINEL}!!` }),
      field: 'pkcs12Base64',
    },
    {
      title: 'a PKCS#12 without password',
      input: () => json({ format: 'pkcs12', pkcs12Base64: p12Base64 }),
      field: 'password',
    },
    {
      title: 'an empty key',
      input: () => json({ ...pem(), privateKeyPem: '' }),
      field: 'privateKeyPem',
    },
  ])('refuses $title, naming $field, without repeating the value', ({ input, field }) => {
    const error = refusal(() => parseSigningSecret(input()));
    expect(error).toMatchObject({ code: 'SECRET_INVALID', field });
    expect(error.message).toMatch(/^the signing secret: /);
  });
});

describe('signingMaterialFromSecret: the material', () => {
  it('loads PEM (plain and encrypted) and PKCS#12 material', () => {
    const plain = loadSigningSecret(
      json({ format: 'pem', privateKeyPem: id.keyPem, certificatePem: id.certPem }),
    );
    expect(plain.certificate.subject).toContain('CN=Secret Signer');
    const encrypted = loadSigningSecret(
      json({
        format: 'pem',
        privateKeyPem: encryptedKeyPem,
        certificatePem: id.certPem,
        keyPassword: 'key-pass',
      }),
    );
    expect(encrypted.privateKey.asymmetricKeyType).toBe('rsa');
    const container = loadSigningSecret(
      json({ format: 'pkcs12', pkcs12Base64: p12Base64, password: P12_PASSWORD }),
    );
    // Same key pair (fingerprints may differ: the PKCS#12 loader re-encodes certificates).
    expect(container.certificate.subject).toBe(plain.certificate.subject);
    expect(container.certificate.checkPrivateKey(plain.privateKey)).toBe(true);
  });

  it.each([
    {
      title: 'a wrong key password',
      input: () => ({
        format: 'pem',
        privateKeyPem: encryptedKeyPem,
        certificatePem: id.certPem,
        keyPassword: SENTINEL,
      }),
      field: 'keyPassword',
    },
    {
      title: 'an encrypted key without password',
      input: () => ({ format: 'pem', privateKeyPem: encryptedKeyPem, certificatePem: id.certPem }),
      field: 'keyPassword',
    },
    {
      title: 'a key of another certificate',
      input: () => ({ format: 'pem', privateKeyPem: other.keyPem, certificatePem: id.certPem }),
      field: 'certificatePem',
    },
    {
      title: 'a damaged key',
      input: () => ({
        format: 'pem',
        privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${Buffer.from(SENTINEL).toString('base64')}\n-----END PRIVATE KEY-----\n`,
        certificatePem: id.certPem,
      }),
      field: 'privateKeyPem',
    },
    {
      title: 'a wrong PKCS#12 password',
      input: () => ({ format: 'pkcs12', pkcs12Base64: p12Base64, password: SENTINEL }),
      field: 'password',
    },
    {
      title: 'base64 that is no PKCS#12',
      input: () => ({
        format: 'pkcs12',
        pkcs12Base64: Buffer.from(SENTINEL).toString('base64'),
        password: 'x',
      }),
      field: 'pkcs12Base64',
    },
  ])('refuses $title, naming $field, without repeating secrets', ({ input, field }) => {
    const error = refusal(() => loadSigningSecret(json(input())));
    expect(error).toMatchObject({ code: 'SECRET_INVALID', field });
    expect(error.cause).toHaveProperty('code'); // the signing error, for logs and --debug
  });

  it('formats a secret that parses back to itself', () => {
    const secret = parseSigningSecret(
      json({ certificatePem: id.certPem, privateKeyPem: id.keyPem, format: 'pem' }),
    );
    const text = formatSigningSecret(secret);
    expect(Object.keys(JSON.parse(text) as object)).toEqual([
      'format',
      'privateKeyPem',
      'certificatePem',
    ]);
    expect(parseSigningSecret(text)).toEqual(secret);
    expect(signingMaterialFromSecret(secret).chain).toEqual([]);
  });
});

describe('parseServerSecret', () => {
  const sshKey = () =>
    generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  // An OpenSSH-format key header with cipher aes256-ctr (the rest is not needed to see it).
  const encryptedOpenSsh = () => {
    const magic = Buffer.from('openssh-key-v1\0', 'latin1');
    const cipher = Buffer.from('aes256-ctr');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(cipher.length);
    const blob = Buffer.concat([magic, length, cipher, Buffer.alloc(40)]).toString('base64');
    return `-----BEGIN OPENSSH PRIVATE KEY-----\n${blob}\n-----END OPENSSH PRIVATE KEY-----\n`;
  };

  it.each([
    {
      title: 'a user and password',
      input: () => ({ user: 'sender1', password: 'pw' }),
      expected: () => ({ user: 'sender1', password: 'pw' }),
    },
    {
      title: 'a user and SSH key',
      input: () => ({ user: 'sender1', privateKeyPem: 'K' }),
      expected: undefined,
    },
  ])('reads $title', ({ input, expected }) => {
    if (expected === undefined) {
      const key = sshKey();
      expect(parseServerSecret(json({ ...input(), privateKeyPem: key }))).toEqual({
        user: 'sender1',
        privateKeyPem: key,
      });
    } else {
      expect(parseServerSecret(json(input()))).toEqual(expected());
    }
  });

  it('reads the trust fields: a pinned host key and a CA for FTPS', () => {
    const pin = `SHA256:${'A'.repeat(43)}`;
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(
      parseServerSecret(json({ user: 'u', password: 'pw', hostKeySha256: pin, caPem: ca })),
    ).toEqual({ user: 'u', password: 'pw', hostKeySha256: pin, caPem: ca });
  });

  it('reads a pinned FTPS server certificate, normalised to upper-case pairs with colons', () => {
    const hex = 'ab'.repeat(16) + '0F'.repeat(16);
    const normalised = (hex.toUpperCase().match(/../g) ?? []).join(':');
    expect(parseServerSecret(json({ user: 'u', password: 'pw', serverCertSha256: hex }))).toEqual({
      user: 'u',
      password: 'pw',
      serverCertSha256: normalised,
    });
    expect(
      parseServerSecret(json({ user: 'u', password: 'pw', serverCertSha256: normalised })),
    ).toMatchObject({ serverCertSha256: normalised });
  });

  it('reads an encrypted SSH key with its passphrase', () => {
    const key = encryptedOpenSsh();
    expect(parseServerSecret(json({ user: 'u', privateKeyPem: key, passphrase: 'pp' }))).toEqual({
      user: 'u',
      privateKeyPem: key,
      passphrase: 'pp',
    });
  });

  it.each([
    { title: 'no user', input: () => json({ password: SENTINEL }), field: 'user' },
    {
      title: 'a user with a line break',
      input: () => json({ user: `a\n${SENTINEL}`, password: 'x' }),
      field: 'user',
    },
    { title: 'neither password nor key', input: () => json({ user: 'u' }), field: 'password' },
    {
      title: 'both password and key',
      input: () => json({ user: 'u', password: SENTINEL, privateKeyPem: SENTINEL }),
      field: 'privateKeyPem',
    },
    {
      title: 'a password that is a number',
      input: () => json({ user: 'u', password: 12345 }),
      field: 'password',
    },
    {
      title: 'a key that is not PEM',
      input: () => json({ user: 'u', privateKeyPem: SENTINEL }),
      field: 'privateKeyPem',
    },
    {
      title: 'a passphrase with a password',
      input: () => json({ user: 'u', password: SENTINEL, passphrase: SENTINEL }),
      field: 'passphrase',
    },
    {
      title: 'an encrypted SSH key without passphrase',
      input: () => json({ user: 'u', privateKeyPem: encryptedOpenSsh() }),
      field: 'passphrase',
    },
    {
      title: 'a host key pin that is not a fingerprint',
      input: () => json({ user: 'u', password: SENTINEL, hostKeySha256: 'MD5:aa:bb' }),
      field: 'hostKeySha256',
    },
    {
      title: 'a certificate pin that is not a SHA-256 fingerprint',
      input: () => json({ user: 'u', password: SENTINEL, serverCertSha256: `SHA256:${SENTINEL}` }),
      field: 'serverCertSha256',
    },
    {
      title: 'a certificate pin that is not a string',
      input: () => json({ user: 'u', password: SENTINEL, serverCertSha256: 42 }),
      field: 'serverCertSha256',
    },
    {
      title: 'a CA that is not a PEM certificate',
      input: () => json({ user: 'u', password: SENTINEL, caPem: SENTINEL }),
      field: 'caPem',
    },
    {
      title: 'broken JSON',
      input: () => `{"user":"u","password":"${SENTINEL}`,
      field: WHOLE_VALUE,
    },
  ])('refuses $title, naming $field', ({ input, field }) => {
    const error = refusal(() => parseServerSecret(input()));
    expect(error).toMatchObject({ code: 'SECRET_INVALID', field });
    expect(error.message).toMatch(/^the server secret: /);
  });
});

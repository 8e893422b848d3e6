import { spawnSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadPemMaterial,
  loadPkcs12Material,
  signFile,
  verifyFile,
  type DigestAlgorithm,
  type FsFormat,
  type SigningMaterial,
} from '../../shared/signing';
import {
  makeIdentity,
  opensslPrint,
  opensslVerify,
  scratchDir,
  writeP12,
  type Identity,
  type KeyKind,
  type P12Variant,
} from '../helpers/pki';

const PASSWORD = 'correct horse battery staple';
const KEY_KINDS: KeyKind[] = ['rsa2048', 'rsa3072', 'ec256', 'ec384'];
type KeySource = 'pem' | 'pem-encrypted' | 'pem-pkcs1' | P12Variant;
const KEY_SOURCES: KeySource[] = ['pem', 'pem-encrypted', 'pem-pkcs1', 'modern', 'legacy', 'des3'];

/** File contents the signer must handle byte for byte. */
const CONTENTS: Record<string, () => Buffer> = {
  'LF text': () =>
    Buffer.from('<?xml version="1.0"?>\n<DmfAOriginal>\n  <Form/>\n</DmfAOriginal>\n'),
  'CRLF text': () => Buffer.from('<?xml version="1.0"?>\r\n<DmfAOriginal>\r\n</DmfAOriginal>\r\n'),
  binary: () => randomBytes(65_537),
  'one byte': () => Buffer.from([0x0a]),
  'several MB': () => randomBytes(5 * 1024 * 1024 + 3),
};

const { dir, cleanup } = scratchDir();
const identities = new Map<KeyKind, Identity>();

beforeAll(async () => {
  for (const kind of KEY_KINDS) identities.set(kind, await makeIdentity(kind));
});
afterAll(cleanup);

function identity(kind: KeyKind): Identity {
  const found = identities.get(kind);
  if (!found) throw new Error(`no identity ${kind}`);
  return found;
}

function load(kind: KeyKind, source: KeySource): SigningMaterial {
  const id = identity(kind);
  switch (source) {
    case 'pem':
      return loadPemMaterial({ keyPem: id.keyPem, certPem: id.certPem });
    case 'pem-encrypted': {
      const keyPem = id.material.privateKey
        .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASSWORD })
        .toString();
      return loadPemMaterial({ keyPem, certPem: id.certPem, password: PASSWORD });
    }
    case 'pem-pkcs1': {
      // The older "BEGIN RSA/EC PRIVATE KEY" forms many tools still write.
      const type = id.material.privateKey.asymmetricKeyType === 'ec' ? 'sec1' : 'pkcs1';
      const keyPem = id.material.privateKey.export({ format: 'pem', type }).toString();
      return loadPemMaterial({ keyPem, certPem: id.certPem });
    }
    default:
      return loadPkcs12Material(readFileSync(writeP12(id, dir, source, PASSWORD)), PASSWORD);
  }
}

let counter = 0;
function writeFi(content: Buffer): string {
  const path = join(dir, `FI.${++counter}`);
  writeFileSync(path, content);
  return path;
}

async function signAndCheck(
  material: SigningMaterial,
  content: Buffer,
  options: { digest?: DigestAlgorithm; format?: FsFormat } = {},
): Promise<{ fiPath: string; fsPath: string; fs: string }> {
  const fiPath = writeFi(content);
  const result = await signFile(fiPath, material, options);
  const fsPath = `${fiPath}.FS`;
  writeFileSync(fsPath, result.fs);
  return { fiPath, fsPath, fs: result.fs };
}

describe('every FS passes OpenSSL (cms -verify -binary)', () => {
  const matrix = KEY_KINDS.flatMap((kind, k) =>
    KEY_SOURCES.map((source, s) => {
      const names = Object.keys(CONTENTS);
      const content = names[(k + s) % names.length] as string;
      return { kind, source, content };
    }),
  );

  it.each(matrix)('$kind key from $source signing $content', async ({ kind, source, content }) => {
    const material = load(kind, source);
    const make = CONTENTS[content] as () => Buffer;
    const { fiPath, fsPath } = await signAndCheck(material, make());

    const verdict = opensslVerify(fiPath, fsPath);
    expect(verdict).toEqual({
      ok: true,
      stderr: expect.stringContaining('Verification successful'),
    });
    const ours = await verifyFile(fiPath, readFileSync(fsPath));
    expect(ours.signer.subject).toContain('CN=');
  });

  it.each(Object.keys(CONTENTS))('RSA signature over %s content in both layouts', async (name) => {
    const make = CONTENTS[name] as () => Buffer;
    for (const format of ['line', 'cr76'] as const) {
      const { fiPath, fsPath, fs } = await signAndCheck(identity('rsa2048').material, make(), {
        format,
      });
      expect(opensslVerify(fiPath, fsPath).ok).toBe(true);
      expect(fs.includes('\r')).toBe(format === 'cr76');
    }
  });

  it('SHA-1 on request, SHA-256 by default, visible in the structure', async () => {
    const material = identity('rsa2048').material;
    const sha1 = await signAndCheck(material, Buffer.from('x'), { digest: 'sha1' });
    const sha256 = await signAndCheck(material, Buffer.from('x'));
    expect(opensslVerify(sha1.fiPath, sha1.fsPath).ok).toBe(true);
    expect(opensslPrint(sha1.fsPath)).toMatch(/digestAlgorithm:\s*\n\s*algorithm: sha1/);
    expect(opensslPrint(sha256.fsPath)).toMatch(/digestAlgorithm:\s*\n\s*algorithm: sha256/);
  });

  it('OpenSSL refuses the signature once one byte of the file changes', async () => {
    const { fiPath, fsPath } = await signAndCheck(identity('ec256').material, Buffer.from('abc\n'));
    writeFileSync(fiPath, 'abd\n');
    expect(opensslVerify(fiPath, fsPath).ok).toBe(false);
    await expect(verifyFile(fiPath, readFileSync(fsPath))).rejects.toMatchObject({
      code: 'ACRF-125',
    });
  });

  it('is detached and carries contentType, signingTime and messageDigest in DER order', async () => {
    const { fsPath } = await signAndCheck(identity('rsa2048').material, Buffer.from('data'));
    const dump = opensslPrint(fsPath);
    expect(dump).toMatch(/eContent: <ABSENT>/);
    const order = ['contentType', 'signingTime', 'messageDigest'].map((attr) =>
      dump.indexOf(`object: ${attr}`),
    );
    expect(order.every((index) => index > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(dump).toMatch(/certificates:\s*\n\s*d\.certificate:/);
  });
});

/**
 * Full OpenSSL verification (no -noverify) trusting only the original
 * certificate, and the certificates the signature carries, as OpenSSL reads them.
 */
function opensslVerifyTrusting(
  fiPath: string,
  fsPath: string,
  trustedPem: string,
): { ok: boolean; stderr: string; certs: X509Certificate[] } {
  const derPath = `${fsPath}.trust.der`;
  const caPath = `${fsPath}.ca.pem`;
  const certsPath = `${fsPath}.certs.pem`;
  writeFileSync(derPath, Buffer.from(readFileSync(fsPath, 'latin1').replace(/\r/g, ''), 'base64'));
  writeFileSync(caPath, trustedPem);
  const result = spawnSync(
    'openssl',
    [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      derPath,
      '-content',
      fiPath,
      '-CAfile',
      caPath,
      '-certsout',
      certsPath,
      '-out',
      '/dev/null',
    ],
    { encoding: 'utf8' },
  );
  const pems = result.status === 0 ? readFileSync(certsPath, 'utf8') : '';
  const certs = (
    pems.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  ).map((pem) => new X509Certificate(pem));
  return { ok: result.status === 0, stderr: result.stderr, certs };
}

describe('a signature made from a PKCS#12 carries the original certificate', () => {
  it.each<P12Variant>(['modern', 'legacy', 'des3'])(
    '%s PKCS#12: the embedded certificate is byte-identical and chains to the original',
    async (variant) => {
      const id = identity('rsa2048');
      const original = id.material.certificate;
      const material = load('rsa2048', variant);
      const { fiPath, fsPath } = await signAndCheck(material, Buffer.from('<DmfA/>\n'));
      expect(opensslVerify(fiPath, fsPath).ok).toBe(true);
      const trusted = opensslVerifyTrusting(fiPath, fsPath, id.certPem);
      expect(trusted).toMatchObject({ ok: true, stderr: expect.stringContaining('successful') });
      expect(trusted.certs).toHaveLength(1);
      expect(trusted.certs[0]?.raw.equals(original.raw)).toBe(true);
      expect(trusted.certs[0]?.verify(original.publicKey)).toBe(true);
    },
  );
});

import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSelfSigned,
  type SelfSignedOptions,
  type SigningMaterial,
} from '../../shared/signing';

/** Key kinds the signer supports, plus weak ones used to test refusals. */
export type KeyKind = 'rsa2048' | 'rsa3072' | 'ec256' | 'ec384' | 'rsa1024' | 'ed25519';

/** Makes a private key of a kind. */
export function makeKey(kind: KeyKind): KeyObject {
  switch (kind) {
    case 'rsa2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    case 'rsa3072':
      return generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
    case 'rsa1024':
      return generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    case 'ec256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ec384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey;
  }
}

/** A certificate and key, as PEM text, with the material they make. */
export interface Identity {
  material: SigningMaterial;
  keyPem: string;
  certPem: string;
}

/** Makes a self-signed identity of a key kind (validity overridable). */
export async function makeIdentity(
  kind: KeyKind,
  options: Omit<SelfSignedOptions, 'key'> = {},
): Promise<Identity> {
  const key = makeKey(kind);
  // ed25519 and weak keys still get a certificate (signed by a helper RSA key
  // would be more realistic, but self-signing is enough to test refusals).
  const signingKey = kind === 'ed25519' ? makeKey('rsa2048') : key;
  const material = await createSelfSigned({ ...options, key: signingKey });
  const certPem = material.certificate.toString();
  if (kind === 'ed25519') {
    return {
      material: { ...material, privateKey: key },
      keyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
      certPem,
    };
  }
  return { material, keyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(), certPem };
}

/** A scratch folder removed by the returned function. */
export function scratchDir(prefix = 'onss-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** PKCS#12 flavours: OpenSSL 3's default, `-legacy` (RC2-40 + 3DES), and all-3DES (Windows). */
export type P12Variant = 'modern' | 'legacy' | 'des3';

const P12_ARGS: Record<P12Variant, string[]> = {
  modern: [],
  legacy: ['-legacy'],
  des3: ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
};

/** Writes a PKCS#12 file with OpenSSL; the password travels in the environment. */
export function writeP12(
  identity: Identity,
  dir: string,
  variant: P12Variant,
  password: string,
  extraCertsPem?: string,
): string {
  const keyFile = join(dir, `p12-${variant}.key.pem`);
  const certFile = join(dir, `p12-${variant}.cert.pem`);
  const out = join(dir, `${variant}.p12`);
  writeFileSync(keyFile, identity.keyPem);
  writeFileSync(certFile, identity.certPem);
  const extra =
    extraCertsPem === undefined ? [] : ['-certfile', join(dir, `p12-${variant}.extra.pem`)];
  if (extraCertsPem !== undefined)
    writeFileSync(join(dir, `p12-${variant}.extra.pem`), extraCertsPem);
  execFileSync(
    'openssl',
    [
      'pkcs12',
      '-export',
      ...P12_ARGS[variant],
      ...extra,
      '-in',
      certFile,
      '-inkey',
      keyFile,
      '-out',
      out,
      '-passout',
      'env:P12_PASS',
    ],
    { env: { ...process.env, P12_PASS: password }, stdio: 'pipe' },
  );
  return out;
}

/** The outcome of `openssl cms -verify -binary` on an FS file. */
export interface OpensslVerdict {
  ok: boolean;
  stderr: string;
}

/**
 * Asks OpenSSL whether an FS file is a valid detached signature of a file:
 * base64-decodes the FS (one line or CR-separated lines) and runs
 * `openssl cms -verify -binary -inform DER -content FI -noverify`.
 */
export function opensslVerify(fiPath: string, fsPath: string): OpensslVerdict {
  const der = Buffer.from(readFileSync(fsPath, 'latin1').replace(/\r/g, ''), 'base64');
  const derPath = `${fsPath}.der`;
  writeFileSync(derPath, der);
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
      '-noverify',
      '-out',
      '/dev/null',
    ],
    { encoding: 'utf8' },
  );
  return { ok: result.status === 0, stderr: result.stderr };
}

/** Dumps the CMS structure with OpenSSL, to assert on attributes and algorithms. */
export function opensslPrint(fsPath: string): string {
  const der = Buffer.from(readFileSync(fsPath, 'latin1').replace(/\r/g, ''), 'base64');
  const derPath = `${fsPath}.print.der`;
  writeFileSync(derPath, der);
  return execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', derPath], {
    encoding: 'utf8',
  });
}

/** Signs a file with `openssl cms -sign -binary` (detached unless told) and returns the DER. */
export function opensslSign(identity: Identity, fiPath: string, extraArgs: string[] = []): Buffer {
  const key = `${fiPath}.openssl.key.pem`;
  const cert = `${fiPath}.openssl.cert.pem`;
  writeFileSync(key, identity.keyPem);
  writeFileSync(cert, identity.certPem);
  return execFileSync('openssl', [
    'cms',
    '-sign',
    '-binary',
    ...extraArgs,
    '-in',
    fiPath,
    '-signer',
    cert,
    '-inkey',
    key,
    '-outform',
    'DER',
  ]);
}

/**
 * Known secret values for the leak test, made fresh for each run, and the scanner that looks for
 * them (and for pieces and encodings of them) in whatever text the product wrote.
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorizedKeyLine, loadPrivateKey } from '../../../shared/transport';
import { makeIdentity, makeKey, writeP12, type Identity } from '../../helpers/pki';

/** Length of a slice of a key's base64 body whose appearance anywhere is a leak. */
export const SLICE = 40;

/** A password-like secret: looked for as it is, in base64 and in hex. */
export interface PasswordSecret {
  name: string;
  value: string;
}

/** Key material: looked for as any {@link SLICE}-character slice of its base64 bodies. */
export interface KeySecret {
  name: string;
  /** Base64 bodies of the secret encodings (PEM bodies, DER as base64), whitespace removed. */
  bodies: string[];
}

/** Everything secret the leak test feeds the product, and the public material it may show. */
export interface KnownSecrets {
  /** The transfer point's FTP password (the simulator is started with it). */
  ftpPassword: string;
  /** A wrong FTP password, itself secret (a typo of the real one, in real life). */
  wrongFtpPassword: string;
  /** The signer: its key PEM (PKCS#8, unencrypted) and certificate. */
  signer: Identity;
  /** The signer key, PKCS#8 encrypted with {@link keyPassword}. */
  encryptedKeyPem: string;
  /** The password of {@link encryptedKeyPem}. */
  keyPassword: string;
  /** The signer key and certificate as PKCS#12, protected by {@link p12Password}. */
  p12: Buffer;
  /** Where {@link p12} is written, for the CLI. */
  p12Path: string;
  /** The password of {@link p12}. */
  p12Password: string;
  /** A wrong key password, itself secret. */
  wrongKeyPassword: string;
  /** The signer key PEM with its body damaged (most of it is still the real key). */
  corruptedKeyPem: string;
  /** The SFTP user key, PKCS#8 encrypted with {@link sshPassphrase}. */
  sshKeyPem: string;
  /** The passphrase of {@link sshKeyPem}. */
  sshPassphrase: string;
  /** A wrong SSH passphrase, itself secret. */
  wrongSshPassphrase: string;
  /** The `authorized_keys` line of the SSH key (public). */
  sshAuthorizedKey: string;
  /** Files written for the CLI: key PEMs, certificate, SSH key. */
  files: {
    keyPem: string;
    encryptedKeyPem: string;
    corruptedKeyPem: string;
    certPem: string;
    sshKey: string;
  };
  passwords: PasswordSecret[];
  keys: KeySecret[];
  /**
   * Base64 bodies of public material (certificate, public keys) and of a decoy key in the same
   * encodings: slices found there too are public or mere structure (the algorithm identifiers
   * every RSA 2048 PKCS#8 key starts with), not secret.
   */
  publicBodies: string[];
}

/** A password of this run: distinctive, printable, not shaped like a variable name. */
function password(label: string): string {
  return `${label}~${randomBytes(12).toString('hex')}!${randomBytes(6).toString('base64url')}`;
}

/** The base64 body of a PEM text (or of every PEM block in it), without whitespace. */
export function pemBody(pem: string): string {
  return pem
    .split('\n')
    .filter((line) => !line.startsWith('-----') && !/^[A-Za-z-]+:/.test(line))
    .join('')
    .replace(/\s+/g, '');
}

function der(key: KeyObject, type: 'pkcs8' | 'pkcs1'): string {
  return key.export({ format: 'der', type }).toString('base64');
}

function publicDer(key: KeyObject, type: 'spki' | 'pkcs1'): string {
  return createPublicKey(key).export({ format: 'der', type }).toString('base64');
}

/**
 * Damages a PEM key's body in its middle (a run of characters replaced), so that it no longer
 * parses as a key while most of it is still the real key.
 */
function corrupt(pem: string): string {
  const lines = pem.split('\n');
  const middle = Math.floor(lines.length / 2);
  const line = lines[middle] ?? '';
  lines[middle] =
    `${line.slice(0, 10)}${'A'.repeat(Math.max(0, line.length - 20))}${line.slice(-10)}`;
  // A DER length that cannot be right: the first body line starts the outer SEQUENCE.
  const first = lines[1] ?? '';
  lines[1] = `AAAA${first.slice(4)}`;
  return lines.join('\n');
}

/**
 * Makes the secrets of one run and writes the files the CLI reads into `dir`: an RSA 2048
 * signer (PEM plain, PEM encrypted, PKCS#12, a damaged PEM), an RSA SSH user key encrypted with
 * a passphrase, and passwords for FTP, the key, the PKCS#12 and the SSH key, plus wrong ones.
 */
export async function makeKnownSecrets(dir: string): Promise<KnownSecrets> {
  const ftpPassword = password('ftpPw');
  const wrongFtpPassword = password('ftpWrong');
  const keyPassword = password('keyPw');
  // Shaped like a variable name (letters and digits), as many real passwords are: the CLI must
  // not repeat it when it is typed where a variable name goes.
  const p12Password = `P12pw${randomBytes(12).toString('hex')}x`;
  const wrongKeyPassword = password('keyWrong');
  const sshPassphrase = password('sshPw');
  const wrongSshPassphrase = password('sshWrong');

  const signer = await makeIdentity('rsa2048', { commonName: 'Leak Test Signer' });
  const signerKey = createPrivateKey(signer.keyPem);
  const encryptedKeyPem = signerKey
    .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: keyPassword })
    .toString();
  const p12Path = writeP12(signer, dir, 'modern', p12Password);
  const p12 = readFileSync(p12Path);
  const corruptedKeyPem = corrupt(signer.keyPem);

  const sshKey = makeKey('rsa2048');
  const sshKeyPem = sshKey
    .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: sshPassphrase })
    .toString();
  const loaded = loadPrivateKey(sshKeyPem, sshPassphrase);
  const decoy = makeKey('rsa2048');
  const decoyEncrypted = decoy
    .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'decoy' })
    .toString();
  const sshAuthorizedKey = authorizedKeyLine(loaded.publicBlob, 'leak-test');

  const files = {
    keyPem: join(dir, 'signer.key.pem'),
    encryptedKeyPem: join(dir, 'signer.key.enc.pem'),
    corruptedKeyPem: join(dir, 'signer.key.bad.pem'),
    certPem: join(dir, 'signer.cert.pem'),
    sshKey: join(dir, 'ssh-user.key'),
  };
  writeFileSync(files.keyPem, signer.keyPem, { mode: 0o600 });
  writeFileSync(files.encryptedKeyPem, encryptedKeyPem, { mode: 0o600 });
  writeFileSync(files.corruptedKeyPem, corruptedKeyPem, { mode: 0o600 });
  writeFileSync(files.certPem, signer.certPem);
  writeFileSync(files.sshKey, sshKeyPem, { mode: 0o600 });

  return {
    ftpPassword,
    wrongFtpPassword,
    signer,
    encryptedKeyPem,
    keyPassword,
    p12,
    p12Path,
    p12Password,
    wrongKeyPassword,
    corruptedKeyPem,
    sshKeyPem,
    sshPassphrase,
    wrongSshPassphrase,
    sshAuthorizedKey,
    files,
    passwords: [
      { name: 'FTP password', value: ftpPassword },
      { name: 'wrong FTP password', value: wrongFtpPassword },
      { name: 'key password', value: keyPassword },
      { name: 'PKCS#12 password', value: p12Password },
      { name: 'wrong key password', value: wrongKeyPassword },
      { name: 'SSH key passphrase', value: sshPassphrase },
      { name: 'wrong SSH key passphrase', value: wrongSshPassphrase },
    ],
    keys: [
      {
        name: 'signing key',
        bodies: [pemBody(signer.keyPem), der(signerKey, 'pkcs1'), pemBody(encryptedKeyPem)],
      },
      { name: 'signing key (damaged copy)', bodies: [pemBody(corruptedKeyPem)] },
      { name: 'PKCS#12 container', bodies: [p12.toString('base64')] },
      {
        name: 'SSH user key',
        bodies: [
          der(sshKey, 'pkcs8'),
          der(sshKey, 'pkcs1'),
          pemBody(sshKeyPem),
          pemBody(loaded.pem),
        ],
      },
    ],
    publicBodies: [
      pemBody(signer.certPem),
      publicDer(signerKey, 'spki'),
      publicDer(signerKey, 'pkcs1'),
      publicDer(sshKey, 'spki'),
      publicDer(sshKey, 'pkcs1'),
      loaded.publicBlob.toString('base64'),
      der(decoy, 'pkcs8'),
      der(decoy, 'pkcs1'),
      pemBody(decoyEncrypted),
    ],
  };
}

/** One piece of captured text: where it came from, and the text. */
export interface Captured {
  source: string;
  text: string;
}

/** A secret found in captured text. The secret itself is not repeated, only its name. */
export interface Leak {
  source: string;
  secret: string;
  /** `as is`, `base64`, `base64url`, `hex`, or `40-character slice of the base64 body`. */
  form: string;
  /** Offset in the (normalised) text. */
  at: number;
}

/** Looks for known secrets in captured text. */
export interface LeakScanner {
  /** Every leak in the captured texts; empty when none. */
  scan(captured: readonly Captured[]): Leak[];
  /** How many distinct slices of key bodies are looked for (a sanity figure). */
  readonly sliceCount: number;
}

function slices(body: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + SLICE <= body.length; i += 1) out.push(body.slice(i, i + SLICE));
  return out;
}

/**
 * A scanner for the secrets: each password as it is, in base64 (padded and url-safe) and in hex;
 * each key as any {@link SLICE}-character slice of its base64 bodies, in text with whitespace
 * and escaped line breaks (`\n` as two characters, as JSON and `util.inspect` write them)
 * removed. Slices that also occur in public material (certificate, public keys) are not secret
 * and are left out.
 */
export function leakScanner(secrets: KnownSecrets): LeakScanner {
  const publicSlices = new Set(secrets.publicBodies.flatMap(slices));
  const keySlices = new Map<string, string>();
  for (const key of secrets.keys) {
    for (const body of key.bodies) {
      for (const slice of slices(body)) {
        if (!publicSlices.has(slice) && !keySlices.has(slice)) keySlices.set(slice, key.name);
      }
    }
  }
  const needles: Array<{ secret: string; form: string; value: string }> = [];
  for (const { name, value } of secrets.passwords) {
    const bytes = Buffer.from(value, 'utf8');
    needles.push(
      { secret: name, form: 'as is', value },
      { secret: name, form: 'base64', value: bytes.toString('base64').replace(/=+$/, '') },
      { secret: name, form: 'base64url', value: bytes.toString('base64url') },
      { secret: name, form: 'hex', value: bytes.toString('hex') },
      { secret: name, form: 'HEX', value: bytes.toString('hex').toUpperCase() },
    );
  }
  return {
    sliceCount: keySlices.size,
    scan(captured) {
      const leaks: Leak[] = [];
      for (const { source, text } of captured) {
        for (const needle of needles) {
          const at = text.indexOf(needle.value);
          if (at >= 0) leaks.push({ source, secret: needle.secret, form: needle.form, at });
        }
        const flat = text.replace(/\\r|\\n|\s+/g, '');
        for (let i = 0; i + SLICE <= flat.length; i += 1) {
          const name = keySlices.get(flat.slice(i, i + SLICE));
          if (name !== undefined) {
            leaks.push({
              source,
              secret: name,
              form: `${SLICE}-character slice of its body`,
              at: i,
            });
            break; // one per source and text is enough to say where
          }
        }
      }
      return leaks;
    },
  };
}

/**
 * SSH key material for the SFTP channel: host key fingerprints as OpenSSH prints them, and
 * private keys read once into the form ssh2 takes. Shared by the SFTP adapter and the local
 * SFTP server of the simulator.
 */
import { createHash, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { utils, type ParsedKey } from 'ssh2';

/** `SHA256:` (any case) then 43 base64 characters (32 bytes), optionally padded with one `=`. */
const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/i;

/**
 * The fingerprint of a public key blob (the SSH wire encoding of the key) as OpenSSH prints
 * it (`ssh-keygen -l`, `ssh -v`): `SHA256:` and the base64 of its SHA-256, without padding.
 */
export function sshFingerprint(publicKeyBlob: Buffer): string {
  const digest = createHash('sha256').update(publicKeyBlob).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/**
 * A pinned fingerprint in its canonical form (`SHA256:` + 43 characters, no padding), or
 * undefined when `value` is not one. Spaces around it and the case of `SHA256:` are forgiven;
 * nothing else is, since base64 is case-sensitive.
 */
export function normalizeSshFingerprint(value: string): string | undefined {
  const match = FINGERPRINT.exec(value.trim());
  return match ? `SHA256:${match[1]}` : undefined;
}

/** The key type named at the start of a public key blob (`ssh-rsa`, `ssh-ed25519`...). */
export function sshKeyType(publicKeyBlob: Buffer): string {
  if (publicKeyBlob.length < 4) return 'unknown';
  const length = publicKeyBlob.readUInt32BE(0);
  if (length > 64 || publicKeyBlob.length < 4 + length) return 'unknown';
  return publicKeyBlob.subarray(4, 4 + length).toString('latin1');
}

/** A private key ready for ssh2: decrypted once, in a format ssh2 reads. */
export interface LoadedPrivateKey {
  /** The key, unencrypted: PKCS#1 (RSA), SEC1 (ECDSA) or OpenSSH (ed25519) PEM. Secret. */
  pem: string;
  /** ssh2's key type: `ssh-rsa`, `ssh-ed25519`, `ecdsa-sha2-nistp256`... */
  type: string;
  /** The public key blob, for fingerprints and authorized_keys lines. */
  publicBlob: Buffer;
}

/** Why a private key could not be read; the message never quotes the key or the passphrase. */
export class PrivateKeyError extends Error {
  constructor(
    message: string,
    /** `missing-passphrase`, `wrong-passphrase`, `not-private` or `unreadable`. */
    readonly reason: 'missing-passphrase' | 'wrong-passphrase' | 'not-private' | 'unreadable',
  ) {
    super(message);
    this.name = 'PrivateKeyError';
  }
}

function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

/**
 * An ed25519 key in OpenSSH's own unencrypted format (`openssh-key-v1`, PROTOCOL.key): the
 * only form in which ssh2 reads ed25519 private keys (it refuses PKCS#8).
 */
function openSshEd25519(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') {
    throw new PrivateKeyError('the ed25519 key could not be exported', 'unreadable');
  }
  const seed = Buffer.from(jwk.d, 'base64url');
  const publicKey = Buffer.from(jwk.x, 'base64url');
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(publicKey)]);
  const check = randomBytes(4);
  let section = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(publicKey),
    sshString(Buffer.concat([seed, publicKey])),
    sshString(''),
  ]);
  // The private section is padded to the cipher's block size (8 for "none") with 1, 2, 3...
  const padding = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(section),
  ]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return [
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    ...lines,
    '-----END OPENSSH PRIVATE KEY-----',
  ].join('\n');
}

/** A Node key object as ssh2 reads it: PKCS#1 for RSA, SEC1 for EC, OpenSSH for ed25519. */
function ssh2Pem(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return key.export({ format: 'pem', type: 'pkcs1' }).toString();
    case 'ec':
      return key.export({ format: 'pem', type: 'sec1' }).toString();
    case 'ed25519':
      return openSshEd25519(key);
    default:
      throw new PrivateKeyError(
        `${key.asymmetricKeyType ?? 'this'} keys cannot be used for SSH: use RSA or ed25519`,
        'unreadable',
      );
  }
}

function parsed(result: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(result) ? (result[0] ?? new Error('no key found')) : result;
}

function fromSsh2Error(error: Error): PrivateKeyError {
  const text = error.message;
  if (/no passphrase given/i.test(text)) {
    return new PrivateKeyError(
      'the private key is encrypted: give its passphrase',
      'missing-passphrase',
    );
  }
  if (/bad passphrase|integrity check failed|decrypt/i.test(text)) {
    return new PrivateKeyError(
      'the private key could not be decrypted: is the passphrase right?',
      'wrong-passphrase',
    );
  }
  return new PrivateKeyError(
    `the private key cannot be read (${text}); give an OpenSSH, PKCS#1 or PKCS#8 PEM private key`,
    'unreadable',
  );
}

/** PKCS#8 (plain or encrypted) and other PEM forms ssh2 does not read, through Node's crypto. */
function throughNode(text: string, passphrase: string | undefined): string {
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase === undefined ? text : { key: text, passphrase });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // OpenSSL 3 may report a missing passphrase as an interrupted read: an encrypted PKCS#8
    // key read without one is named for what it is.
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text);
    if (code === 'ERR_MISSING_PASSPHRASE' || (encrypted && passphrase === undefined)) {
      throw new PrivateKeyError(
        'the private key is encrypted: give its passphrase',
        'missing-passphrase',
      );
    }
    if (/bad decrypt/i.test(String((error as { message?: unknown }).message))) {
      throw new PrivateKeyError(
        'the private key could not be decrypted: is the passphrase right?',
        'wrong-passphrase',
      );
    }
    throw new PrivateKeyError(
      'the private key cannot be read; give an OpenSSH, PKCS#1 or PKCS#8 PEM private key',
      'unreadable',
    );
  }
  return ssh2Pem(key);
}

/**
 * Reads a private key once: OpenSSH format (`ssh-keygen`'s default, encrypted or not),
 * PKCS#1 / SEC1 PEM (`-----BEGIN RSA PRIVATE KEY-----`, legacy encryption included) or
 * PKCS#8 PEM (`-----BEGIN [ENCRYPTED] PRIVATE KEY-----`, OpenSSL's and Node's default).
 * Returns it decrypted, in a form ssh2 reads without the passphrase: an OpenSSH key is
 * protected by bcrypt, which costs about half a second per read, and a reconnecting session
 * would otherwise pay it each time. Throws a {@link PrivateKeyError} that names what to fix.
 */
export function loadPrivateKey(key: string | Buffer, passphrase?: string): LoadedPrivateKey {
  const text = (typeof key === 'string' ? key : key.toString('utf8')).trim();
  if (text === '') throw new PrivateKeyError('the private key is empty', 'unreadable');
  let result = parsed(utils.parseKey(text, passphrase));
  if (result instanceof Error) {
    if (!/unsupported key format/i.test(result.message)) throw fromSsh2Error(result);
    result = parsed(utils.parseKey(throughNode(text, passphrase)));
    if (result instanceof Error) throw fromSsh2Error(result);
  }
  if (!result.isPrivateKey()) {
    throw new PrivateKeyError(
      'the key given is a public key: give the private key (the file without .pub)',
      'not-private',
    );
  }
  const pem = result.getPrivatePEM();
  const type = result.type;
  // ssh2 hands back ed25519 keys as PKCS#8, which it cannot read again: re-encode them.
  const reusable = type === 'ssh-ed25519' ? openSshEd25519(createPrivateKey(pem)) : pem;
  return { pem: reusable, type, publicBlob: result.getPublicSSH() };
}

/** The `authorized_keys` line of a key blob: `ssh-rsa AAAA... comment`. */
export function authorizedKeyLine(publicBlob: Buffer, comment = ''): string {
  return `${sshKeyType(publicBlob)} ${publicBlob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

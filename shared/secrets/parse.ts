/**
 * The shapes of our secrets and their parsers. Pure: no I/O, no SDK. Every refusal names the
 * field at fault and what was expected of it, and never repeats a value: a secret's fields are
 * keys and passwords, and error messages end up in logs.
 */
import {
  KeyMismatchError,
  KeyPasswordRequiredError,
  KeyPasswordWrongError,
  loadPemMaterial,
  loadPkcs12Material,
  normalizeFingerprint,
  readPemCertificates,
  readPemPrivateKey,
  SigningError,
  type SigningMaterial,
} from '../signing';
import { SecretFormatError, WHOLE_VALUE } from './errors';

/** Signing material kept as PEM text: the key (perhaps encrypted) and its certificate(s). */
export interface PemSigningSecret {
  format: 'pem';
  /** The private key, PEM (PKCS#8, encrypted or not, or PKCS#1/SEC1). */
  privateKeyPem: string;
  /** The signer certificate, PEM, perhaps followed by its issuers. */
  certificatePem: string;
  /** The password of an encrypted key. */
  keyPassword?: string;
}

/** Signing material kept as a PKCS#12 / .pfx container. */
export interface Pkcs12SigningSecret {
  format: 'pkcs12';
  /** The container's bytes, base64. */
  pkcs12Base64: string;
  /** The container's password (may be empty, never absent). */
  password: string;
}

/** The signing secret: `{ "format": "pem", ... }` or `{ "format": "pkcs12", ... }`. */
export type SigningSecret = PemSigningSecret | Pkcs12SigningSecret;

/** What the server secret may say about trusting the server, beside the credentials. */
export interface ServerTrust {
  /** SFTP: the pinned host key, in OpenSSH's fingerprint format (`SHA256:` and 43 base64). */
  hostKeySha256?: string;
  /** FTPS: the CA certificate(s) the server's certificate must chain to, PEM. */
  caPem?: string;
  /**
   * FTPS: the pinned SHA-256 fingerprint of the server's certificate, as upper-case hex pairs
   * joined by colons (`AB:CD:...`); the secret may write it in any case, with or without colons.
   */
  serverCertSha256?: string;
}

/** Transfer point credentials with a password (FTP, FTPS, SFTP). */
export interface PasswordCredentials extends ServerTrust {
  user: string;
  password: string;
}

/** Transfer point credentials with an SSH key (SFTP). */
export interface SshKeyCredentials extends ServerTrust {
  user: string;
  /** The SSH private key, PEM or OpenSSH format. */
  privateKeyPem: string;
  /** The key's passphrase, when it is encrypted. */
  passphrase?: string;
}

/** The server secret: `{ "user", "password" }` or `{ "user", "privateKeyPem", "passphrase"? }`. */
export type ServerCredentials = PasswordCredentials | SshKeyCredentials;

type Fields = Record<string, unknown>;

// A field name we may repeat in a message: it looks like a name, not like a value.
const PRINTABLE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PEM_PRIVATE_KEY =
  /-----BEGIN ([A-Z0-9 ]+ )?PRIVATE KEY-----[\s\S]+-----END ([A-Z0-9 ]+ )?PRIVATE KEY-----/;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;

/**
 * Parses a secret's JSON text into its fields. The text is never quoted back: a JSON syntax
 * error from V8 quotes the text around the fault, so it is replaced, not kept as `cause`.
 */
function parseObject(value: string, what: string): Fields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '');
    throw new SecretFormatError(
      what,
      WHOLE_VALUE,
      `is not valid JSON${position ? ` (near character ${position[1]})` : ''}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SecretFormatError(what, WHOLE_VALUE, 'must be a JSON object');
  }
  return parsed as Fields;
}

function refuseOtherFields(fields: Fields, allowed: readonly string[], what: string): void {
  for (const name of Object.keys(fields)) {
    if (allowed.includes(name)) continue;
    if (PRINTABLE_NAME.test(name)) {
      throw new SecretFormatError(
        what,
        name,
        `is not expected here (allowed: ${allowed.join(', ')})`,
      );
    }
    throw new SecretFormatError(
      what,
      WHOLE_VALUE,
      `has a field that is not expected here (allowed: ${allowed.join(', ')})`,
    );
  }
}

function requiredString(fields: Fields, name: string, what: string, allowEmpty = false): string {
  const value = fields[name];
  if (value === undefined) throw new SecretFormatError(what, name, 'is missing');
  if (typeof value !== 'string') throw new SecretFormatError(what, name, 'must be a string');
  if (!allowEmpty && value.length === 0) throw new SecretFormatError(what, name, 'is empty');
  return value;
}

function optionalString(fields: Fields, name: string, what: string): string | undefined {
  return fields[name] === undefined ? undefined : requiredString(fields, name, what, true);
}

/**
 * Parses the signing secret's JSON and checks its shape: `format` `pem` with `privateKeyPem`,
 * `certificatePem` and optional `keyPassword`, or `format` `pkcs12` with `pkcs12Base64` and
 * `password`. Throws SecretFormatError naming the field. The material itself is only read by
 * {@link signingMaterialFromSecret}.
 */
export function parseSigningSecret(value: string, what = 'the signing secret'): SigningSecret {
  const fields = parseObject(value, what);
  const format = fields.format;
  if (format === 'pem') {
    refuseOtherFields(fields, ['format', 'privateKeyPem', 'certificatePem', 'keyPassword'], what);
    const privateKeyPem = requiredString(fields, 'privateKeyPem', what);
    if (!PEM_PRIVATE_KEY.test(privateKeyPem)) {
      throw new SecretFormatError(
        what,
        'privateKeyPem',
        'must hold a PEM private key (BEGIN ... PRIVATE KEY)',
      );
    }
    const certificatePem = requiredString(fields, 'certificatePem', what);
    if (!PEM_CERTIFICATE.test(certificatePem)) {
      throw new SecretFormatError(
        what,
        'certificatePem',
        'must hold a PEM certificate (BEGIN CERTIFICATE)',
      );
    }
    const keyPassword = optionalString(fields, 'keyPassword', what);
    return keyPassword === undefined
      ? { format, privateKeyPem, certificatePem }
      : { format, privateKeyPem, certificatePem, keyPassword };
  }
  if (format === 'pkcs12') {
    refuseOtherFields(fields, ['format', 'pkcs12Base64', 'password'], what);
    const pkcs12Base64 = requiredString(fields, 'pkcs12Base64', what).replace(/\s+/g, '');
    if (pkcs12Base64.length === 0 || !BASE64.test(pkcs12Base64)) {
      throw new SecretFormatError(what, 'pkcs12Base64', 'must be base64 (A-Z a-z 0-9 + / =)');
    }
    const password = requiredString(fields, 'password', what, true);
    return { format, pkcs12Base64, password };
  }
  if (format === undefined) throw new SecretFormatError(what, 'format', 'is missing');
  throw new SecretFormatError(what, 'format', 'must be "pem" or "pkcs12"');
}

/** Reruns a loader, turning its refusal into a SecretFormatError about `field`. */
function attribute<T>(what: string, field: (error: SigningError) => string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    // Signing errors carry file roles and certificate facts only, never key bytes or passwords.
    if (error instanceof SigningError) {
      throw new SecretFormatError(what, field(error), `is not usable: ${error.message}`, error);
    }
    throw error;
  }
}

/**
 * Reads the signing material a parsed secret holds, with the project's loaders
 * (`loadPemMaterial`, `loadPkcs12Material`). Refusals (wrong password, unreadable key, key and
 * certificate that do not match) are SecretFormatError naming the field to fix, with the
 * signing error as `cause`. Certificate validity and key strength are not judged here: see
 * `checkMaterial`.
 */
export function signingMaterialFromSecret(
  secret: SigningSecret,
  what = 'the signing secret',
): SigningMaterial {
  if (secret.format === 'pem') {
    const password = secret.keyPassword;
    const passwordField = (error: SigningError) =>
      error instanceof KeyPasswordRequiredError || error instanceof KeyPasswordWrongError
        ? 'keyPassword'
        : 'privateKeyPem';
    // Read each part on its own first, so a refusal names the field at fault.
    attribute(what, passwordField, () => readPemPrivateKey(secret.privateKeyPem, password));
    attribute(
      what,
      () => 'certificatePem',
      () => readPemCertificates(secret.certificatePem),
    );
    return attribute(
      what,
      (error) => (error instanceof KeyMismatchError ? 'certificatePem' : passwordField(error)),
      () =>
        loadPemMaterial({
          keyPem: secret.privateKeyPem,
          certPem: secret.certificatePem,
          ...(password === undefined ? {} : { password }),
        }),
    );
  }
  const bytes = Buffer.from(secret.pkcs12Base64, 'base64');
  return attribute(
    what,
    (error) =>
      error instanceof KeyPasswordRequiredError || error instanceof KeyPasswordWrongError
        ? 'password'
        : 'pkcs12Base64',
    () => loadPkcs12Material(bytes, secret.password),
  );
}

/** {@link parseSigningSecret} then {@link signingMaterialFromSecret}. */
export function loadSigningSecret(value: string, what = 'the signing secret'): SigningMaterial {
  return signingMaterialFromSecret(parseSigningSecret(value, what), what);
}

/** The signing secret's JSON text, fields in a fixed order (what `import-key` stores). */
export function formatSigningSecret(secret: SigningSecret): string {
  const ordered =
    secret.format === 'pem'
      ? {
          format: secret.format,
          privateKeyPem: secret.privateKeyPem,
          certificatePem: secret.certificatePem,
          ...(secret.keyPassword === undefined ? {} : { keyPassword: secret.keyPassword }),
        }
      : { format: secret.format, pkcs12Base64: secret.pkcs12Base64, password: secret.password };
  return JSON.stringify(ordered);
}

/**
 * The cipher of an OpenSSH-format key (`none` when not encrypted), read from its header; undefined
 * when the key is in another format or unreadable (the SSH library will judge it).
 */
function openSshCipher(pem: string): string | undefined {
  const match =
    /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]+?)-----END OPENSSH PRIVATE KEY-----/.exec(pem);
  if (!match?.[1]) return undefined;
  const bytes = Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (bytes.length < magic.length + 4 || bytes.toString('latin1', 0, magic.length) !== magic) {
    return undefined;
  }
  const length = bytes.readUInt32BE(magic.length);
  const start = magic.length + 4;
  if (length > 64 || start + length > bytes.length) return undefined;
  return bytes.toString('latin1', start, start + length);
}

function isEncryptedKey(pem: string): boolean {
  if (pem.includes('ENCRYPTED PRIVATE KEY') || /Proc-Type:\s*4,ENCRYPTED/.test(pem)) return true;
  const cipher = openSshCipher(pem);
  return cipher !== undefined && cipher !== 'none';
}

const HOST_KEY_SHA256 = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The optional fields of the server secret about trusting the server. */
const TRUST_FIELDS = ['hostKeySha256', 'caPem', 'serverCertSha256'] as const;

/** The optional trust fields of the server secret, checked. */
function serverTrust(fields: Fields, what: string): ServerTrust {
  const hostKeySha256 = optionalString(fields, 'hostKeySha256', what);
  if (hostKeySha256 !== undefined && !HOST_KEY_SHA256.test(hostKeySha256)) {
    throw new SecretFormatError(
      what,
      'hostKeySha256',
      'must be an OpenSSH SHA-256 fingerprint (SHA256: and 43 base64 characters)',
    );
  }
  const caPem = optionalString(fields, 'caPem', what);
  if (caPem !== undefined && !PEM_CERTIFICATE.test(caPem)) {
    throw new SecretFormatError(what, 'caPem', 'must hold PEM certificates (BEGIN CERTIFICATE)');
  }
  const pin = optionalString(fields, 'serverCertSha256', what);
  const serverCertSha256 = pin === undefined ? undefined : normalizeFingerprint(pin);
  if (pin !== undefined && serverCertSha256 === undefined) {
    throw new SecretFormatError(
      what,
      'serverCertSha256',
      "must be the SHA-256 fingerprint of the server's certificate: 64 hex digits, colons optional (openssl x509 -fingerprint -sha256)",
    );
  }
  return {
    ...(hostKeySha256 === undefined ? {} : { hostKeySha256 }),
    ...(caPem === undefined ? {} : { caPem }),
    ...(serverCertSha256 === undefined ? {} : { serverCertSha256 }),
  };
}

/**
 * Parses the transfer point credentials: `{ "user", "password" }`, or
 * `{ "user", "privateKeyPem", "passphrase"? }` for SFTP with an SSH key (one of the two, not
 * both), each with the optional trust fields `hostKeySha256` (SFTP), `caPem` and
 * `serverCertSha256` (FTPS; kept normalised, `AB:CD:...`).
 * Checks the shape only; the key is read by the SFTP adapter. Throws SecretFormatError naming
 * the field.
 */
export function parseServerSecret(value: string, what = 'the server secret'): ServerCredentials {
  const fields = parseObject(value, what);
  const user = requiredString(fields, 'user', what);
  if (CONTROL.test(user)) {
    throw new SecretFormatError(what, 'user', 'must not hold control characters or line breaks');
  }
  const hasPassword = fields.password !== undefined;
  const hasKey = fields.privateKeyPem !== undefined;
  if (hasPassword && hasKey) {
    throw new SecretFormatError(
      what,
      'privateKeyPem',
      'cannot be given with "password": give one of the two',
    );
  }
  if (hasPassword) {
    refuseOtherFields(fields, ['user', 'password', ...TRUST_FIELDS], what);
    return {
      user,
      password: requiredString(fields, 'password', what),
      ...serverTrust(fields, what),
    };
  }
  if (!hasKey) {
    throw new SecretFormatError(
      what,
      'password',
      'is missing (give "password", or "privateKeyPem" for an SSH key)',
    );
  }
  refuseOtherFields(fields, ['user', 'privateKeyPem', 'passphrase', ...TRUST_FIELDS], what);
  const privateKeyPem = requiredString(fields, 'privateKeyPem', what);
  if (!PEM_PRIVATE_KEY.test(privateKeyPem)) {
    throw new SecretFormatError(
      what,
      'privateKeyPem',
      'must hold a PEM or OpenSSH private key (BEGIN ... PRIVATE KEY)',
    );
  }
  const passphrase = optionalString(fields, 'passphrase', what);
  if (passphrase === undefined && isEncryptedKey(privateKeyPem)) {
    throw new SecretFormatError(what, 'passphrase', 'is missing: the SSH key is encrypted');
  }
  return {
    user,
    privateKeyPem,
    ...(passphrase === undefined ? {} : { passphrase }),
    ...serverTrust(fields, what),
  };
}

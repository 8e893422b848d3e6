import { OnssTransferError } from '../errors';

/**
 * Failures of the signing material and of signatures. None of their messages
 * ever carries a password or key bytes: only file roles and certificate facts.
 */
export class SigningError extends OnssTransferError {}

/** The key or container is encrypted and no password was given. */
export class KeyPasswordRequiredError extends SigningError {
  constructor(what: string) {
    super(`${what} is encrypted: give its password through --key-password-env VAR`, {
      code: 'KEY_PASSWORD_REQUIRED',
    });
  }
}

/** The password does not open the key or the PKCS#12 container. */
export class KeyPasswordWrongError extends SigningError {
  constructor(what: string, cause?: unknown) {
    super(`${what}: the password is wrong (or the file is damaged)`, {
      code: 'KEY_PASSWORD_WRONG',
      cause,
    });
  }
}

/** A key, certificate or container that cannot be read at all. */
export class MaterialUnreadableError extends SigningError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'MATERIAL_UNREADABLE', cause });
  }
}

/** The signer certificate is outside its validity period. */
export class CertificateValidityError extends SigningError {
  constructor(message: string, code: 'CERT_EXPIRED' | 'CERT_NOT_YET_VALID') {
    super(message, { code });
  }
}

/** The private key is not the one of the certificate. */
export class KeyMismatchError extends SigningError {
  constructor(message: string) {
    super(message, { code: 'KEY_CERT_MISMATCH' });
  }
}

/** The key is of an unsupported type or too weak for the transfer point. */
export class WeakKeyError extends SigningError {
  constructor(message: string) {
    super(message, { code: 'KEY_TOO_WEAK' });
  }
}

/** A digest algorithm we refuse (MD5) or do not know. */
export class DigestRefusedError extends SigningError {
  constructor(message: string) {
    super(message, { code: 'DIGEST_REFUSED' });
  }
}

/** An FS file that breaks the transfer point's format rules (base64 layout). */
export class SignatureFormatError extends SigningError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'FS_FORMAT', cause });
  }
}

/** A signature that does not match its file or does not verify (ACRF 125). */
export class SignatureInvalidError extends SigningError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'ACRF-125', cause });
  }
}

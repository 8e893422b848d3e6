import { FTPError } from 'basic-ftp';
import { OnssTransferError } from '../errors';

/**
 * Failures of a transport session. Each says whether trying again may help
 * (`transient`) and, when the server answered, its FTP reply code. Messages
 * name the operation and the remote path, never a password.
 */

/** Stable codes of transport failures. */
export const TRANSPORT_CODES = {
  /** The server refused the user name or password. */
  AUTH: 'TRANSPORT_AUTH',
  /** No connection could be opened, or the server dropped it. */
  CONNECT: 'TRANSPORT_CONNECT',
  /** The server did not answer or move data in time. */
  TIMEOUT: 'TRANSPORT_TIMEOUT',
  /** The server answered with a refusal (4xx: try later; 5xx: do not). */
  REFUSED: 'TRANSPORT_REFUSED',
  /** The remote file or folder does not exist. */
  NOT_FOUND: 'TRANSPORT_NOT_FOUND',
  /** A remote path we refuse to send (absolute, `..`, control characters). */
  PATH: 'TRANSPORT_PATH',
  /** Connection options that cannot work (bad host, port, timeout...). */
  CONFIG: 'TRANSPORT_CONFIG',
  /** FTPS could not be set up: an untrusted or mismatched certificate, no AUTH TLS, a failed handshake. */
  TLS: 'TRANSPORT_TLS',
  /** The Transport was closed by its owner and cannot be used any more. */
  CLOSED: 'TRANSPORT_CLOSED',
  /** SFTP: the server's host key is not the pinned one, or none is pinned (never transient). */
  HOST_KEY: 'TRANSPORT_HOST_KEY',
  /** FTPS: the server's certificate is not the pinned one (never transient). */
  SERVER_CERT: 'TRANSPORT_SERVER_CERT',
  /** Any other failure; not retried, since nothing says it would help. */
  FAILED: 'TRANSPORT_FAILED',
} as const;

/** One of {@link TRANSPORT_CODES}. */
export type TransportCode = (typeof TRANSPORT_CODES)[keyof typeof TRANSPORT_CODES];

/** What every transport error carries besides its message. */
export interface TransportErrorOptions {
  code: TransportCode;
  /** True when the same operation may succeed if tried again later. */
  transient: boolean;
  /** The server's FTP reply code, when the failure is a server reply. */
  ftpCode?: number;
  cause?: unknown;
}

/** Base class of every failure of a Transport. */
export class TransportError extends OnssTransferError {
  /** True when the same operation may succeed if tried again later. */
  readonly transient: boolean;
  /** The server's FTP reply code, when the failure is a server reply. */
  declare readonly ftpCode?: number;

  constructor(message: string, options: TransportErrorOptions) {
    super(message, { code: options.code, cause: options.cause });
    this.transient = options.transient;
    if (options.ftpCode !== undefined) this.ftpCode = options.ftpCode;
  }
}

/** Details of a failure that may come from a server reply. */
export interface ReplyDetails {
  ftpCode?: number;
  cause?: unknown;
}

/** The server refused the credentials: trying again cannot help. */
export class TransportAuthError extends TransportError {
  constructor(message: string, details: ReplyDetails = {}) {
    super(message, { code: TRANSPORT_CODES.AUTH, transient: false, ...details });
  }
}

/** No connection, or a connection the server or network dropped. */
export class TransportConnectError extends TransportError {
  constructor(message: string, details: ReplyDetails = {}) {
    super(message, { code: TRANSPORT_CODES.CONNECT, transient: true, ...details });
  }
}

/** The server did not answer, or data stopped moving, within the timeout. */
export class TransportTimeoutError extends TransportError {
  constructor(message: string, details: ReplyDetails = {}) {
    super(message, { code: TRANSPORT_CODES.TIMEOUT, transient: true, ...details });
  }
}

/**
 * The server answered an operation with a refusal. A 4xx reply is a
 * temporary condition by the FTP standard (RFC 959); a 5xx one is final.
 */
export class TransportRefusedError extends TransportError {
  constructor(message: string, ftpCode: number, cause?: unknown) {
    super(message, {
      code: TRANSPORT_CODES.REFUSED,
      transient: isTransientReply(ftpCode),
      ftpCode,
      cause,
    });
  }
}

/** The remote file or folder does not exist. */
export class TransportNotFoundError extends TransportError {
  constructor(message: string, details: ReplyDetails = {}) {
    super(message, { code: TRANSPORT_CODES.NOT_FOUND, transient: false, ...details });
  }
}

/** A remote path refused before anything was sent. */
export class TransportPathError extends TransportError {
  constructor(message: string) {
    super(message, { code: TRANSPORT_CODES.PATH, transient: false });
  }
}

/** Connection options that cannot work; the message says what to fix. */
export class TransportConfigError extends TransportError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: TRANSPORT_CODES.CONFIG, transient: false, cause });
  }
}

/** What went wrong with TLS, for callers that react differently (and for tests). */
export type TlsProblem =
  /** The certificate does not chain to a trusted CA (self-signed, unknown issuer...). */
  | 'untrusted-certificate'
  /** The certificate is for another host name or address. */
  | 'hostname-mismatch'
  /** The certificate has expired or is not valid yet. */
  | 'certificate-dates'
  /** The server does not offer explicit TLS: it refused AUTH TLS. */
  | 'no-auth-tls'
  /** The server refused to protect the data connections (PBSZ / PROT P). */
  | 'no-data-protection'
  /** The TLS handshake or a TLS record failed (protocol versions, ciphers, a broken record). */
  | 'handshake';

/**
 * FTPS failed: the server could not be authenticated or would not speak TLS. Never transient:
 * the same certificate and the same server give the same answer; a person must act (give the
 * right CA file, fix the host name, ask for FTPS).
 */
export class TransportTlsError extends TransportError {
  readonly problem: TlsProblem;

  constructor(message: string, problem: TlsProblem, details: ReplyDetails = {}) {
    super(message, { code: TRANSPORT_CODES.TLS, transient: false, ...details });
    this.problem = problem;
  }
}

/** An operation on a Transport its owner already closed. */
export class TransportClosedError extends TransportError {
  constructor(message: string) {
    super(message, { code: TRANSPORT_CODES.CLOSED, transient: false });
  }
}

/** What a pin holds a server to: its SSH host key (SFTP) or its TLS certificate (FTPS). */
export type ServerIdentityKind = 'host-key' | 'tls-certificate';

/**
 * A server that no longer shows the identity pinned for it: what kind of identity, the pinned
 * fingerprint (`expected`) and the one the server presented (`actual`).
 */
export interface ServerIdentityChange {
  kind: ServerIdentityKind;
  /** The pinned fingerprint. */
  expected: string;
  /** The fingerprint the server presented instead. */
  actual: string;
}

/**
 * A server refused for the identity it presented, before anything was sent: its SSH host key
 * ({@link TransportHostKeyError}) or its TLS certificate ({@link TransportServerCertificateError}).
 * Never transient: the same server shows the same identity; a person must check it and pin it.
 * {@link serverIdentityChange} reads one as the change of a pinned identity.
 */
export abstract class TransportServerIdentityError extends TransportError {
  /** What the pin holds the server to. */
  abstract readonly kind: ServerIdentityKind;
  /** The fingerprint the server presented. */
  readonly actual: string;
  /** The pinned (or first trusted) fingerprint it was compared with; undefined when none. */
  readonly expected: string | undefined;

  constructor(
    message: string,
    code: TransportCode,
    fingerprints: { actual: string; expected?: string | undefined },
  ) {
    super(message, { code, transient: false });
    this.actual = fingerprints.actual;
    this.expected = fingerprints.expected;
  }
}

/**
 * SFTP: the server's host key was refused before logging in, so nothing was sent: it is not
 * the pinned one (`expected`), or no key is pinned and trust on first use is off. Never
 * transient: the same server shows the same key; a person must check it and pin it. Both
 * fingerprints are as OpenSSH prints them: `SHA256:` and base64 without padding.
 */
export class TransportHostKeyError extends TransportServerIdentityError {
  /** Always `host-key`. */
  readonly kind = 'host-key';

  constructor(message: string, fingerprints: { actual: string; expected?: string }) {
    super(message, TRANSPORT_CODES.HOST_KEY, fingerprints);
  }
}

/**
 * FTPS: the server's TLS certificate is not the pinned one (`serverCertSha256`). Refused in the
 * TLS handshake, so nothing was sent on that connection: on the control connection, neither the
 * user name nor the password. Never transient: a person must check the new certificate with
 * the transfer point and update the pin. Fingerprints are SHA-256, upper-case hex pairs joined
 * by colons (`AB:CD:...`).
 */
export class TransportServerCertificateError extends TransportServerIdentityError {
  /** Always `tls-certificate`. */
  readonly kind = 'tls-certificate';
  /** The pinned fingerprint. */
  declare readonly expected: string;

  constructor(message: string, fingerprints: { actual: string; expected: string }) {
    super(message, TRANSPORT_CODES.SERVER_CERT, fingerprints);
  }
}

/**
 * The change of a pinned server identity `error` reports: an SSH host key or a TLS certificate
 * other than the pinned one, with both fingerprints. Undefined for any other error, and for a
 * host key refused because none was pinned (nothing changed: there was nothing to compare).
 */
export function serverIdentityChange(error: unknown): ServerIdentityChange | undefined {
  if (!(error instanceof TransportServerIdentityError) || error.expected === undefined) {
    return undefined;
  }
  return { kind: error.kind, expected: error.expected, actual: error.actual };
}

/**
 * True for a reply that announces a temporary condition: every 4xx, and 120
 * ("service ready in nnn minutes") which basic-ftp reports as a failure.
 */
function isTransientReply(ftpCode: number): boolean {
  return (ftpCode >= 400 && ftpCode < 500) || ftpCode === 120;
}

/** Replies that mean "who you are is not accepted": 530 not logged in, 332/532 account needed, 430 (non-standard) bad credentials. */
const AUTH_REPLIES: ReadonlySet<number> = new Set([332, 430, 530, 532]);

/** Node socket error codes of a connection that could not be made or was cut (any channel). */
export const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CLOSED',
]);

/** Messages basic-ftp gives its own errors when a connection dies (they carry no code). */
const CONNECTION_MESSAGES: readonly RegExp[] = [
  /^Client is closed\b/,
  /Server sent FIN packet unexpectedly/,
  /Server closed connection unexpectedly/,
  /Socket closed due to transmission error/,
  /Control socket is disconnected/,
  /Can't open data connection/,
  /no data connection is available/,
  // A passive-mode reply cut short (`229 Entering Extended Passive M`): the connection broke
  // mid-reply. Before the set's failure was final, a new claim hid this; now it must be retried.
  /^Can't parse (?:response to 'EPSV'|EPSV response|PASV response)/,
  // basic-ftp's passive-mode discovery gave up because the connection broke under it.
  /^None of the available transfer strategies work\. Last error response was '.*\b(?:ECONNRESET|EPIPE|ECONNABORTED|Client is closed|Server sent FIN)/,
];

/** Certificate verification failures, by the code Node gives them (OpenSSL's X509 names). */
const CERTIFICATE_CODES: Readonly<Record<string, TlsProblem>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted-certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted-certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted-certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted-certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted-certificate',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: 'untrusted-certificate',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'untrusted-certificate',
  CERT_SIGNATURE_FAILURE: 'untrusted-certificate',
  CERT_UNTRUSTED: 'untrusted-certificate',
  CERT_REJECTED: 'untrusted-certificate',
  CERT_REVOKED: 'untrusted-certificate',
  INVALID_CA: 'untrusted-certificate',
  INVALID_PURPOSE: 'untrusted-certificate',
  PATH_LENGTH_EXCEEDED: 'untrusted-certificate',
  CERT_CHAIN_TOO_LONG: 'untrusted-certificate',
  CERT_HAS_EXPIRED: 'certificate-dates',
  CERT_NOT_YET_VALID: 'certificate-dates',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'certificate-dates',
  ERROR_IN_CERT_NOT_AFTER_FIELD: 'certificate-dates',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname-mismatch',
  HOSTNAME_MISMATCH: 'hostname-mismatch',
};

/** What each problem means to the person who must fix it. */
const TLS_ADVICE: Readonly<Record<TlsProblem, string>> = {
  'untrusted-certificate':
    "the server's certificate is not trusted; give the CA that issued it (caFile, --ca-file)",
  'hostname-mismatch':
    "the server's certificate is for another host name; connect with a name the certificate lists",
  'certificate-dates': "the server's certificate has expired or is not valid yet",
  'no-auth-tls': 'the server does not offer explicit TLS (AUTH TLS)',
  'no-data-protection': 'the server refused to encrypt the data connections (PROT P)',
  handshake: 'the TLS handshake failed',
};

/** A TransportTlsError whose message names the problem, then the operation and the cause. */
export function tlsError(
  problem: TlsProblem,
  context: string,
  reason: string,
  details: ReplyDetails = {},
): TransportTlsError {
  return new TransportTlsError(`${context}: ${TLS_ADVICE[problem]} (${reason})`, problem, details);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' ? code : undefined;
}

function sslReason(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('reason' in error)) return undefined;
  const { reason } = error;
  return typeof reason === 'string' && reason !== '' ? reason : undefined;
}

/** Duck-typed, not `instanceof Error`: errors from Node's core can come from another realm (Jest's VM). */
function errorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message } = error;
    if (typeof message === 'string') return message;
  }
  return String(error);
}

/**
 * A server reply: basic-ftp's FTPError with a numeric code. basic-ftp also
 * wraps an error from another realm (Jest's VM) as an FTPError, keeping its
 * text code (`ECONNREFUSED`): that one is a socket error, not a reply.
 */
export function isFtpReply(error: unknown): error is FTPError {
  return (
    error instanceof FTPError && typeof error.code === 'number' && Number.isInteger(error.code)
  );
}

/**
 * Maps any failure of an FTP operation to a {@link TransportError}. `context`
 * names the operation and the remote path (`put INTEST/FI...`) and starts the
 * message; it must never hold a password, and neither does anything added
 * here (basic-ftp masks `PASS` in its own messages). A TransportError passes
 * through unchanged. The original failure is kept as `cause`.
 *
 * - basic-ftp's `FTPError` (a server reply): 530/430/332/532 -> auth refused,
 *   other codes -> refused (transient for 4xx, permanent for 5xx);
 * - socket errors (ECONNREFUSED, ECONNRESET, EPIPE...) and basic-ftp's "Client
 *   is closed" / "Server closed connection" -> connection failure (transient);
 * - ETIMEDOUT and "Timeout" messages -> timeout (transient);
 * - certificate verification codes (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID,
 *   CERT_HAS_EXPIRED...) and OpenSSL failures (ERR_SSL_*) -> TLS failure (permanent), whose
 *   message says what to fix; but an OpenSSL failure on a session that was working
 *   (`established`) -> connection failure (transient): a server process that died mid-session
 *   may write in clear on the TLS connection, and a new session may well work;
 * - anything else -> a permanent TransportError coded TRANSPORT_FAILED.
 */
export function classifyFtpError(
  error: unknown,
  context: string,
  options: { established?: boolean } = {},
): TransportError {
  if (error instanceof TransportError) return error;
  const reason = errorMessage(error).trim();
  const message = `${context}: ${reason}`;

  if (isFtpReply(error)) {
    const ftpCode = error.code;
    if (AUTH_REPLIES.has(ftpCode)) {
      return new TransportAuthError(`${context}: login refused by the server (${reason})`, {
        ftpCode,
        cause: error,
      });
    }
    return new TransportRefusedError(message, ftpCode, error);
  }

  const code = errorCode(error);
  const certificateProblem = code === undefined ? undefined : CERTIFICATE_CODES[code];
  if (certificateProblem !== undefined) {
    return tlsError(certificateProblem, context, reason, { cause: error });
  }
  // OpenSSL's own failures (ERR_SSL_WRONG_VERSION_NUMBER, ERR_SSL_TLSV1_ALERT_...): the peers
  // do not agree on TLS; trying again gives the same result.
  if (code?.startsWith('ERR_SSL_') === true) {
    // OpenSSL's message is a whole error-queue line; its `reason` is the readable part.
    const short = sslReason(error);
    const detail = short === undefined ? reason : `${short}, ${code}`;
    if (options.established === true) {
      return new TransportConnectError(`${context}: the TLS connection broke (${detail})`, {
        cause: error,
      });
    }
    return tlsError('handshake', context, detail, { cause: error });
  }
  // Timeouts first: a "Client is closed because Timeout (control socket)"
  // error is a timeout that closed the client, and says so better.
  if (code === 'ETIMEDOUT' || /\btime[d ]?out\b/i.test(reason)) {
    return new TransportTimeoutError(message, { cause: error });
  }
  if (
    (code !== undefined && CONNECTION_CODES.has(code)) ||
    CONNECTION_MESSAGES.some((pattern) => pattern.test(reason))
  ) {
    return new TransportConnectError(message, { cause: error });
  }
  return new TransportError(message, {
    code: TRANSPORT_CODES.FAILED,
    transient: false,
    cause: error,
  });
}

/** True when `error` is a TransportError that says trying again may help. */
export function isTransientTransportError(error: unknown): boolean {
  return error instanceof TransportError && error.transient;
}

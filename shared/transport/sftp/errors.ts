/** How SSH failures and refused SFTP requests (a STATUS) become TransportErrors. */
import {
  CONNECTION_CODES,
  TRANSPORT_CODES,
  TransportAuthError,
  TransportConnectError,
  TransportError,
  TransportNotFoundError,
  TransportTimeoutError,
} from '../errors';
import { messageOf, property } from './fields';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks). */
const SFTP_STATUS = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

/** Messages ssh2 gives a connection or channel that went away. */
const CONNECTION_MESSAGES: readonly RegExp[] = [
  /^No response from server$/,
  /^Connection lost before handshake$/,
  /\bnot connected\b/i,
  /channel (?:is )?(?:not open|closed)/i,
];

/**
 * Maps a failure of the SSH connection (connecting, logging in, a dropped session) to a
 * {@link TransportError}; `context` names the operation. ssh2 marks its errors with a
 * `level`: `client-authentication` (every method refused) -> auth failure, permanent;
 * `client-timeout` (handshake or keepalive) -> timeout; `client-socket` / `client-dns` and
 * the server's DISCONNECT -> connection failure, transient (unless the DISCONNECT is about
 * authentication); `handshake` (no common algorithm, a bad host key) -> permanent.
 */
export function classifySshError(error: unknown, context: string): TransportError {
  if (error instanceof TransportError) return error;
  const reason = messageOf(error).trim();
  const message = `${context}: ${reason}`;
  const level = property(error, 'level');
  const code = property(error, 'code');

  if (level === 'client-authentication') {
    return new TransportAuthError(`${context}: login refused by the server (${reason})`, {
      cause: error,
    });
  }
  if (level === 'client-timeout' || code === 'ETIMEDOUT' || /\btime[d ]?out\b/i.test(reason)) {
    return new TransportTimeoutError(message, { cause: error });
  }
  if (level === 'handshake') {
    return new TransportError(`${context}: the SSH handshake failed (${reason})`, {
      code: TRANSPORT_CODES.FAILED,
      transient: false,
      cause: error,
    });
  }
  // A DISCONNECT from the server carries its numeric reason as `code`.
  if (typeof code === 'number' && /authentication/i.test(reason)) {
    return new TransportAuthError(`${context}: login refused by the server (${reason})`, {
      cause: error,
    });
  }
  if (
    typeof code === 'number' ||
    level === 'client-socket' ||
    level === 'client-dns' ||
    level === 'protocol' ||
    (typeof code === 'string' && CONNECTION_CODES.has(code)) ||
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

/** A request the server answered with a STATUS other than OK (the session is fine). */
export class StatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'StatusError';
  }
}

/** Maps a refused SFTP request: missing -> not found; connection statuses -> transient. */
export function classifyStatus(error: StatusError, context: string): TransportError {
  const message = `${context}: ${error.message} (SFTP status ${error.status})`;
  switch (error.status) {
    case SFTP_STATUS.NO_SUCH_FILE:
      return new TransportNotFoundError(message, { cause: error });
    case SFTP_STATUS.NO_CONNECTION:
    case SFTP_STATUS.CONNECTION_LOST:
      return new TransportConnectError(message, { cause: error });
    default:
      // PERMISSION_DENIED, FAILURE, BAD_MESSAGE, OP_UNSUPPORTED...: the same request gets
      // the same answer. SFTP has no "try later" status (unlike FTP's 4xx).
      return new TransportError(message, {
        code: TRANSPORT_CODES.REFUSED,
        transient: false,
        cause: error,
      });
  }
}

import type { Readable, Writable } from 'node:stream';
import { Client, type ConnectConfig, type FileEntryWithStats, type SFTPWrapper } from 'ssh2';
import {
  CONNECTION_CODES,
  TRANSPORT_CODES,
  TransportAuthError,
  TransportClosedError,
  TransportConfigError,
  TransportConnectError,
  TransportError,
  TransportHostKeyError,
  TransportNotFoundError,
  TransportTimeoutError,
} from './errors';
import { checkRemotePath } from './paths';
import type { RemoteEntry, Transport, TransportConnector } from './port';
import { DestinationRelay } from './destination-relay';
import { isObject, OperationGate } from './operation-gate';
import { retry, type RetryOptions } from './retry';
import {
  checkHost,
  checkPort,
  checkRetry,
  checkTimeout,
  checkUser,
  describeServer,
  type Channel,
} from './server-options';
import {
  loadPrivateKey,
  normalizeSshFingerprint,
  PrivateKeyError,
  sshFingerprint,
  sshKeyType,
  type LoadedPrivateKey,
} from './ssh-keys';

/** What {@link SftpOptions.onHostKey} is told when a session accepts a server's host key. */
export interface HostKeyEvent {
  /** The server, `sftp://user@host:port`. */
  where: string;
  /** The key's fingerprint as OpenSSH prints it: `SHA256:` and base64 without padding. */
  fingerprint: string;
  /** The key's type: `ssh-rsa`, `ssh-ed25519`... */
  keyType: string;
  /** `pinned`: it matched hostKeySha256; `first-use`: accepted because trustOnFirstUse is on. */
  trust: 'pinned' | 'first-use';
}

/**
 * Options of the SFTP adapter. Give host, user, a private key (or a password) and the
 * server's host key fingerprint; the rest has defaults.
 */
export interface SftpOptions {
  /** Server host name or IP address; required (the transfer point: sftp.socialsecurity.be). */
  host: string;
  /** SSH port; default 8022, the transfer point's. */
  port: number;
  /** Technical user name; required. */
  user: string;
  /**
   * Private key, the transfer point's way in: OpenSSH (`ssh-keygen`), PKCS#1 or PKCS#8 PEM,
   * RSA or ed25519 (ECDSA works too), as a string or a Buffer. Read and decrypted once, at
   * start; never logged and never put in a message.
   */
  privateKey?: string | Buffer;
  /** Passphrase of an encrypted private key; never logged. */
  passphrase?: string;
  /** Password, for servers that take one; tried after the key. Never logged. */
  password?: string;
  /**
   * The server's host key fingerprint as OpenSSH prints it (`SHA256:` and base64 without
   * padding, e.g. from `ssh-keyscan -p 8022 HOST | ssh-keygen -lf -`). A server showing another
   * key is refused before logging in. Default none: then see trustOnFirstUse.
   */
  hostKeySha256?: string;
  /**
   * Without a pin, accept the key the server shows first (and report it through onHostKey),
   * then hold every later session of this connector to it. Default false: without a pin the
   * connection is refused with an error that prints the server's fingerprint, to pin.
   */
  trustOnFirstUse: boolean;
  /** Told once per connector when a host key is first accepted, so a CLI can print it. */
  onHostKey?: (event: HostKeyEvent) => void;
  /**
   * Limit for connecting (handshake and login) and for any request the server leaves
   * unanswered while others wait (a stalled transfer), in ms; default 30,000.
   */
  timeoutMs: number;
  /** Backoff for opening a session (transient failures only); default 4 attempts, 500 ms, 8 s cap. */
  connectRetry: Partial<RetryOptions>;
  /** Backoff for operations safe to repeat (size, list, delete, rename, get, put before any byte); default as connectRetry. */
  operationRetry: Partial<RetryOptions>;
}

/** What {@link sftpConnector} takes: host and user, a key or password, and any other option. */
export type SftpConnectorOptions = Partial<SftpOptions> & Pick<SftpOptions, 'host' | 'user'>;

/** SftpOptions after defaults and checks: the key is read and decrypted. */
export interface ResolvedSftpOptions extends Omit<
  SftpOptions,
  'privateKey' | 'passphrase' | 'hostKeySha256' | 'connectRetry' | 'operationRetry'
> {
  /** The private key, decrypted; undefined when only a password is given. */
  privateKey: LoadedPrivateKey | undefined;
  /** The pin in canonical form (no padding), or undefined. */
  hostKeySha256: string | undefined;
  connectRetry: RetryOptions;
  operationRetry: RetryOptions;
  /** Secrets to blank out of any message (password, passphrase). */
  secrets: readonly string[];
}

/** Defaults of every optional {@link SftpOptions} field. */
export const DEFAULT_SFTP_OPTIONS = Object.freeze({
  port: 8022,
  timeoutMs: 30_000,
  trustOnFirstUse: false,
});

/**
 * How transfers are cut into SFTP requests. SFTP moves data in requests of at most one
 * packet each; one request at a time would wait a round trip per piece, so several are kept
 * in flight, as ssh2's `fastPut` does. Each request is as large as the server takes (OpenSSH
 * says 255 KiB through its `limits@openssh.com` extension; a server that does not say gets
 * about 32 KiB, the size every server must accept), so ssh2 never cuts one in two. Measured
 * against OpenSSH on loopback: 255 KiB x 8 uploads about 10% faster than 32 KiB x 64, both
 * with 2 MiB in flight.
 */
export const SFTP_TRANSFER = Object.freeze({
  /** Largest request sent, in bytes; the server's limit when smaller. */
  maxPieceBytes: 256 * 1024,
  /** Bytes in flight per transfer (at least 4 requests). */
  inFlightBytes: 2 * 1024 * 1024,
  /** Request size when the server's limit is unknown: what every server must accept. */
  fallbackPieceBytes: 32 * 1024,
});

/**
 * The request size and count for a channel. ssh2 keeps the server's limits in fields of its
 * own (`_maxWriteLen`, `_maxReadLen`: 255 KiB for OpenSSH, about 31 KiB otherwise) and cuts
 * bigger requests in pieces sent one after the other; they are read defensively here.
 */
function transferShape(sftp: SFTPWrapper, field: '_maxWriteLen' | '_maxReadLen'): Shape {
  const limit = property(sftp, field);
  const piece =
    typeof limit === 'number' && Number.isInteger(limit) && limit >= 1024
      ? Math.min(limit, SFTP_TRANSFER.maxPieceBytes)
      : SFTP_TRANSFER.fallbackPieceBytes;
  return { piece, window: Math.max(4, Math.floor(SFTP_TRANSFER.inFlightBytes / piece)) };
}

/** Bytes per request and requests in flight. */
interface Shape {
  piece: number;
  window: number;
}

/** Host key algorithms, best first; `ssh-rsa` (SHA-1) last, for the transfer point. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;

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

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/** How option messages name this channel. */
const SFTP: Channel = { label: 'SFTP', exampleHost: 'sftp.socialsecurity.be', port: 8022 };

function checkSecret(name: string, value: unknown): string | undefined {
  // Never quote the value: it is a secret even when it is wrong.
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new TransportConfigError(`SFTP ${name} must be a non-empty string when given`);
  }
  return value;
}

function checkPin(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const pin = typeof value === 'string' ? normalizeSshFingerprint(value) : undefined;
  if (pin === undefined) {
    throw new TransportConfigError(
      `SFTP hostKeySha256 must be an OpenSSH SHA-256 fingerprint such as SHA256:${'A'.repeat(43)} (ssh-keygen -lf prints it), got ${JSON.stringify(value)}`,
    );
  }
  return pin;
}

function checkKey(key: unknown, passphrase: string | undefined): LoadedPrivateKey | undefined {
  if (key === undefined) {
    if (passphrase !== undefined) {
      throw new TransportConfigError('SFTP passphrase is given without a privateKey');
    }
    return undefined;
  }
  if (typeof key !== 'string' && !Buffer.isBuffer(key)) {
    throw new TransportConfigError('SFTP privateKey must be the key itself, a string or a Buffer');
  }
  try {
    return loadPrivateKey(key, passphrase);
  } catch (error) {
    const reason = error instanceof PrivateKeyError ? error.message : 'it cannot be read';
    throw new TransportConfigError(`SFTP privateKey: ${reason}`, error);
  }
}

/**
 * Merges `options` over {@link DEFAULT_SFTP_OPTIONS} and checks every field, throwing a
 * {@link TransportConfigError} that says what to fix (never quoting a key, passphrase or
 * password). The private key is read and decrypted here, once. Called by {@link sftpConnector}.
 */
export function resolveSftpOptions(options: SftpConnectorOptions): ResolvedSftpOptions {
  const password = checkSecret('password', options.password);
  const passphrase = checkSecret('passphrase', options.passphrase);
  const privateKey = checkKey(options.privateKey, passphrase);
  if (privateKey === undefined && password === undefined) {
    throw new TransportConfigError(
      'SFTP needs a privateKey (the transfer point logs in with an SSH key) or a password',
    );
  }
  const trustOnFirstUse = options.trustOnFirstUse ?? DEFAULT_SFTP_OPTIONS.trustOnFirstUse;
  if (typeof trustOnFirstUse !== 'boolean') {
    throw new TransportConfigError('SFTP trustOnFirstUse must be true or false');
  }
  if (options.onHostKey !== undefined && typeof options.onHostKey !== 'function') {
    throw new TransportConfigError('SFTP onHostKey must be a function');
  }
  return {
    host: checkHost(SFTP, options.host),
    port: checkPort(SFTP, options.port ?? DEFAULT_SFTP_OPTIONS.port),
    user: checkUser(SFTP, options.user),
    privateKey,
    ...(password === undefined ? {} : { password }),
    hostKeySha256: checkPin(options.hostKeySha256),
    trustOnFirstUse,
    ...(options.onHostKey === undefined ? {} : { onHostKey: options.onHostKey }),
    timeoutMs: checkTimeout(SFTP, options.timeoutMs ?? DEFAULT_SFTP_OPTIONS.timeoutMs),
    connectRetry: checkRetry(SFTP, 'connectRetry', options.connectRetry),
    operationRetry: checkRetry(SFTP, 'operationRetry', options.operationRetry),
    // Short secrets would blank out ordinary words; no message holds them anyway.
    secrets: [password, passphrase].filter(
      (secret): secret is string => secret !== undefined && secret.length >= 4,
    ),
  };
}

/** `sftp://user@host:port`, never a secret. */
function describeSftpServer(options: Pick<SftpOptions, 'host' | 'port' | 'user'>): string {
  return describeServer('sftp', options);
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Messages ssh2 gives a connection or channel that went away. */
const CONNECTION_MESSAGES: readonly RegExp[] = [
  /^No response from server$/,
  /^Connection lost before handshake$/,
  /\bnot connected\b/i,
  /channel (?:is )?(?:not open|closed)/i,
];

function property(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null ? Reflect.get(error, name) : undefined;
}

/** Duck-typed, not `instanceof Error`: errors from Node's core can come from another realm. */
function messageOf(error: unknown): string {
  const message = property(error, 'message');
  return typeof message === 'string' ? message : String(error);
}

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
class StatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'StatusError';
  }
}

/** Maps a refused SFTP request: missing -> not found; connection statuses -> transient. */
function classifyStatus(error: StatusError, context: string): TransportError {
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

// ---------------------------------------------------------------------------------------------
// One SSH session with its SFTP channel
// ---------------------------------------------------------------------------------------------

type Done<T> = (error?: Error | null, value?: T) => void;

/**
 * An SSH connection and its SFTP channel. Every request goes through {@link request}, which
 * watches progress: when requests are waiting and none has been answered for `timeoutMs`,
 * the connection is destroyed (a stall: a dead peer, a black-holed network) and every waiting
 * request fails with a timeout at once. A dropped connection fails them at once too.
 */
class SshSession {
  /** How uploads and downloads are cut into requests on this channel. */
  readonly upload: Shape;
  readonly download: Shape;
  private outstanding = 0;
  /** How to fail each request still waiting for its answer. */
  private readonly waiting = new Set<() => void>();
  private lastProgress = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private death: { kind: 'timeout' | 'lost'; reason: string; cause?: unknown } | undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly client: Client,
    readonly sftp: SFTPWrapper,
    private readonly timeoutMs: number,
    /** True when the server offers posix-rename@openssh.com (an atomic, replacing rename). */
    readonly posixRename: boolean,
  ) {
    this.upload = transferShape(sftp, '_maxWriteLen');
    this.download = transferShape(sftp, '_maxReadLen');
    this.closed = new Promise((resolve) => client.once('close', () => resolve()));
    client.on('error', (error: unknown) =>
      this.die({ kind: 'lost', reason: messageOf(error), cause: error }),
    );
    client.on('close', () => this.die({ kind: 'lost', reason: 'the connection was closed' }));
    sftp.on('error', (error: unknown) =>
      this.die({ kind: 'lost', reason: messageOf(error), cause: error }),
    );
    sftp.on('close', () => this.die({ kind: 'lost', reason: 'the SFTP channel was closed' }));
  }

  get alive(): boolean {
    return this.death === undefined;
  }

  /** Sends one request; `start` gets a callback in ssh2's style. */
  request<T>(context: string, start: (done: Done<T>) => void): Promise<T> {
    if (this.death) return Promise.reject(this.failure(undefined, context));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      this.begin();
      const done: Done<T> = (error, value) => {
        if (settled) return;
        settled = true;
        this.waiting.delete(abandon);
        this.progress();
        if (error) reject(this.failure(error, context));
        else resolve(value as T);
      };
      const abandon = (): void => done(new Error('the session ended'));
      this.waiting.add(abandon);
      try {
        start(done);
      } catch (error) {
        done(error instanceof Error ? error : new Error(messageOf(error)));
      }
    });
  }

  /** The failure a request gets: the session's death, or the server's refusal. */
  private failure(error: Error | undefined, context: string): TransportError {
    const death = this.death;
    if (death?.kind === 'timeout') {
      return new TransportTimeoutError(`${context}: ${death.reason}`, { cause: death.cause });
    }
    if (death) {
      // A keepalive timeout says more than "lost"; anything else is a lost connection.
      const classified =
        death.cause === undefined ? undefined : classifySshError(death.cause, context);
      if (classified instanceof TransportTimeoutError) return classified;
      return new TransportConnectError(`${context}: connection lost (${death.reason})`, {
        cause: death.cause,
      });
    }
    const status = property(error, 'code');
    if (typeof status === 'number' && error !== undefined) {
      return classifyStatus(new StatusError(error.message, status), context);
    }
    return classifySshError(error, context);
  }

  private begin(): void {
    if (this.outstanding === 0) this.lastProgress = Date.now();
    this.outstanding += 1;
    this.arm(this.timeoutMs);
  }

  private progress(): void {
    this.outstanding -= 1;
    this.lastProgress = Date.now();
    if (this.outstanding === 0) this.disarm();
  }

  // One lazy timer rather than one per request: a transfer answers thousands per second.
  private arm(delay: number): void {
    if (this.watchdog !== undefined) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (this.outstanding === 0 || this.death) return;
      const idle = Date.now() - this.lastProgress;
      if (idle < this.timeoutMs) {
        this.arm(this.timeoutMs - idle);
        return;
      }
      this.kill(`the server answered nothing for ${this.timeoutMs} ms (stalled)`);
    }, delay);
  }

  private disarm(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private die(death: NonNullable<SshSession['death']>): void {
    this.death ??= death;
    this.disarm();
    // ssh2 does not answer every request of a channel that died (a directory listing cut
    // mid-reply waited for ever, found by the fault runs): fail them here, with the death.
    for (const abandon of [...this.waiting]) abandon();
  }

  /** Ends a stalled session: every waiting request fails with a timeout. */
  private kill(reason: string): void {
    this.die({ kind: 'timeout', reason });
    this.client.destroy();
  }

  /** Ends the session politely, or destroys it when the server does not say goodbye soon. */
  async end(): Promise<void> {
    this.die({ kind: 'lost', reason: 'the session was closed' });
    this.client.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(timer);
    this.client.destroy();
  }

  /** Destroys the connection at once (a failed session). */
  destroy(): void {
    this.die({ kind: 'lost', reason: 'the session was abandoned' });
    this.client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Opening a session: host key, login, the ssh-rsa fallback
// ---------------------------------------------------------------------------------------------

/** What a connector remembers between sessions. */
interface ConnectorMemory {
  /** The key accepted on first use, held for every later session. */
  trusted: string | undefined;
  /** Told onHostKey already. */
  reported: boolean;
  /** The server refuses rsa-sha2 user signatures although it lists them: sign with ssh-rsa. */
  forceSshRsa: boolean;
}

/** The outcome of the host key check of one connection attempt. */
type HostKeyVerdict =
  | { accepted: true }
  | { accepted: false; actual: string; keyType: string; expected: string | undefined };

/**
 * Hooks ssh2's handler of the server's EXT_INFO message, which carries `server-sig-algs`:
 * the signature algorithms the server says it accepts for user keys. ssh2 signs with an RSA
 * key using the best one listed and never falls back, so a server that lists rsa-sha2-256
 * but only accepts ssh-rsa (OpenSSH with `PubkeyAcceptedAlgorithms ssh-rsa`, which still
 * lists every algorithm it knows) refuses the key. `onList` sees the list and returns the one
 * ssh2 uses. ssh2 has no public hook for this, so its internals are read defensively: when
 * they are not where expected, nothing is hooked and false is returned.
 */
function hookServerSigAlgs(client: Client, onList: (algs: string[]) => string[]): boolean {
  const protocol = property(client, '_protocol');
  const handlers = property(protocol, '_handlers');
  const original = property(handlers, 'EXT_INFO');
  if (typeof original !== 'function' || typeof handlers !== 'object' || handlers === null) {
    return false;
  }
  Reflect.set(handlers, 'EXT_INFO', (self: unknown, extensions: unknown) => {
    const rewritten = Array.isArray(extensions)
      ? extensions.map((extension: unknown) => {
          const algs = property(extension, 'algs');
          if (property(extension, 'name') !== 'server-sig-algs' || !Array.isArray(algs)) {
            return extension;
          }
          return { name: 'server-sig-algs', algs: onList(algs.map(String)) };
        })
      : extensions;
    return Reflect.apply(original, undefined, [self, rewritten]);
  });
  return true;
}

/** What one connection attempt tells the caller besides its session. */
interface AttemptReport {
  /** The server listed rsa-sha2-* in server-sig-algs (so ssh2 signed with one). */
  listedRsaSha2: boolean;
}

/**
 * Opens one SSH connection and its SFTP channel. The host key is checked by ssh2's
 * `hostVerifier` during the key exchange, before any authentication is sent; a refused key
 * ends the handshake. Rejects with a TransportError.
 */
function openSession(
  options: ResolvedSftpOptions,
  where: string,
  memory: ConnectorMemory,
  forceSshRsa: boolean,
  report: AttemptReport,
): Promise<SshSession> {
  const context = `connect ${where}`;
  return new Promise<SshSession>((resolve, reject) => {
    const client = new Client();
    let verdict: HostKeyVerdict | undefined;
    let settled = false;
    // Belt and braces beside readyTimeout: opening the SFTP channel is not covered by it.
    const timer = setTimeout(
      () =>
        fail(new TransportTimeoutError(`${context}: no session within ${options.timeoutMs} ms`)),
      options.timeoutMs + 1000,
    );

    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('ready');
      client.destroy();
      if (verdict !== undefined && !verdict.accepted) {
        reject(hostKeyError(verdict, context));
        return;
      }
      reject(classifySshError(error, context));
    };
    // Swallow late errors of an abandoned client: it is being destroyed.
    client.on('error', fail);
    client.once('close', () => fail(new Error('the server closed the connection during login')));

    client.once('connect', () => {
      // Nagle's algorithm with the server's delayed ACKs costs ~40 ms per request (PERF-NOTES).
      client.setNoDelay(true);
    });
    client.once('ready', () => {
      client.sftp((error, sftp) => {
        if (error) {
          fail(error);
          return;
        }
        if (settled) {
          sftp.end();
          return;
        }
        settled = true;
        clearTimeout(timer);
        client.off('error', fail);
        client.removeAllListeners('close');
        // ssh2 fills the server's extensions in from its VERSION packet, before this callback.
        const extensions = property(sftp, '_extensions');
        const posixRename = property(extensions, 'posix-rename@openssh.com') === '1';
        resolve(new SshSession(client, sftp, options.timeoutMs, posixRename));
      });
    });

    const hostVerifier = (key: Buffer): boolean => {
      const actual = sshFingerprint(key);
      const keyType = sshKeyType(key);
      const expected = options.hostKeySha256 ?? memory.trusted;
      if (expected !== undefined) {
        verdict =
          actual === expected ? { accepted: true } : { accepted: false, actual, keyType, expected };
      } else if (options.trustOnFirstUse) {
        memory.trusted = actual;
        verdict = { accepted: true };
      } else {
        verdict = { accepted: false, actual, keyType, expected: undefined };
      }
      if (verdict.accepted && !memory.reported) {
        memory.reported = true;
        const trust = options.hostKeySha256 === undefined ? 'first-use' : 'pinned';
        try {
          options.onHostKey?.({ where, fingerprint: actual, keyType, trust });
        } catch {
          // A listener's failure is the listener's; it must not break the session.
        }
      }
      return verdict.accepted;
    };

    const config: ConnectConfig = {
      host: options.host,
      port: options.port,
      username: options.user,
      readyTimeout: options.timeoutMs,
      // A dead peer is found within about 3 intervals even when no request is waiting.
      keepaliveInterval: Math.min(10_000, Math.max(1000, Math.floor(options.timeoutMs / 3))),
      keepaliveCountMax: 3,
      hostVerifier,
      algorithms: { serverHostKey: [...HOST_KEY_ALGORITHMS] },
      // The key first (the transfer point's way), then a password if one is given.
      authHandler: [
        ...(options.privateKey ? (['publickey'] as const) : []),
        ...(options.password !== undefined ? (['password'] as const) : []),
      ],
      ...(options.privateKey ? { privateKey: options.privateKey.pem } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
    };
    try {
      client.connect(config);
    } catch (error) {
      fail(error);
      return;
    }
    hookServerSigAlgs(client, (algs) => {
      report.listedRsaSha2 = algs.some((alg) => alg.startsWith('rsa-sha2-'));
      if (!forceSshRsa) return algs;
      return [
        'ssh-rsa',
        ...algs.filter((alg) => alg !== 'ssh-rsa' && !alg.startsWith('rsa-sha2-')),
      ];
    });
  });
}

function hostKeyError(
  verdict: Extract<HostKeyVerdict, { accepted: false }>,
  context: string,
): TransportHostKeyError {
  const { actual, keyType, expected } = verdict;
  const message =
    expected === undefined
      ? `${context}: the server's host key is ${actual} (${keyType}) and no host key is pinned; nothing was sent. Check this fingerprint with the transfer point, then pin it (hostKeySha256), or allow trustOnFirstUse`
      : `${context}: the server's host key ${actual} (${keyType}) is not the pinned ${expected}; refused before logging in, nothing was sent (the server changed its key, or this is not the server meant)`;
  return new TransportHostKeyError(message, {
    actual,
    ...(expected === undefined ? {} : { expected }),
  });
}

/**
 * One attempt at a session, with the ssh-rsa fallback: when an RSA key is refused after ssh2
 * signed with rsa-sha2 because the server listed it, the login is tried again on a new
 * connection signing with ssh-rsa (SHA-1), the only algorithm the transfer point accepts.
 * What works is remembered for the connector's later sessions.
 */
async function openWithFallback(
  options: ResolvedSftpOptions,
  where: string,
  memory: ConnectorMemory,
): Promise<SshSession> {
  const report: AttemptReport = { listedRsaSha2: false };
  try {
    return await openSession(options, where, memory, memory.forceSshRsa, report);
  } catch (error) {
    const retryWithSshRsa =
      error instanceof TransportAuthError &&
      !memory.forceSshRsa &&
      options.privateKey?.type === 'ssh-rsa' &&
      report.listedRsaSha2;
    if (!retryWithSshRsa) throw error;
    try {
      const session = await openSession(options, where, memory, true, report);
      memory.forceSshRsa = true;
      return session;
    } catch (second) {
      if (second instanceof TransportAuthError) {
        second.message += ' (the key was tried with rsa-sha2 and with ssh-rsa signatures)';
      }
      throw second;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Transfers
// ---------------------------------------------------------------------------------------------

/** A counter of requests in flight that lets a sender wait for a free slot. */
class Window {
  private inFlight = 0;
  private waiting: (() => void) | undefined;
  private drained: (() => void) | undefined;

  constructor(private readonly size: number) {}

  /** Resolves once fewer than `size` requests are in flight. */
  async slot(): Promise<void> {
    while (this.inFlight >= this.size) {
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  /** Counts a request until `promise` settles (it must never reject). */
  track(promise: Promise<void>): void {
    this.inFlight += 1;
    void promise.then(() => {
      this.inFlight -= 1;
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.();
      if (this.inFlight === 0) {
        const drained = this.drained;
        this.drained = undefined;
        drained?.();
      }
    });
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const before = this.drained;
      this.drained = () => {
        before?.();
        resolve();
      };
    });
  }
}

/**
 * Writes `source` into the remote file `path` (created or truncated), several write requests
 * in flight, and closes it: the server's answer to CLOSE is the proof the file is complete,
 * like FTP's 226. ssh2's own createWriteStream is not used: it sends one request at a time,
 * and reports 'finish' before the server has answered CLOSE.
 */
async function upload(
  session: SshSession,
  source: Readable,
  path: string,
  context: string,
): Promise<number> {
  const { sftp } = session;
  const handle = await session.request<Buffer>(context, (done) => sftp.open(path, 'w', done));
  const { piece: pieceBytes, window: size } = session.upload;
  const window = new Window(size);
  let failure: unknown;
  let position = 0;
  try {
    for await (const chunk of source) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      for (let offset = 0; offset < data.length; offset += pieceBytes) {
        await window.slot();
        if (failure !== undefined) throw failure;
        // ssh2 copies the piece into its packet at once: the chunk is not held.
        const piece = data.subarray(offset, offset + pieceBytes);
        const at = position;
        position += piece.length;
        window.track(
          session
            .request<number>(context, (done) =>
              sftp.write(handle, piece, 0, piece.length, at, done),
            )
            .then(
              () => undefined,
              (error: unknown) => {
                failure ??= error;
              },
            ),
        );
      }
    }
    await window.idle();
    if (failure !== undefined) throw failure;
    await session.request<void>(context, (done) => sftp.close(handle, done));
    return position;
  } catch (error) {
    await window.idle();
    // Leave the session usable: the handle is closed when the connection still stands.
    if (session.alive) {
      await session
        .request<void>(context, (done) => sftp.close(handle, done))
        .catch(() => undefined);
    }
    throw error;
  }
}

/**
 * Reads the remote file `path` from `delivery.bytes` to its end into `delivery`, up to a
 * window of read requests in flight (one at first, doubling with each full piece). A short
 * read (fewer bytes than asked, allowed by SFTP, and how the last piece ends) restarts the
 * read-ahead from where the data stopped; an empty read is the end of the file.
 */
async function download(
  session: SshSession,
  path: string,
  delivery: DestinationRelay,
  context: string,
): Promise<void> {
  const { sftp } = session;
  const handle = await session.request<Buffer>(context, (done) => sftp.open(path, 'r', done));
  const { piece, window } = session.download;
  const readAt = (position: number): Promise<Buffer> =>
    session.request<Buffer>(context, (done) =>
      sftp.read(handle, Buffer.allocUnsafe(piece), 0, piece, position, (error, bytes, buffer) =>
        done(error, error ? undefined : buffer.subarray(0, bytes)),
      ),
    );
  let ahead: { position: number; data: Promise<Buffer> }[] = [];
  const abandon = async (): Promise<void> => {
    const dropped = ahead;
    ahead = [];
    await Promise.allSettled(dropped.map((read) => read.data));
  };
  try {
    let next = delivery.bytes;
    // Slow start: an answer of a few bytes takes two requests, not a window's worth.
    let depth = 1;
    for (;;) {
      while (ahead.length < depth) {
        const read = { position: next, data: readAt(next) };
        read.data.catch(() => undefined); // awaited in turn, or abandoned
        ahead.push(read);
        next += piece;
      }
      const head = ahead.shift();
      if (head === undefined) break;
      const data = await head.data;
      if (data.length === 0) break;
      await delivery.write(data);
      if (data.length < piece) {
        await abandon();
        next = head.position + data.length;
        depth = 1;
      } else {
        depth = Math.min(window, depth * 2);
      }
    }
    await abandon();
    await session.request<void>(context, (done) => sftp.close(handle, done));
  } catch (error) {
    await abandon();
    if (session.alive) {
      await session
        .request<void>(context, (done) => sftp.close(handle, done))
        .catch(() => undefined);
    }
    throw error;
  }
}

function entryType(entry: FileEntryWithStats): RemoteEntry['type'] {
  const { attrs } = entry;
  if (attrs.mode !== undefined && attrs.mode !== null) {
    if (attrs.isFile()) return 'file';
    if (attrs.isDirectory()) return 'directory';
    return 'other';
  }
  // No permissions in the attributes: the `ls -l` line still tells.
  const first = entry.longname.charAt(0);
  return first === '-' ? 'file' : first === 'd' ? 'directory' : 'other';
}

// ---------------------------------------------------------------------------------------------
// The Transport
// ---------------------------------------------------------------------------------------------

/**
 * A Transport on one SSH session, reused for every operation. Operations run one at a time,
 * in call order. When the session dies, the next operation opens a new one, retrying with
 * backoff.
 */
class SftpTransport implements Transport {
  private current: SshSession | undefined;
  private closedByOwner = false;
  private readonly gate: OperationGate;

  constructor(
    private readonly options: ResolvedSftpOptions,
    private readonly where: string,
    private readonly memory: ConnectorMemory,
  ) {
    this.gate = new OperationGate(options.operationRetry);
  }

  /** Opens the session, retrying transient failures with the connect backoff. */
  async open(): Promise<SshSession> {
    let attempts = 0;
    try {
      const session = await retry(async (attempt) => {
        attempts = attempt;
        try {
          return await openWithFallback(this.options, this.where, this.memory);
        } catch (error) {
          throw this.redact(classifySshError(error, `connect ${this.where}`));
        }
      }, this.options.connectRetry);
      if (this.closedByOwner) {
        session.destroy();
        throw this.closedError();
      }
      this.current = session;
      return session;
    } catch (error) {
      this.gate.gaveUp(error, attempts);
      throw error;
    }
  }

  async put(source: Readable, remotePath: string): Promise<number> {
    let path: string;
    try {
      path = checkRemotePath(remotePath);
    } catch (error) {
      source.destroy();
      throw error;
    }
    const context = `put ${path} to ${this.where}`;
    let sourceFailure: unknown;
    const onSourceError = (error: unknown): void => {
      sourceFailure ??= error;
    };
    source.on('error', onSourceError);
    try {
      return await this.gate.exclusive(() =>
        retry(
          async () => {
            const session = await this.session();
            try {
              return await upload(session, source, path, context);
            } catch (error) {
              throw this.failure(error, context, error === sourceFailure);
            }
          },
          // A stream never read can still be sent whole; once read, it cannot.
          this.gate.repeatableWhile(() => !source.readableDidRead && !source.destroyed),
        ),
      );
    } catch (error) {
      source.destroy();
      throw error;
    } finally {
      source.off('error', onSourceError);
    }
  }

  async size(remotePath: string): Promise<number | undefined> {
    const path = checkRemotePath(remotePath);
    return this.repeatable(`size ${path} on ${this.where}`, (session, context) =>
      sizeOf(session, path, context),
    );
  }

  async list(remoteFolder: string): Promise<RemoteEntry[]> {
    const folder = remoteFolder === '' ? '' : checkRemotePath(remoteFolder, 'remote folder');
    const context = `list ${folder === '' ? 'the login folder' : folder} on ${this.where}`;
    return this.repeatable(context, async (session) => {
      try {
        const entries = await session.request<FileEntryWithStats[]>(context, (done) =>
          session.sftp.readdir(folder === '' ? '.' : folder, done),
        );
        return entries
          .filter((entry) => entry.filename !== '.' && entry.filename !== '..')
          .map((entry) => ({
            name: entry.filename,
            size: entry.attrs.size ?? 0,
            type: entryType(entry),
          }));
      } catch (error) {
        if (error instanceof TransportNotFoundError) {
          error.message = `${context}: no such folder`;
        }
        throw error;
      }
    });
  }

  async get(remotePath: string, destination: Writable): Promise<number> {
    const path = checkRemotePath(remotePath);
    const context = `get ${path} from ${this.where}`;
    const delivery = new DestinationRelay(destination);
    try {
      await this.gate.exclusive(() =>
        retry(
          async () => {
            const session = await this.session();
            try {
              await download(session, path, delivery, context);
            } catch (error) {
              throw this.failure(error, context, error === delivery.failure);
            }
          },
          // Reads are positioned: a retry resumes where the data stopped.
          this.gate.repeatableWhile(() => delivery.failure === undefined),
        ),
      );
      await delivery.end();
      return delivery.bytes;
    } catch (error) {
      delivery.detach();
      // Free the caller's file descriptor; no 'error' event, the rejection says it all.
      destination.destroy();
      throw error;
    }
  }

  async delete(remotePath: string): Promise<boolean> {
    const path = checkRemotePath(remotePath);
    const context = `delete ${path} on ${this.where}`;
    return this.repeatable(context, async (session) => {
      try {
        await session.request<void>(context, (done) => session.sftp.unlink(path, done));
        return true;
      } catch (error) {
        if (error instanceof TransportNotFoundError) return false;
        // Some servers answer a missing file with a bare FAILURE: only a file that is
        // really gone is "already absent", a refusal must not pass for a deletion.
        if (error instanceof TransportError && error.code === TRANSPORT_CODES.REFUSED) {
          if ((await sizeOf(session, path, context)) === undefined) return false;
        }
        throw error;
      }
    });
  }

  /**
   * Renames, replacing a file of the target name. SFTP's own RENAME refuses an existing
   * target (draft-02), so: OpenSSH's posix-rename@openssh.com extension when the server
   * offers it (atomic, replaces); otherwise RENAME, and when the target is in the way,
   * DELETE it and RENAME again (not atomic: for a moment neither name exists).
   */
  async rename(fromPath: string, toPath: string): Promise<void> {
    const from = checkRemotePath(fromPath, 'rename source');
    const to = checkRemotePath(toPath, 'rename target');
    const context = `rename ${from} to ${to} on ${this.where}`;
    await this.repeatable(context, async (session, _context, attempt) => {
      const { sftp } = session;
      try {
        if (session.posixRename) {
          await session.request<void>(context, (done) => sftp.ext_openssh_rename(from, to, done));
          return;
        }
        try {
          await session.request<void>(context, (done) => sftp.rename(from, to, done));
        } catch (error) {
          if (!(error instanceof TransportError) || error.code !== TRANSPORT_CODES.REFUSED) {
            throw error;
          }
          if ((await sizeOf(session, to, context)) === undefined) throw error;
          await session
            .request<void>(context, (done) => sftp.unlink(to, done))
            .catch((unlinkError: unknown) => {
              if (!(unlinkError instanceof TransportNotFoundError)) throw unlinkError;
            });
          await session.request<void>(context, (done) => sftp.rename(from, to, done));
        }
      } catch (error) {
        if (!(error instanceof TransportNotFoundError)) throw error;
        // The source is gone. After a dropped session, an earlier attempt may have renamed
        // it before the answer was lost: the target tells.
        if (attempt > 1 && (await sizeOf(session, to, context)) !== undefined) return;
        error.message = `${context}: ${from} does not exist`;
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closedByOwner) return;
    this.closedByOwner = true;
    const session = this.current;
    this.current = undefined;
    await session?.end();
  }

  /** The live session, opening a new one when the last one died. */
  private async session(): Promise<SshSession> {
    if (this.closedByOwner) throw this.closedError();
    if (this.current?.alive) return this.current;
    this.current?.destroy();
    this.current = undefined;
    return this.open();
  }

  /** Runs an operation that is safe to repeat, with the operation backoff. */
  private repeatable<T>(
    context: string,
    operation: (session: SshSession, context: string, attempt: number) => Promise<T>,
  ): Promise<T> {
    return this.gate.exclusive(() =>
      retry(
        async (attempt) => {
          const session = await this.session();
          try {
            return await operation(session, context, attempt);
          } catch (error) {
            throw this.failure(error, context, false);
          }
        },
        this.gate.repeatableWhile(() => true),
      ),
    );
  }

  /**
   * Turns a failure into what the caller gets. A failure of the caller's own stream
   * (`fromCaller`) is passed on unchanged unless it is a network failure.
   */
  private failure(error: unknown, context: string, fromCaller: boolean): unknown {
    if (this.closedByOwner) return this.closedError();
    if (fromCaller && !(error instanceof TransportError) && isObject(error)) {
      const classified = classifySshError(error, context);
      if (classified.code === TRANSPORT_CODES.FAILED) {
        this.gate.markLocal(error);
        return error;
      }
      return this.redact(classified);
    }
    return this.redact(classifySshError(error, context));
  }

  private closedError(): TransportClosedError {
    return new TransportClosedError(`${this.where}: the session was closed by its owner`);
  }

  /** Belt and braces: no message leaves with a password or passphrase in it. */
  private redact<E extends Error>(error: E): E {
    for (const secret of this.options.secrets) {
      if (error.message.includes(secret)) error.message = error.message.split(secret).join('***');
      if (error.stack?.includes(secret)) error.stack = error.stack.split(secret).join('***');
    }
    return error;
  }
}

/** The size of a regular file, or undefined when there is none (or it is a folder). */
async function sizeOf(
  session: SshSession,
  path: string,
  context: string,
): Promise<number | undefined> {
  try {
    const stats = await session.request<FileEntryWithStats['attrs']>(context, (done) =>
      session.sftp.stat(path, done),
    );
    if (stats.mode !== undefined && stats.mode !== null && !stats.isFile()) return undefined;
    return stats.size;
  } catch (error) {
    if (error instanceof TransportNotFoundError) return undefined;
    throw error;
  }
}

/**
 * An SFTP {@link TransportConnector} on ssh2: options are merged over
 * {@link DEFAULT_SFTP_OPTIONS} and checked here, once, the private key read and decrypted
 * (a {@link TransportConfigError} says what to fix). Each `connect()` opens one SSH session
 * with an SFTP channel, retrying transient failures with backoff, and reuses it for every
 * operation, reopening it transparently after a drop.
 *
 * Host key: checked during the key exchange, before any authentication is sent, against
 * `hostKeySha256` (OpenSSH's `SHA256:...` form); a mismatch, or no pin without
 * `trustOnFirstUse`, is a permanent {@link TransportHostKeyError} naming the fingerprints.
 * Login: the key (RSA signatures by server-sig-algs, falling back to `ssh-rsa` when the
 * server refuses the rsa-sha2 one it listed), then the password if given.
 *
 * Transfers keep about {@link SFTP_TRANSFER}.inFlightBytes in flight; a stalled server (no answer
 * for `timeoutMs` while requests wait) or a dropped connection fails the transfer at once.
 * `size`, `list`, `delete`, `rename` and `get` are retried on transient failures (`get`
 * resumes at the byte where it stopped), `put` only while its stream was never read. Same
 * stream rules as the FTP adapter: `put` destroys its source on failure; `get` ends its
 * destination when the whole file arrived and destroys it on failure; a failure of the
 * caller's own stream is rethrown unchanged.
 */
export function sftpConnector(options: SftpConnectorOptions): TransportConnector {
  const resolved = resolveSftpOptions(options);
  const where = describeSftpServer(resolved);
  const memory: ConnectorMemory = { trusted: undefined, reported: false, forceSshRsa: false };
  return {
    async connect(): Promise<Transport> {
      const transport = new SftpTransport(resolved, where, memory);
      await transport.open();
      return transport;
    },
    describe: () => where,
  };
}

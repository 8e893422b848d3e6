import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { Client, FileType, type FileInfo, type FTPError } from 'basic-ftp';
import {
  classifyFtpError,
  isFtpReply,
  tlsError,
  TRANSPORT_CODES,
  TransportClosedError,
  TransportConfigError,
  TransportError,
  TransportNotFoundError,
  TransportRefusedError,
  type TlsProblem,
} from './errors';
import { checkRemotePath } from './paths';
import type { RemoteEntry, Transport, TransportConnector } from './port';
import { DestinationRelay } from './destination-relay';
import { isObject, OperationGate } from './operation-gate';
import { retry, type RetryOptions } from './retry';
import {
  checkFlag,
  checkHost,
  checkPort,
  checkRetry,
  checkTimeout,
  checkUser,
  CONTROL_CHARACTERS,
  describeServer,
  type Channel,
} from './server-options';

/** Options of the FTP adapter. Give host, user and password; the rest has defaults. */
export interface FtpOptions {
  /** Server host name or IP address; required. */
  host: string;
  /** Control connection port; default 21. */
  port: number;
  /** Technical user name; required. */
  user: string;
  /** Its password; required; never logged and never put in a message. */
  password: string;
  /** Limit for connecting, for each server reply and for a stalled transfer, in ms; default 30,000. */
  timeoutMs: number;
  /** Backoff for opening a session (transient failures only); default 4 attempts, 500 ms, 8 s cap. */
  connectRetry: Partial<RetryOptions>;
  /** Backoff for operations safe to repeat (size, list, delete, rename, get before any byte); default as connectRetry. */
  operationRetry: Partial<RetryOptions>;
  /** Prints the FTP dialogue on the console (basic-ftp masks the password); default false. */
  verbose: boolean;
  /**
   * Explicit FTPS: AUTH TLS on the control port, then PBSZ 0 / PROT P so that every data
   * connection is encrypted too (and resumes the control connection's TLS session, which
   * servers such as vsftpd with `require_ssl_reuse` demand); default false, plain FTP.
   */
  secure: boolean;
  /**
   * A PEM file of the CA certificate(s) to trust instead of the system's (a private CA, or a
   * self-signed server certificate to pin); read once, when the connector is made. FTPS only.
   */
  caFile?: string;
  /** The same as caFile, as PEM text already in memory; give one or the other. FTPS only. */
  ca?: string;
  /**
   * Encrypts without checking the server's certificate (no CA, no host name check): anyone
   * on the way can pose as the server. For a test server only; default false. FTPS only.
   */
  insecure: boolean;
}

/** What {@link ftpConnector} takes: host, user and password, and any other option to override. */
export type FtpConnectorOptions = Partial<FtpOptions> &
  Pick<FtpOptions, 'host' | 'user' | 'password'>;

/** FtpOptions after defaults and checks; a caFile has been read into `ca`. */
export interface ResolvedFtpOptions extends Omit<
  FtpOptions,
  'connectRetry' | 'operationRetry' | 'caFile'
> {
  connectRetry: RetryOptions;
  operationRetry: RetryOptions;
}

/** Defaults of every optional {@link FtpOptions} field. */
export const DEFAULT_FTP_OPTIONS = Object.freeze({
  port: 21,
  timeoutMs: 30_000,
  verbose: false,
  secure: false,
  insecure: false,
});

/** The oldest TLS version accepted: 1.0 and 1.1 are broken and disabled by current servers. */
const MIN_TLS_VERSION = 'TLSv1.2';

/** How option messages name this channel. */
const FTP: Channel = { label: 'FTP', exampleHost: 'ftp.socialsecurity.be', port: 21 };

function checkPassword(value: unknown): string {
  // Never quote the value: it is a secret even when it is wrong.
  if (typeof value !== 'string' || value === '') {
    throw new TransportConfigError('FTP password is missing or empty');
  }
  if (CONTROL_CHARACTERS.test(value)) {
    throw new TransportConfigError('FTP password contains a line break or NUL character');
  }
  return value;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Checks that `pem` holds certificates, and only readable ones; returns it unchanged. */
function checkCaPem(pem: string, origin: string): string {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new TransportConfigError(
      `FTP ${origin} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new TransportConfigError(
        `FTP ${origin}: certificate ${index + 1} cannot be read (${(error as Error).message})`,
        error,
      );
    }
  });
  return pem;
}

/** The CA to trust, read from caFile or taken from ca; undefined: the system's CAs. */
function resolveCa(options: FtpConnectorOptions): string | undefined {
  const { ca, caFile } = options;
  if (ca !== undefined && caFile !== undefined) {
    throw new TransportConfigError('FTP ca and caFile are both given: give one or the other');
  }
  if (caFile !== undefined) {
    if (typeof caFile !== 'string' || caFile === '') {
      throw new TransportConfigError('FTP caFile must be the path of a PEM file');
    }
    let pem: string;
    try {
      pem = readFileSync(caFile, 'utf8');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new TransportConfigError(
        `FTP caFile ${caFile} cannot be read (${typeof code === 'string' ? code : String(error)})`,
        error,
      );
    }
    return checkCaPem(pem, `caFile ${caFile}`);
  }
  if (ca === undefined) return undefined;
  if (typeof ca !== 'string') throw new TransportConfigError('FTP ca must be PEM text');
  return checkCaPem(ca, 'ca');
}

/** The TLS settings: FTPS on or off, what to trust; refuses TLS options without FTPS. */
function resolveTls(
  options: FtpConnectorOptions,
): Pick<ResolvedFtpOptions, 'secure' | 'ca' | 'insecure'> {
  const given: Record<string, unknown> = { ...options };
  if (given.secure === 'implicit') {
    // Refuse rather than downgrade: a caller asking for TLS must never get plain FTP.
    throw new TransportConfigError(
      'FTP secure "implicit" (FTPS on port 990) is not supported: the transfer point uses explicit TLS (secure: true)',
    );
  }
  const secure = checkFlag(FTP, 'secure', given.secure, DEFAULT_FTP_OPTIONS.secure);
  const insecure = checkFlag(FTP, 'insecure', given.insecure, DEFAULT_FTP_OPTIONS.insecure);
  if (!secure && (insecure || options.ca !== undefined || options.caFile !== undefined)) {
    throw new TransportConfigError(
      `FTP ${insecure ? 'insecure' : options.caFile !== undefined ? 'caFile' : 'ca'} is a TLS setting: it needs secure: true (FTPS)`,
    );
  }
  const ca = resolveCa(options);
  if (insecure && ca !== undefined) {
    throw new TransportConfigError(
      'FTP insecure skips the certificate check, so a CA would never be used: give one or the other',
    );
  }
  return { secure, insecure, ...(ca === undefined ? {} : { ca }) };
}

/**
 * Merges `options` over {@link DEFAULT_FTP_OPTIONS} and checks every field,
 * throwing a {@link TransportConfigError} that says what to fix (never quoting
 * the password). Called once by {@link ftpConnector}.
 */
export function resolveFtpOptions(options: FtpConnectorOptions): ResolvedFtpOptions {
  const verbose = checkFlag(FTP, 'verbose', options.verbose, DEFAULT_FTP_OPTIONS.verbose);
  return {
    host: checkHost(FTP, options.host),
    port: checkPort(FTP, options.port ?? DEFAULT_FTP_OPTIONS.port),
    user: checkUser(FTP, options.user),
    password: checkPassword(options.password),
    timeoutMs: checkTimeout(FTP, options.timeoutMs ?? DEFAULT_FTP_OPTIONS.timeoutMs),
    connectRetry: checkRetry(FTP, 'connectRetry', options.connectRetry),
    operationRetry: checkRetry(FTP, 'operationRetry', options.operationRetry),
    verbose,
    ...resolveTls(options),
  };
}

/** The URL-like name of a server for messages: `ftp[s]://user@host:port`, never a password. */
function describeFtpServer(options: Pick<FtpOptions, 'host' | 'port' | 'user' | 'secure'>): string {
  return describeServer(options.secure ? 'ftps' : 'ftp', options);
}

/**
 * The TLS settings of the control connection, which basic-ftp reuses for every data
 * connection (with the control connection's session). `host` is kept there on purpose: a
 * data connection whose session was not resumed checks the certificate against it again.
 */
function tlsOptions(options: ResolvedFtpOptions): ConnectionOptions {
  return {
    host: options.host,
    minVersion: MIN_TLS_VERSION,
    rejectUnauthorized: !options.insecure,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  };
}

/**
 * Opens a session: connect, AUTH TLS (FTPS), login, binary mode and, for FTPS, encrypted data
 * connections. basic-ftp's access() does the same in one call; done step by step here so that
 * a refused AUTH TLS or PROT P is told apart from a refused login.
 */
async function openSession(client: Client, options: ResolvedFtpOptions, where: string) {
  /** Runs a TLS step; a 5xx reply to it means the server will not do what FTPS needs. */
  const insist = async (problem: TlsProblem, step: () => Promise<unknown>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      if (!isPermanentReply(error)) throw error;
      throw tlsError(problem, `connect ${where}`, error.message, {
        ftpCode: error.code,
        cause: error,
      });
    }
  };
  await client.connect(options.host, options.port);
  // A server without FTPS refuses AUTH TLS: vsftpd says 530, pure-ftpd 500, ftp-srv 502.
  if (options.secure) await insist('no-auth-tls', () => client.useTLS(tlsOptions(options)));
  // Before login, for a user name or password outside ASCII; some servers want it after.
  await client.sendIgnoringError('OPTS UTF8 ON');
  await client.login(options.user, options.password);
  await client.useDefaultSettings();
  // useDefaultSettings() sends PBSZ 0 and PROT P but ignores a refusal, and a server that
  // refused would expect clear data connections: ask again and insist.
  if (options.secure) await insist('no-data-protection', () => client.send('PROT P'));
}

/** Resolves once a TLS data socket has finished its handshake; at once for a plain socket. */
function handshakeFinished(socket: Socket | undefined): Promise<void> {
  if (socket === undefined || !('getFinished' in socket)) return Promise.resolve();
  const tls = socket as Socket & { getFinished(): Buffer | undefined };
  if (tls.getFinished() !== undefined) return Promise.resolve();
  if (tls.destroyed) {
    return Promise.reject(new Error('the data connection closed during its TLS handshake'));
  }
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      tls.off('secureConnect', onSecure);
      tls.off('error', onError);
      tls.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onSecure = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void =>
      settle(new Error('the data connection closed during its TLS handshake'));
    tls.once('secureConnect', onSecure);
    tls.once('error', onError);
    tls.once('close', onClose);
  });
}

/**
 * The source of an FTPS upload, passed through byte for byte, ending only once the data
 * connection's TLS handshake has finished. basic-ftp starts sending as soon as the data socket
 * has a cipher, which a resumed session has before its handshake is over: an empty source (a
 * GO file) then closes the socket mid-handshake, and vsftpd with require_ssl_reuse answers with
 * a TLS alert and ends the session (20 of 20 uploads under TLS 1.3, most under TLS 1.2). The
 * source is read only when basic-ftp reads, as before: never before the server's "150".
 */
function endingAfterHandshake(source: Readable, dataSocket: () => Socket | undefined): Readable {
  async function* relay(): AsyncGenerator<unknown> {
    for await (const chunk of source) yield chunk;
    await handshakeFinished(dataSocket());
  }
  return Readable.from(relay(), { objectMode: false });
}

/**
 * A listing entry of `folder`. A server may name entries by their path (`OUT/FO...`): that
 * folder part is dropped. Any other slash is kept: `../../etc/passwd` or `x/FO.ACRF...` is not
 * a file of this folder, and cut to its last part it would pass for one (another file's name).
 */
function toEntry(info: FileInfo, folder: string): RemoteEntry {
  const slash = info.name.lastIndexOf('/');
  const parent = info.name.slice(0, Math.max(slash, 0));
  const inFolder = slash === -1 || parent === folder || parent.endsWith(`/${folder}`);
  const name = inFolder ? info.name.slice(slash + 1) : info.name;
  const type =
    info.type === FileType.File ? 'file' : info.type === FileType.Directory ? 'directory' : 'other';
  return { name, size: info.size, type };
}

function isReply(error: unknown, ftpCode: number): error is FTPError {
  return isFtpReply(error) && error.code === ftpCode;
}

function isPermanentReply(error: unknown): error is FTPError {
  return isFtpReply(error) && error.code >= 500 && error.code < 600;
}

/**
 * A Transport on one basic-ftp Client, reused for every operation. Operations
 * run one at a time, in call order. When a failure leaves the session dead or
 * out of step, the client is closed and the next operation opens a new
 * session, retrying with backoff.
 */
class FtpTransport implements Transport {
  private readonly client: Client;
  private closedByOwner = false;
  private readonly gate: OperationGate;

  constructor(
    private readonly options: ResolvedFtpOptions,
    private readonly where: string,
  ) {
    this.client = new Client(options.timeoutMs);
    this.client.ftp.verbose = options.verbose;
    this.gate = new OperationGate(options.operationRetry);
  }

  /** Opens the session, retrying transient failures with the connect backoff. */
  async open(): Promise<void> {
    let attempts = 0;
    try {
      await retry(async (attempt) => {
        attempts = attempt;
        try {
          await openSession(this.client, this.options, this.where);
        } catch (error) {
          this.client.close();
          throw this.redact(classifyFtpError(error, `connect ${this.where}`));
        }
      }, this.options.connectRetry);
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
            const client = await this.session();
            let bytes = 0;
            client.trackProgress((info) => {
              bytes = info.bytes;
            });
            try {
              await client.uploadFrom(
                this.options.secure
                  ? endingAfterHandshake(source, () => client.ftp.dataSocket)
                  : source,
                path,
              );
              return bytes;
            } catch (error) {
              throw this.failure(error, context, error === sourceFailure);
            } finally {
              client.trackProgress();
            }
          },
          // A stream that was never read (the session died before the server
          // said "150 go ahead") can still be sent whole; once read, it cannot.
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
    return this.repeatable(`size ${path} on ${this.where}`, (client) => sizeOf(client, path));
  }

  async list(remoteFolder: string): Promise<RemoteEntry[]> {
    const folder = remoteFolder === '' ? '' : checkRemotePath(remoteFolder, 'remote folder');
    const context = `list ${folder === '' ? 'the login folder' : folder} on ${this.where}`;
    return this.repeatable(context, async (client) => {
      try {
        const infos = await client.list(folder);
        return infos
          .filter((info) => info.name !== '.' && info.name !== '..')
          .map((info) => toEntry(info, folder));
      } catch (error) {
        if (isReply(error, 550)) {
          throw new TransportNotFoundError(`${context}: no such folder (${error.message})`, {
            ftpCode: 550,
            cause: error,
          });
        }
        throw error;
      }
    });
  }

  async get(remotePath: string, destination: Writable): Promise<number> {
    const path = checkRemotePath(remotePath);
    const context = `get ${path} from ${this.where}`;
    const relay = new DestinationRelay(destination);
    try {
      await this.gate.exclusive(() =>
        retry(
          async () => {
            const client = await this.session();
            try {
              await client.downloadTo(relay.writable(), path);
            } catch (error) {
              throw this.failure(
                await missingOr(error, client, path, context),
                context,
                error === relay.failure,
              );
            }
          },
          // A download restarts from byte 0: only while the caller got nothing.
          this.gate.repeatableWhile(() => relay.bytes === 0 && relay.failure === undefined),
        ),
      );
      await relay.end();
      return relay.bytes;
    } catch (error) {
      relay.detach();
      // Free the caller's file descriptor; no 'error' event, the rejection says it all.
      destination.destroy();
      throw error;
    }
  }

  async delete(remotePath: string): Promise<boolean> {
    const path = checkRemotePath(remotePath);
    const context = `delete ${path} on ${this.where}`;
    return this.repeatable(context, async (client) => {
      try {
        await client.remove(path);
        return true;
      } catch (error) {
        if (!isReply(error, 550)) throw error;
        // 550 means "missing" or "not allowed" alike; only a missing file is
        // "already absent", a refusal must not pass for a deletion.
        if ((await sizeOf(client, path)) === undefined) return false;
        throw new TransportRefusedError(`${context}: ${error.message}`, 550, error);
      }
    });
  }

  async rename(fromPath: string, toPath: string): Promise<void> {
    const from = checkRemotePath(fromPath, 'rename source');
    const to = checkRemotePath(toPath, 'rename target');
    const context = `rename ${from} to ${to} on ${this.where}`;
    await this.repeatable(context, async (client, attempt) => {
      try {
        await client.rename(from, to);
      } catch (error) {
        if (!isReply(error, 550) || (await sizeOf(client, from)) !== undefined) throw error;
        // The source is gone. After a dropped session, an earlier attempt may
        // have renamed it before the reply was lost: the target tells.
        if (attempt > 1 && (await sizeOf(client, to)) !== undefined) return;
        throw new TransportNotFoundError(`${context}: ${from} does not exist (${error.message})`, {
          ftpCode: 550,
          cause: error,
        });
      }
    });
  }

  async close(): Promise<void> {
    if (this.closedByOwner) return;
    this.closedByOwner = true;
    this.client.close();
  }

  /** The live client, opening a new session when the last one died. */
  private async session(): Promise<Client> {
    if (this.closedByOwner) throw this.closedError();
    if (this.client.closed) await this.open();
    return this.client;
  }

  /** Runs an operation that is safe to repeat, with the operation backoff. */
  private repeatable<T>(
    context: string,
    operation: (client: Client, attempt: number) => Promise<T>,
  ): Promise<T> {
    return this.gate.exclusive(() =>
      retry(
        async (attempt) => {
          const client = await this.session();
          try {
            return await operation(client, attempt);
          } catch (error) {
            throw this.failure(error, context, false);
          }
        },
        this.gate.repeatableWhile(() => true),
      ),
    );
  }

  /**
   * Turns a failure into what the caller gets. A server reply leaves the
   * session in step; anything else may not (a late reply to an abandoned
   * transfer would answer the next command), so the client is closed and the
   * next operation starts afresh. A failure of the caller's own stream
   * (`fromCaller`) is passed on unchanged unless it is a network failure.
   */
  private failure(error: unknown, context: string, fromCaller: boolean): unknown {
    const reply =
      isFtpReply(error) || (error instanceof TransportError && error.ftpCode !== undefined);
    if (!reply && !this.client.closed) this.client.close();
    if (this.closedByOwner) return this.closedError();
    const classified = this.redact(classifyFtpError(error, context, { established: true }));
    if (fromCaller && classified.code === TRANSPORT_CODES.FAILED && isObject(error)) {
      this.gate.markLocal(error);
      return error;
    }
    return classified;
  }

  private closedError(): TransportClosedError {
    return new TransportClosedError(`${this.where}: the session was closed by its owner`);
  }

  /** Belt and braces: no message leaves with the password in it, whatever produced it. */
  private redact<E extends Error>(error: E): E {
    const { password } = this.options;
    // A very short password would blank out ordinary letters; it is not in
    // any message basic-ftp writes anyway (it masks PASS).
    if (password.length >= 4 && error.message.includes(password)) {
      error.message = error.message.split(password).join('***');
      if (error.stack) error.stack = error.stack.split(password).join('***');
    }
    return error;
  }
}

/**
 * A download refused with 5xx because the file is missing becomes a
 * {@link TransportNotFoundError}; any other failure is returned as it is.
 * Servers answer a missing file with 550 (vsftpd) or 551 (ftp-srv), and a
 * 5xx may also be a refusal: SIZE tells which.
 */
async function missingOr(
  error: unknown,
  client: Client,
  path: string,
  context: string,
): Promise<unknown> {
  if (!isPermanentReply(error)) return error;
  try {
    if ((await sizeOf(client, path)) !== undefined) return error;
  } catch (sizeError) {
    return sizeError;
  }
  return new TransportNotFoundError(`${context}: no such file (${error.message})`, {
    ftpCode: error.code,
    cause: error,
  });
}

/**
 * SIZE of a file, or undefined when the server says 550 (no such file).
 * basic-ftp's own `size()` is not used: ftp-srv 4 answers a zero-byte file
 * with a bare "213 File status", which it cannot parse. A 213 without a
 * number falls back to the file's listing entry.
 */
async function sizeOf(client: Client, path: string): Promise<number | undefined> {
  let reply: string;
  try {
    reply = (await client.send(`SIZE ${await client.protectWhitespace(path)}`)).message;
  } catch (error) {
    if (isReply(error, 550)) return undefined;
    throw error;
  }
  const stated = /^213[ -](\d+)\s*$/.exec(reply.trim());
  if (stated?.[1] !== undefined) return Number(stated[1]);
  const name = path.slice(path.lastIndexOf('/') + 1);
  const entries = await client.list(path);
  const entry = entries.find((info) => info.name.slice(info.name.lastIndexOf('/') + 1) === name);
  if (entry === undefined || entry.type === FileType.Directory) {
    throw new Error(`cannot read the size of ${path} from the reply ${JSON.stringify(reply)}`);
  }
  return entry.size;
}

/**
 * An FTP {@link TransportConnector}: options are merged over
 * {@link DEFAULT_FTP_OPTIONS} and checked here, once (a
 * {@link TransportConfigError} says what to fix). Each `connect()` opens one
 * session on one basic-ftp Client in passive mode (the client sits behind
 * NAT; basic-ftp only does passive, and refuses a data address other than the
 * server's), retrying transient failures with backoff. The session is reused
 * for every operation and reopened transparently after a drop; `size`,
 * `list`, `delete`, `rename` and `get` (while nothing was written) are retried
 * on transient failures, `put` only while its stream was never read.
 * Operations called at once run one after the other.
 *
 * FTPS (`secure: true`) is explicit TLS: AUTH TLS, the login, then PBSZ 0 /
 * PROT P, every data connection resuming the control connection's session
 * (basic-ftp passes that session, and the newest TLS 1.3 ticket, to each data
 * socket). The certificate is checked against the system's CAs, or `ca` /
 * `caFile`, and the host name; `insecure` skips that. A certificate refused,
 * AUTH TLS or PROT P refused, or a failed handshake when opening a session, is
 * a `TransportTlsError`: permanent, never retried.
 *
 * Streams: when `put` fails, its source is destroyed (the caller opens a
 * fresh one to try again). `get` ends its destination once the server has
 * confirmed the whole file, and destroys it (without an 'error' event) when
 * it fails. A failure of the caller's own stream (a content check aborting
 * the source, a full disk under the destination) is rethrown unchanged.
 */
export function ftpConnector(options: FtpConnectorOptions): TransportConnector {
  const resolved = resolveFtpOptions(options);
  const where = describeFtpServer(resolved);
  return {
    async connect(): Promise<Transport> {
      const transport = new FtpTransport(resolved, where);
      await transport.open();
      return transport;
    },
    describe: () => where,
  };
}

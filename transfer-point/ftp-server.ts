/**
 * ftp-srv set up for a local test double: silent, no process-wide signal handlers, and a
 * close path that leaves no socket, server or timer behind. Three habits of ftp-srv 4 are
 * worked around here, each because it would keep a test process alive or change its
 * behaviour: its constructor adds SIGINT/SIGTERM/SIGQUIT handlers that exit the process and
 * are never removed; every client disconnect starts a 1 s timer that is never cleared; and
 * its default logger writes every command to stdout. Two more were found by the fault runs:
 * it took each TCP chunk of the control connection for whole command lines, so a command cut
 * in two by the network ran as two broken ones (a cut `STOR INTEST/GO.DMFA.1234` created that
 * file), and its control connections kept Nagle's algorithm, so every transfer waited about
 * 40 ms for nothing.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Server, Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { FtpSrv } from 'ftp-srv';
import type { FileSystem, FtpConnection } from 'ftp-srv';
import type { PortRange, SimulatorTlsIdentity } from './types';

/** The subset of a bunyan logger ftp-srv calls. */
interface FtpLogger {
  child(): FtpLogger;
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  fatal(...args: unknown[]): void;
}

const ignore = (): void => undefined;

/**
 * A logger that drops everything. ftp-srv takes a bunyan logger; this object has the methods
 * it calls, so the simulator needs no logging library of its own (bunyan is only ftp-srv's
 * dependency) and tests and the demo stay quiet.
 */
const silentLogger: FtpLogger = {
  child: () => silentLogger,
  trace: ignore,
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  fatal: ignore,
};

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/** Decides a login: resolve with the session's file system, or reject to refuse (530). */
export type LoginHandler = (
  login: { connection: FtpConnection; username: string; password: string },
  accept: (config: { fs: FileSystem }) => void,
  refuse: (error: Error) => void,
) => void;

/** Where and how to listen. */
export interface FtpServerSettings {
  host: string;
  port: number;
  passivePorts: PortRange;
  /** Explicit FTPS with this key and certificate; undefined: plain FTP. */
  tls?: SimulatorTlsIdentity;
  onLogin: LoginHandler;
}

/** A listening FTP server. */
export interface FtpServerHandle {
  /** The control port actually bound. */
  readonly port: number;
  /** Stops accepting, closes every session and data connection, and resolves once closed. */
  close(): Promise<void>;
}

/** ftp-srv internals needed to close sessions ourselves; read defensively. */
interface ServerInternals {
  server?: unknown;
  connections?: Record<string, unknown>;
}
interface ConnectionInternals {
  commandSocket?: unknown;
  connector?: { dataSocket?: unknown; dataServer?: unknown };
}

function netServerOf(ftp: FtpSrv): Server {
  const server = (ftp as unknown as ServerInternals).server;
  if (!(server instanceof Server)) throw new Error('ftp-srv no longer exposes its net.Server');
  return server;
}

function connectionsOf(ftp: FtpSrv): Record<string, unknown> {
  return (ftp as unknown as ServerInternals).connections ?? {};
}

/** Destroys a session's data connection, passive listener and control connection. */
function destroySession(connection: unknown): void {
  const { commandSocket, connector } = (connection ?? {}) as ConnectionInternals;
  if (connector?.dataSocket instanceof Socket) connector.dataSocket.destroy();
  if (connector?.dataServer instanceof Server && connector.dataServer.listening) {
    connector.dataServer.close();
  }
  if (commandSocket instanceof Socket) commandSocket.destroy();
}

/** Builds an ftp://host:port URL, bracketing an IPv6 address. */
function urlOf(host: string, port: number): string {
  return `ftp://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * ftp-srv's TLS settings. It builds one secure context for each control connection (AUTH TLS)
 * and a new TLS server for each passive data connection: with its own random ticket keys each,
 * no data connection could resume the control connection's session. One set of ticket keys
 * shared by all of them lets a client resume, as a real FTPS server expects.
 */
function tlsSettings(identity: SimulatorTlsIdentity): SecureContextOptions {
  return {
    key: identity.key,
    cert: identity.cert,
    minVersion: 'TLSv1.2',
    ticketKeys: randomBytes(48),
  };
}

/** ftp-srv's connection class, as far as reading the control connection goes. */
interface ConnectionPrototype {
  _handleData(data: Buffer): unknown;
  lineBuffered?: boolean;
}

// A client that never ends its line gets no more than this kept for it.
const MAX_PENDING_COMMAND_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');

/**
 * Makes ftp-srv run only whole command lines: the bytes after the last CRLF of a chunk wait
 * for the rest of their line, as on any real server. Patched once, on the class.
 */
function bufferCommandLines(): void {
  const connection = createRequire(__filename)('ftp-srv/src/connection') as unknown;
  if (typeof connection !== 'function') {
    throw new Error('ftp-srv no longer has its FtpConnection class in src/connection');
  }
  const prototype = (connection as { prototype: ConnectionPrototype }).prototype;
  if (prototype.lineBuffered) return;
  const handle = prototype._handleData;
  const pending = new WeakMap<object, Buffer>();
  prototype._handleData = function (this: object, data: Buffer): unknown {
    const bytes = Buffer.concat([pending.get(this) ?? Buffer.alloc(0), data]);
    const end = bytes.lastIndexOf(CRLF);
    const rest = bytes.subarray(end < 0 ? 0 : end + CRLF.length);
    pending.set(
      this,
      rest.length > MAX_PENDING_COMMAND_BYTES ? Buffer.alloc(0) : Buffer.from(rest),
    );
    return end < 0 ? undefined : handle.call(this, bytes.subarray(0, end + CRLF.length));
  };
  prototype.lineBuffered = true;
}

/** Starts ftp-srv on `settings.host` and resolves once it listens. */
export async function listenFtp(settings: FtpServerSettings): Promise<FtpServerHandle> {
  bufferCommandLines();
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const ftp = new FtpSrv({
    url: urlOf(settings.host, settings.port),
    pasv_url: settings.host,
    pasv_min: settings.passivePorts.min,
    pasv_max: settings.passivePorts.max,
    anonymous: false,
    greeting: 'onss-transfer local transfer point',
    log: silentLogger,
    // Explicit TLS: the URL stays ftp:// (an ftps:// URL would make ftp-srv implicit).
    ...(settings.tls === undefined ? {} : { tls: tlsSettings(settings.tls) }),
  });
  // Signals belong to the program that embeds the simulator, not to a library inside it.
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  // Same job as the library's, without the 1 s timer it leaves running on every disconnect.
  ftp.disconnectClient = (id: string): Promise<void> => {
    const connections = connectionsOf(ftp);
    const connection = connections[id];
    delete connections[id];
    destroySession(connection);
    return Promise.resolve();
  };
  ftp.on('login', settings.onLogin);

  const server = netServerOf(ftp);
  // Replies go out as written: with Nagle's algorithm a reply that follows another (150, then
  // 226) waited for the client's delayed ACK, about 40 ms per transfer.
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  await ftp.listen();
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const id of Object.keys(connectionsOf(ftp))) void ftp.disconnectClient(id);
    }).then(() => {
      ftp.removeAllListeners();
    });
    return closing;
  };
  return { port, close };
}

import type { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { FileSystem, FtpSrv, type FtpConnection } from 'ftp-srv';

/**
 * A real FTP server (ftp-srv) started in-process on 127.0.0.1 for tests:
 * random control port, passive data ports in a small range on loopback, one
 * user, one root folder. It can be told to drop the session in the middle
 * of the next upload.
 */

import { bridgeErrorRealms } from './error-realms';

export { bridgeErrorRealms };

/** What {@link start} needs. */
export interface TestFtpServerOptions {
  /** Folder served as the user's home (created if missing). */
  root: string;
  user: string;
  password: string;
  /** Folders to create under the root, e.g. the transfer point's IN, INTEST... */
  folders?: string[];
  /** First and last passive port; default a random 100-port window in 20000-31999. */
  pasvRange?: [number, number];
}

/** A running test server. */
export interface TestFtpServer {
  /** The control port on 127.0.0.1. */
  port: number;
  /** Control connections accepted so far. */
  readonly connections: number;
  /** Successful logins so far. */
  readonly logins: number;
  /**
   * Arms a one-shot fault: the next upload's data and control connections
   * are destroyed once the server has received `bytes` bytes of it.
   */
  dropNextUploadAfter(bytes: number): void;
  /**
   * Arms a one-shot fault: the next download's connections are destroyed
   * once the server has sent at least `bytes` bytes (0: before the first).
   */
  dropNextDownloadAfter(bytes: number): void;
  /** Cuts every open session at once, without a reply, as a server restart would. */
  dropSessions(): void;
  /** Closes every session and the server; safe to call twice. */
  stop(): Promise<void>;
}

/** ftp-srv wants a bunyan-like logger; tests want silence. */
const silentLog = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
  child: () => silentLog,
};

/** The passive data socket of a session: ftp-srv internals, checked at run time. */
function dataSocketOf(connection: FtpConnection): Socket | undefined {
  const connector: unknown = Reflect.get(connection, 'connector');
  const socket: unknown =
    typeof connector === 'object' && connector !== null
      ? Reflect.get(connector, 'socket')
      : undefined;
  return socket instanceof Socket ? socket : undefined;
}

/** The control socket of a session: ftp-srv internals, checked at run time. */
function controlSocketOf(connection: FtpConnection): Socket | undefined {
  const socket: unknown = Reflect.get(connection, 'commandSocket');
  return socket instanceof Socket ? socket : undefined;
}

function listeningPort(server: FtpSrv): number {
  const netServer: unknown = Reflect.get(server, 'server');
  const address = (netServer as Server | undefined)?.address();
  if (!address || typeof address === 'string') throw new Error('ftp-srv is not listening');
  return (address as AddressInfo).port;
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/** Starts a server; `stop()` it in afterAll/afterEach. */
export async function start(options: TestFtpServerOptions): Promise<TestFtpServer> {
  bridgeErrorRealms();
  mkdirSync(options.root, { recursive: true });
  for (const folder of options.folders ?? []) {
    mkdirSync(`${options.root}/${folder}`, { recursive: true });
  }
  const base = 20_000 + Math.floor(Math.random() * 120) * 100;
  const [pasvMin, pasvMax] = options.pasvRange ?? [base, base + 99];

  let dropAfter: number | undefined;
  let dropDownloadAfter: number | undefined;
  let connections = 0;
  let logins = 0;

  /** The default file system, plus the armed fault on the next upload. */
  class FaultyFileSystem extends FileSystem {
    write(fileName: string, writeOptions?: { append?: boolean; start?: unknown }): unknown {
      const limit = dropAfter;
      dropAfter = undefined;
      const socket = limit === undefined ? undefined : dataSocketOf(this.connection);
      if (limit !== undefined && socket) {
        let received = 0;
        // ftp-srv resumes the data socket only after this call, so no byte is missed.
        socket.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received >= limit && !socket.destroyed) {
            // Like a server or firewall dropping the session: no reply, both sockets cut.
            socket.destroy();
            controlSocketOf(this.connection)?.destroy();
          }
        });
      }
      return super.write(fileName, writeOptions);
    }

    async read(fileName: string, readOptions?: { start?: unknown }): Promise<unknown> {
      const limit = dropDownloadAfter;
      dropDownloadAfter = undefined;
      if (limit === undefined) return super.read(fileName, readOptions);
      const drop = (): void => {
        dataSocketOf(this.connection)?.destroy();
        controlSocketOf(this.connection)?.destroy();
      };
      if (limit === 0) {
        drop();
        throw new Error('session dropped by the test server');
      }
      const opened: unknown = await super.read(fileName, readOptions);
      const stream: unknown = Reflect.get(opened as object, 'stream');
      if (!(stream instanceof Readable)) throw new Error('ftp-srv read() gave no stream');
      let sent = 0;
      // Counted before the chunk is sent: at least `limit` bytes reach the client first.
      stream.on('data', (chunk: Buffer) => {
        if (sent >= limit) drop();
        sent += chunk.length;
      });
      return opened;
    }
  }

  // ftp-srv adds process signal handlers per server; remember ours to remove them.
  const before = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const server = new FtpSrv({
    url: 'ftp://127.0.0.1:0',
    pasv_url: '127.0.0.1',
    pasv_min: pasvMin,
    pasv_max: pasvMax,
    greeting: 'onss-transfer test server',
    anonymous: false,
    log: silentLog,
  });
  const added = SIGNALS.map(
    (signal) =>
      [
        signal,
        process.listeners(signal).filter((listener) => !before.get(signal)?.includes(listener)),
      ] as const,
  );

  // 'connect' is missing from ftp-srv's typings, not from the server.
  const sessions = new Set<FtpConnection>();
  (server as EventEmitter).on('connect', ({ connection }: { connection: FtpConnection }) => {
    connections += 1;
    sessions.add(connection);
  });
  (server as EventEmitter).on('disconnect', ({ connection }: { connection: FtpConnection }) => {
    sessions.delete(connection);
  });
  server.on('login', ({ connection, username, password }, resolve, reject) => {
    if (username !== options.user || password !== options.password) {
      reject(new Error('Login incorrect'));
      return;
    }
    logins += 1;
    resolve({ fs: new FaultyFileSystem(connection, { root: options.root, cwd: '/' }) });
  });

  await server.listen();
  const port = listeningPort(server);
  let stopped: Promise<void> | undefined;

  return {
    port,
    get connections() {
      return connections;
    },
    get logins() {
      return logins;
    },
    dropNextUploadAfter(bytes: number) {
      dropAfter = bytes;
    },
    dropNextDownloadAfter(bytes: number) {
      dropDownloadAfter = bytes;
    },
    dropSessions() {
      for (const connection of sessions) {
        dataSocketOf(connection)?.destroy();
        controlSocketOf(connection)?.destroy();
      }
    },
    stop() {
      stopped ??= (async () => {
        await server.close();
        for (const [signal, listeners] of added) {
          for (const listener of listeners) process.off(signal, listener);
        }
      })();
      return stopped;
    },
  };
}

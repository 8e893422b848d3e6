import { createServer, type Server, type Socket } from 'node:net';

/**
 * A tiny FTP server on 127.0.0.1 whose answers a test scripts: enough of RFC 959 (USER, PASS,
 * FEAT, TYPE, EPSV, PASV, LIST, MLSD, SIZE, STOR, RETR, DELE, RNFR/RNTO, QUIT) for the real
 * client (`ftpConnector`, on basic-ftp) to log in, list, upload, download and delete, with
 * files kept in memory. Hooks let a test make it lie: the raw text of a listing, the size SIZE
 * reports, what a download sends. Every command it receives is logged (`commands`), so a test
 * can tell what the client did (no STOR of a GO, no DELE...).
 */

/** What a test may script; each hook left out answers honestly. */
export interface ScriptedFtpOptions {
  user?: string;
  password?: string;
  /** Files at start, by path relative to the home folder (`OUT/FO.ACRF...`). */
  files?: ReadonlyMap<string, Buffer>;
  /** Advertise MLST in FEAT, so the client lists with MLSD. Default false (LIST). */
  mlsd?: boolean;
  /**
   * The raw body of a listing of `folder` (LIST or MLSD), instead of the honest one; a Buffer
   * is sent as it is (bytes that are not UTF-8, NULs...). `honest` is what it would have been.
   */
  listing?: (folder: string, honest: string, command: 'LIST' | 'MLSD') => string | Buffer;
  /** The size SIZE reports for `path` (undefined: 550), given the true one. */
  size?: (path: string, actual: number | undefined) => number | undefined;
  /** What a download of `path` sends, given what the file holds. */
  download?: (path: string, content: Buffer) => Buffer;
  /** How long closing an upload of `path` takes before its 226 (default 0: at once). */
  closeMs?: (path: string) => number;
}

/** A running scripted server. */
export interface ScriptedFtpServer {
  port: number;
  user: string;
  password: string;
  /** The files as they are now, by path (`IN/FI...`). */
  files: Map<string, Buffer>;
  /** Every command received, in order, with its argument (`STOR IN/GO...`); PASS is masked. */
  commands: string[];
  /** Paths of the files uploaded (STOR), in order. */
  stored(): string[];
  /** Paths deleted (DELE), in order. */
  deleted(): string[];
  close(): Promise<void>;
}

const MONTH_DAY_TIME = 'Jan 01 00:00';

function unixLine(name: string, size: number): string {
  return `-rw-r--r-- 1 onss onss ${size} ${MONTH_DAY_TIME} ${name}`;
}

function mlsdLine(name: string, size: number): string {
  return `type=file;size=${size};modify=20260101000000; ${name}`;
}

/** Strips the leading `/` a client may put before a path, and any `-a` option of LIST. */
function pathArgument(argument: string): string {
  return argument
    .replace(/^-a(\s+|$)/, '')
    .replace(/^\/+/, '')
    .replace(/\/+$/, '');
}

/** Starts a server; `close()` it in afterEach/afterAll. */
export async function startScriptedFtp(
  options: ScriptedFtpOptions = {},
): Promise<ScriptedFtpServer> {
  const user = options.user ?? 'onss';
  const password = options.password ?? 'scripted-password';
  const files = new Map(options.files ?? []);
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const dataServers = new Set<Server>();

  const folderListing = (folder: string, command: 'LIST' | 'MLSD'): string | Buffer => {
    const prefix = folder === '' ? '' : `${folder}/`;
    const lines: string[] = [];
    for (const [path, content] of files) {
      if (!path.startsWith(prefix)) continue;
      const name = path.slice(prefix.length);
      if (name.includes('/')) continue;
      lines.push(
        command === 'MLSD' ? mlsdLine(name, content.length) : unixLine(name, content.length),
      );
    }
    const honest = lines.map((line) => `${line}\r\n`).join('');
    return options.listing ? options.listing(folder, honest, command) : honest;
  };

  const session = (control: Socket): void => {
    sockets.add(control);
    control.setNoDelay(true);
    control.on('close', () => sockets.delete(control));
    control.on('error', () => undefined);
    const reply = (text: string): void => {
      if (!control.destroyed) control.write(`${text}\r\n`);
    };
    let loggedIn = false;
    let renameFrom: string | undefined;
    // The passive data connection: the listening server, then the socket the client opened.
    let pending: Promise<Socket> | undefined;

    const openPassive = async (): Promise<number> => {
      const server = createServer();
      dataServers.add(server);
      pending = new Promise<Socket>((resolve) => {
        server.once('connection', (socket) => {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
          server.close();
          dataServers.delete(server);
          resolve(socket);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no data port');
      return address.port;
    };

    const takeData = async (): Promise<Socket | undefined> => {
      const socket = await pending;
      pending = undefined;
      return socket;
    };

    const send = async (body: string | Buffer): Promise<void> => {
      const socket = await takeData();
      if (socket === undefined) {
        reply('425 Use EPSV or PASV first');
        return;
      }
      reply('150 Opening data connection');
      await new Promise<void>((resolve) => socket.end(body, () => resolve()));
      reply('226 Transfer complete');
    };

    const receive = async (path: string): Promise<void> => {
      const socket = await takeData();
      if (socket === undefined) {
        reply('425 Use EPSV or PASV first');
        return;
      }
      reply('150 Ok to send data');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const closeMs = options.closeMs?.(path) ?? 0;
      if (closeMs > 0) await new Promise((resolve) => setTimeout(resolve, closeMs));
      files.set(path, Buffer.concat(chunks));
      reply('226 Transfer complete');
    };

    const handle = async (line: string): Promise<void> => {
      const space = line.indexOf(' ');
      const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
      const argument = space === -1 ? '' : line.slice(space + 1);
      commands.push(verb === 'PASS' ? 'PASS ***' : `${verb}${argument ? ` ${argument}` : ''}`);
      if (verb === 'USER') return reply('331 Password required');
      if (verb === 'PASS') {
        loggedIn = argument === password;
        return reply(loggedIn ? '230 Logged in' : '530 Login incorrect');
      }
      if (verb === 'QUIT') {
        reply('221 Bye');
        control.end();
        return;
      }
      if (!loggedIn) return reply('530 Please login with USER and PASS');
      const path = pathArgument(argument);
      switch (verb) {
        case 'FEAT':
          return reply(
            [
              '211-Features:',
              ' SIZE',
              ' EPSV',
              ' UTF8',
              ...(options.mlsd ? [' MLST type*;size*;'] : []),
            ]
              .concat('211 End')
              .join('\r\n'),
          );
        case 'TYPE':
        case 'STRU':
        case 'OPTS':
        case 'NOOP':
          return reply('200 OK');
        case 'PWD':
          return reply('257 "/"');
        case 'CWD':
          return reply('250 OK');
        case 'EPSV':
          return reply(`229 Entering Extended Passive Mode (|||${await openPassive()}|)`);
        case 'PASV': {
          const port = await openPassive();
          return reply(`227 Entering Passive Mode (127,0,0,1,${port >> 8},${port & 255})`);
        }
        case 'LIST':
        case 'MLSD':
          return send(folderListing(path, verb));
        case 'SIZE': {
          const actual = files.get(path)?.length;
          const stated = options.size ? options.size(path, actual) : actual;
          return reply(stated === undefined ? '550 No such file' : `213 ${stated}`);
        }
        case 'RETR': {
          const content = files.get(path);
          if (content === undefined) {
            await takeData().then((socket) => socket?.destroy());
            return reply('550 No such file');
          }
          return send(options.download ? options.download(path, content) : content);
        }
        case 'STOR':
          return receive(path);
        case 'DELE':
          if (!files.delete(path)) return reply('550 No such file');
          return reply('250 Deleted');
        case 'RNFR':
          if (!files.has(path)) return reply('550 No such file');
          renameFrom = path;
          return reply('350 Ready for RNTO');
        case 'RNTO': {
          const from = renameFrom;
          renameFrom = undefined;
          const content = from === undefined ? undefined : files.get(from);
          if (from === undefined || content === undefined) return reply('503 RNFR first');
          files.delete(from);
          files.set(path, content);
          return reply('250 Renamed');
        }
        default:
          return reply('502 Command not implemented');
      }
    };

    // Commands are handled one at a time, in order, as a real server does.
    let queue = Promise.resolve();
    let buffered = '';
    control.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let end = buffered.indexOf('\r\n');
      while (end !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        queue = queue
          .then(() => handle(line))
          .catch(() => {
            control.destroy();
          });
        end = buffered.indexOf('\r\n');
      }
    });
    reply('220 scripted test server');
  };

  const server = createServer(session);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  const argumentsOf = (verb: string): string[] =>
    commands
      .filter((command) => command.startsWith(`${verb} `))
      .map((command) => pathArgument(command.slice(verb.length + 1)));

  return {
    port: address.port,
    user,
    password,
    files,
    commands,
    stored: () => argumentsOf('STOR'),
    deleted: () => argumentsOf('DELE'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        for (const data of dataServers) data.close();
        server.close(() => resolve());
      }),
  };
}

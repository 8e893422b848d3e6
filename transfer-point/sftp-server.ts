/**
 * A small SFTP server on ssh2's `Server`, serving one folder to one user who logs in with a
 * key (the transfer point's way) or, when one is set, a password. Clients see the folder as
 * `/`, their login folder. It speaks what a sender needs (open, read, write, close, stat,
 * list, remove, rename, mkdir, realpath) with OpenSSH's answers: a missing file is
 * NO_SUCH_FILE, RENAME refuses an existing target. It offers no extension, so clients use
 * plain SFTP (no posix-rename).
 *
 * Uploads go through the simulator's UploadSink (scripted slowness and cuts), and each
 * completed upload or rename is reported, so the local transfer point judges sets received
 * over SFTP exactly as over FTP. Used by the simulator (`protocol: 'sftp'`) and by the tests
 * of the SFTP adapter.
 */
import { timingSafeEqual } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import {
  open,
  readdir,
  rename,
  stat,
  unlink,
  mkdir,
  rmdir,
  type FileHandle,
} from 'node:fs/promises';
import type { Stats as FsStats } from 'node:fs';
import { Socket } from 'node:net';
import { posix, resolve, join } from 'node:path';
import {
  Server,
  utils,
  type Attributes,
  type AuthContext,
  type Connection,
  type FileEntry,
  type ParsedKey,
  type ServerHostKeyAlgorithm,
  type SFTPWrapper,
} from 'ssh2';
import { sshFingerprint } from '../shared/transport/ssh-keys';
import { UploadSink } from './upload-sink';

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const STATUS = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  OP_UNSUPPORTED: 8,
} as const;

/** SSH_FXF_* open flags. */
const OPEN_FLAG = { READ: 0x01, WRITE: 0x02, APPEND: 0x04, CREAT: 0x08, TRUNC: 0x10, EXCL: 0x20 };

/** Largest READ answered at once: OpenSSH's limit, which every client accepts. */
const MAX_READ_BYTES = 256 * 1024 - 1024;

/** What the server tells the simulator about uploads, and what it asks of it. */
export interface SftpUploadHooks {
  /** The byte count after which to cut this upload, if one was scripted; uses the script up. */
  takeDropAfter(): number | undefined;
  /** The current upload rate limit in bytes per second, if any. */
  throttle(): number | undefined;
  /** A new upload stream, so that stopping can close it. */
  track(sink: UploadSink): void;
  /** That upload is over. */
  untrack(sink: UploadSink): void;
  /** A file was completely uploaded to `fsPath` (the client closed it): absolute path on disk. */
  uploaded(fsPath: string): void;
  /** An upload to `fsPath` was cut or failed; what arrived of it stays on disk. */
  interrupted(fsPath: string): void;
  /** A file was renamed to `fsPath` (absolute path on disk). */
  renamed(fsPath: string): void;
}

/** Where and how to listen, and who may log in. */
export interface SftpServerSettings {
  /** Address to listen on, e.g. 127.0.0.1. */
  host: string;
  /** Port; 0 for a free one. */
  port: number;
  /** The folder served as the login folder `/`. */
  root: string;
  /** Host private keys (PEM or OpenSSH, unencrypted). */
  hostKeys: readonly (string | Buffer)[];
  /**
   * Host key signature algorithms offered; default ssh2's. `['ssh-rsa']` mimics the transfer
   * point, which offers nothing else.
   */
  hostKeyAlgorithms?: readonly ServerHostKeyAlgorithm[];
  /** The one user name accepted. */
  user: string;
  /** Public keys accepted for it: `authorized_keys` lines (`ssh-rsa AAAA... comment`). */
  authorizedKeys: readonly (string | Buffer)[];
  /** A password accepted for it too; default none (key only). */
  password?: string;
  /** Upload observation and scripting; default none. */
  hooks?: SftpUploadHooks;
}

/** A listening SFTP server. */
export interface SftpServerHandle {
  /** The port actually bound. */
  readonly port: number;
  /** Fingerprint of the (first) host key, as OpenSSH prints it: `SHA256:...`. */
  readonly hostKeySha256: string;
  /** Logins accepted so far. */
  readonly logins: number;
  /** Authentication requests seen so far (any method, accepted or not). */
  readonly authAttempts: number;
  /** Cuts every open connection at once, without a goodbye, as a crash or a network cut would. */
  dropConnections(): void;
  /** Stops listening, cuts every connection, and resolves once closed. */
  close(): Promise<void>;
}

function parsePublicKeys(keys: readonly (string | Buffer)[]): ParsedKey[] {
  return keys.map((key, index) => {
    const parsed = utils.parseKey(key);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (first === undefined || first instanceof Error) {
      throw new Error(`authorized key ${index + 1} cannot be read as an SSH public key`);
    }
    return first;
  });
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Compares secrets in constant time for equal lengths. */
function sameText(given: string, expected: string): boolean {
  return sameBytes(Buffer.from(given), Buffer.from(expected));
}

/** The path on disk of a client path: relative to `/`, normalised so `..` never leaves root. */
export function diskPath(root: string, clientPath: string): string {
  const normalized = posix.normalize(posix.join('/', clientPath.replace(/\\/g, '/')));
  return resolve(join(root, normalized));
}

function clientPathOf(clientPath: string): string {
  return posix.normalize(posix.join('/', clientPath.replace(/\\/g, '/')));
}

function statusOfError(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return STATUS.NO_SUCH_FILE;
  if (code === 'EACCES' || code === 'EPERM') return STATUS.PERMISSION_DENIED;
  return STATUS.FAILURE;
}

function attributesOf(stats: FsStats): Attributes {
  return {
    mode: stats.mode,
    uid: stats.uid,
    gid: stats.gid,
    size: stats.size,
    atime: Math.floor(stats.atimeMs / 1000),
    mtime: Math.floor(stats.mtimeMs / 1000),
  };
}

const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');

/** An `ls -l` line, as servers put in the `longname` of a listing entry. */
function longName(name: string, stats: FsStats): string {
  const type = stats.isDirectory()
    ? 'd'
    : stats.isFile()
      ? '-'
      : stats.isSymbolicLink()
        ? 'l'
        : '?';
  const bits = 'rwxrwxrwx'
    .split('')
    .map((letter, i) => (stats.mode & (0o400 >> i) ? letter : '-'))
    .join('');
  const date = stats.mtime;
  const when = `${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2)} ${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  return `${type}${bits} 1 ${stats.uid} ${stats.gid} ${String(stats.size).padStart(10)} ${when} ${name}`;
}

/** One open handle of a session. */
type Handle =
  | { kind: 'read'; file: FileHandle }
  | {
      kind: 'write';
      path: string;
      sink: UploadSink;
      /** Offset of the next byte to write: uploads are written in file order. */
      next: number;
      /** WRITEs received ahead of `next`, by offset. */
      waiting: Map<number, { id: number; data: Buffer }>;
      /** Requests of this handle, one after the other. */
      chain: Promise<void>;
      failed: boolean;
    }
  | { kind: 'dir'; entries: FileEntry[] | undefined; path: string };

/** Serves one SFTP channel. */
class SftpSession {
  private readonly handles = new Map<number, Handle>();
  private nextHandle = 1;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly root: string,
    private readonly hooks: SftpUploadHooks | undefined,
    private readonly cut: () => void,
  ) {
    sftp.on('OPEN', (id: number, filename: string, flags: number) =>
      this.run(id, () => this.open(id, filename, flags)),
    );
    sftp.on('WRITE', (id: number, handle: Buffer, offset: number, data: Buffer) =>
      this.write(id, handle, offset, data),
    );
    sftp.on('READ', (id: number, handle: Buffer, offset: number, length: number) =>
      this.run(id, () => this.read(id, handle, offset, length)),
    );
    sftp.on('CLOSE', (id: number, handle: Buffer) => this.run(id, () => this.close(id, handle)));
    sftp.on('FSTAT', (id: number, handle: Buffer) => this.run(id, () => this.fstat(id, handle)));
    sftp.on('STAT', (id: number, path: string) => this.run(id, () => this.stat(id, path)));
    sftp.on('LSTAT', (id: number, path: string) => this.run(id, () => this.stat(id, path)));
    sftp.on('OPENDIR', (id: number, path: string) => this.run(id, () => this.opendir(id, path)));
    sftp.on('READDIR', (id: number, handle: Buffer) =>
      this.run(id, () => this.readdir(id, handle)),
    );
    sftp.on('REMOVE', (id: number, path: string) =>
      this.run(id, async () => {
        await unlink(this.disk(path));
        sftp.status(id, STATUS.OK);
      }),
    );
    sftp.on('RENAME', (id: number, from: string, to: string) =>
      this.run(id, () => this.rename(id, from, to)),
    );
    sftp.on('MKDIR', (id: number, path: string) =>
      this.run(id, async () => {
        await mkdir(this.disk(path));
        sftp.status(id, STATUS.OK);
      }),
    );
    sftp.on('RMDIR', (id: number, path: string) =>
      this.run(id, async () => {
        await rmdir(this.disk(path));
        sftp.status(id, STATUS.OK);
      }),
    );
    sftp.on('REALPATH', (id: number, path: string) => {
      const name = clientPathOf(path);
      sftp.name(id, [{ filename: name, longname: name, attrs: {} as Attributes }]);
    });
    // Attributes are not kept: accept and ignore, as many servers do.
    sftp.on('SETSTAT', (id: number) => sftp.status(id, STATUS.OK));
    sftp.on('FSETSTAT', (id: number) => sftp.status(id, STATUS.OK));
  }

  private disk(path: string): string {
    return diskPath(this.root, path);
  }

  /** Runs a request; a failure becomes the status its error code maps to. */
  private run(id: number, task: () => Promise<void>): void {
    task().catch((error: unknown) => {
      this.reply(id, statusOfError(error), (error as { message?: string } | null)?.message);
    });
  }

  private reply(id: number, status: number, message?: string): void {
    try {
      this.sftp.status(id, status, message);
    } catch {
      // The channel is gone: nobody is waiting for the answer.
    }
  }

  private handleOf(buffer: Buffer): [number, Handle | undefined] {
    const key = buffer.length === 4 ? buffer.readUInt32BE(0) : -1;
    return [key, this.handles.get(key)];
  }

  private newHandle(handle: Handle): Buffer {
    const key = this.nextHandle++;
    this.handles.set(key, handle);
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(key);
    return buffer;
  }

  private async open(id: number, filename: string, flags: number): Promise<void> {
    const path = this.disk(filename);
    if ((flags & OPEN_FLAG.WRITE) === 0) {
      const file = await open(path, constants.O_RDONLY);
      this.sftp.handle(id, this.newHandle({ kind: 'read', file }));
      return;
    }
    if ((flags & OPEN_FLAG.APPEND) !== 0) {
      this.reply(id, STATUS.OP_UNSUPPORTED, 'appending is not supported');
      return;
    }
    let mode = constants.O_WRONLY;
    if (flags & OPEN_FLAG.CREAT) mode |= constants.O_CREAT;
    if (flags & OPEN_FLAG.TRUNC) mode |= constants.O_TRUNC;
    if (flags & OPEN_FLAG.EXCL) mode |= constants.O_EXCL;
    const descriptor = await open(path, mode, 0o644);
    const stream = createWriteStream(path, { fd: descriptor });
    const hooks = this.hooks;
    const sink: UploadSink = new UploadSink(stream, {
      throttle: () => hooks?.throttle(),
      dropAfter: hooks?.takeDropAfter(),
      drop: () => this.cut(),
      settled: (complete) => {
        hooks?.untrack(sink);
        if (!complete) hooks?.interrupted(path);
      },
    });
    hooks?.track(sink);
    const handle: Handle = {
      kind: 'write',
      path,
      sink,
      next: 0,
      waiting: new Map(),
      chain: Promise.resolve(),
      failed: false,
    };
    this.sftp.handle(id, this.newHandle(handle));
  }

  /**
   * Writes an upload as it comes, in file order. Clients keep several WRITEs in flight and
   * may send them out of order (ssh2 cuts a big one in two and sends the second half after
   * the first is answered, while later pieces are already on their way): a WRITE ahead of
   * the data written so far waits for the gap to fill. Rewriting earlier bytes is refused.
   */
  private write(id: number, buffer: Buffer, offset: number, data: Buffer): void {
    const [, handle] = this.handleOf(buffer);
    if (handle?.kind !== 'write') {
      this.reply(id, STATUS.FAILURE, 'not a handle open for writing');
      return;
    }
    if (handle.failed || offset < handle.next || handle.waiting.has(offset)) {
      handle.failed = true;
      this.reply(id, STATUS.FAILURE, 'only writes in file order are supported');
      return;
    }
    handle.waiting.set(offset, { id, data });
    handle.chain = handle.chain.then(() => this.flush(handle));
  }

  private async flush(handle: Extract<Handle, { kind: 'write' }>): Promise<void> {
    for (let next = handle.waiting.get(handle.next); next; next = handle.waiting.get(handle.next)) {
      handle.waiting.delete(handle.next);
      handle.next += next.data.length;
      if (handle.failed) {
        this.reply(next.id, STATUS.FAILURE, 'the upload failed');
        continue;
      }
      try {
        await new Promise<void>((resolveWrite, reject) =>
          handle.sink.write(next.data, (error) => (error ? reject(error) : resolveWrite())),
        );
        this.reply(next.id, STATUS.OK);
      } catch (error) {
        handle.failed = true;
        this.reply(next.id, statusOfError(error), 'write failed');
      }
    }
  }

  private async read(id: number, buffer: Buffer, offset: number, length: number): Promise<void> {
    const [, handle] = this.handleOf(buffer);
    if (handle?.kind !== 'read') {
      this.reply(id, STATUS.FAILURE, 'not a handle open for reading');
      return;
    }
    const data = Buffer.alloc(Math.min(length, MAX_READ_BYTES));
    const { bytesRead } = await handle.file.read(data, 0, data.length, offset);
    if (bytesRead === 0) this.reply(id, STATUS.EOF);
    else this.sftp.data(id, data.subarray(0, bytesRead));
  }

  private async close(id: number, buffer: Buffer): Promise<void> {
    const [key, handle] = this.handleOf(buffer);
    if (handle === undefined) {
      this.reply(id, STATUS.FAILURE, 'no such handle');
      return;
    }
    this.handles.delete(key);
    if (handle.kind === 'read') await handle.file.close();
    if (handle.kind === 'write') {
      await handle.chain;
      const { sink } = handle;
      // A gap never filled: the client gave up on those writes.
      for (const { id: orphan } of handle.waiting.values()) {
        this.reply(orphan, STATUS.FAILURE, 'the upload has a gap');
        handle.failed = true;
      }
      handle.waiting.clear();
      const ended = await new Promise<boolean>((resolveEnd) => {
        if (sink.destroyed) {
          resolveEnd(false);
          return;
        }
        sink.once('error', () => resolveEnd(false));
        sink.end((error?: Error | null) => resolveEnd(!error));
      });
      if (!ended || handle.failed) {
        this.reply(id, STATUS.FAILURE, 'the upload did not complete');
        return;
      }
      this.reply(id, STATUS.OK);
      this.hooks?.uploaded(handle.path);
      return;
    }
    this.reply(id, STATUS.OK);
  }

  private async fstat(id: number, buffer: Buffer): Promise<void> {
    const [, handle] = this.handleOf(buffer);
    if (handle === undefined) {
      this.reply(id, STATUS.FAILURE, 'no such handle');
      return;
    }
    const stats = handle.kind === 'read' ? await handle.file.stat() : await stat(handle.path);
    this.sftp.attrs(id, attributesOf(stats));
  }

  private async stat(id: number, path: string): Promise<void> {
    this.sftp.attrs(id, attributesOf(await stat(this.disk(path))));
  }

  private async opendir(id: number, path: string): Promise<void> {
    const folder = this.disk(path);
    if (!(await stat(folder)).isDirectory()) {
      this.reply(id, STATUS.FAILURE, 'not a folder');
      return;
    }
    this.sftp.handle(id, this.newHandle({ kind: 'dir', entries: undefined, path: folder }));
  }

  private async readdir(id: number, buffer: Buffer): Promise<void> {
    const [, handle] = this.handleOf(buffer);
    if (handle?.kind !== 'dir') {
      this.reply(id, STATUS.FAILURE, 'not a folder handle');
      return;
    }
    if (handle.entries !== undefined) {
      // Everything went in the first answer.
      this.reply(id, STATUS.EOF);
      return;
    }
    const names = ['.', '..', ...(await readdir(handle.path))];
    const entries: FileEntry[] = [];
    for (const name of names) {
      try {
        const stats = await stat(join(handle.path, name));
        entries.push({
          filename: name,
          longname: longName(name, stats),
          attrs: attributesOf(stats),
        });
      } catch {
        // Removed meanwhile: not listed.
      }
    }
    handle.entries = entries;
    this.sftp.name(id, entries);
  }

  /** SFTP's RENAME: refuses an existing target, as OpenSSH does without posix-rename. */
  private async rename(id: number, from: string, to: string): Promise<void> {
    const source = this.disk(from);
    const target = this.disk(to);
    await stat(source);
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (exists) {
      this.reply(id, STATUS.FAILURE, 'the target exists');
      return;
    }
    await rename(source, target);
    this.reply(id, STATUS.OK);
    this.hooks?.renamed(target);
  }

  /** The connection ended: an upload still open is cut (its partial file stays). */
  dispose(): void {
    for (const handle of this.handles.values()) {
      if (handle.kind === 'read') void handle.file.close().catch(() => undefined);
      if (handle.kind === 'write') handle.sink.destroy();
    }
    this.handles.clear();
  }
}

function socketOf(client: Connection): Socket | undefined {
  const socket: unknown = Reflect.get(client, '_sock');
  return socket instanceof Socket ? socket : undefined;
}

/**
 * Starts the SFTP server and resolves once it listens. Key login compares the key offered
 * with the authorized ones and checks its signature; the host key offered is the first of
 * `hostKeys` the client accepts (with `hostKeyAlgorithms: ['ssh-rsa']`, an RSA key signed
 * with SHA-1 only, like the transfer point).
 */
export async function listenSftp(settings: SftpServerSettings): Promise<SftpServerHandle> {
  const authorized = parsePublicKeys(settings.authorizedKeys);
  const root = resolve(settings.root);
  const firstHostKey = settings.hostKeys[0];
  if (firstHostKey === undefined) throw new Error('the SFTP server needs a host key');
  const parsedHostKey = utils.parseKey(firstHostKey);
  const hostKey = Array.isArray(parsedHostKey) ? parsedHostKey[0] : parsedHostKey;
  if (hostKey === undefined || hostKey instanceof Error || !hostKey.isPrivateKey()) {
    throw new Error('the SFTP host key cannot be read as an unencrypted private key');
  }
  const hostKeySha256 = sshFingerprint(hostKey.getPublicSSH());
  const connections = new Set<Connection>();
  let logins = 0;
  let authAttempts = 0;

  const authenticate = (context: AuthContext): void => {
    authAttempts += 1;
    const methods: ('publickey' | 'password')[] = ['publickey'];
    if (settings.password !== undefined) methods.push('password');
    if (!sameText(context.username, settings.user)) {
      context.reject(methods);
      return;
    }
    if (context.method === 'publickey') {
      const key = authorized.find((candidate) =>
        sameBytes(candidate.getPublicSSH(), context.key.data),
      );
      if (key === undefined) {
        context.reject(methods);
        return;
      }
      // Without a signature the client only asks whether the key would do.
      if (context.signature === undefined || context.blob === undefined) {
        context.accept();
        return;
      }
      if (key.verify(context.blob, context.signature, context.hashAlgo) !== true) {
        context.reject(methods);
        return;
      }
      logins += 1;
      context.accept();
      return;
    }
    if (
      context.method === 'password' &&
      settings.password !== undefined &&
      sameText(context.password, settings.password)
    ) {
      logins += 1;
      context.accept();
      return;
    }
    context.reject(methods);
  };

  const server = new Server(
    {
      hostKeys: [...settings.hostKeys],
      ...(settings.hostKeyAlgorithms
        ? { algorithms: { serverHostKey: [...settings.hostKeyAlgorithms] } }
        : {}),
      ident: 'onss-transfer-local-sftp',
    },
    (client) => {
      connections.add(client);
      // Answers are small packets: Nagle's algorithm would hold each one ~40 ms (PERF-NOTES).
      socketOf(client)?.setNoDelay(true);
      const sessions: SftpSession[] = [];
      const cut = (): void => {
        const socket = socketOf(client);
        if (socket) socket.destroy();
        else client.end();
      };
      client.on('authentication', authenticate);
      client.on('ready', () => {
        client.on('session', (acceptSession) => {
          const session = acceptSession();
          session.on('sftp', (acceptSftp) => {
            sessions.push(new SftpSession(acceptSftp(), root, settings.hooks, cut));
          });
        });
      });
      // A client that goes away mid-handshake is not the server's failure.
      client.on('error', () => undefined);
      client.on('close', () => {
        connections.delete(client);
        for (const session of sessions) session.dispose();
      });
    },
  );

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;

  const dropConnections = (): void => {
    for (const client of connections) {
      const socket = socketOf(client);
      if (socket) socket.destroy();
      else client.end();
    }
  };
  let closing: Promise<void> | undefined;
  return {
    port,
    hostKeySha256,
    get logins() {
      return logins;
    },
    get authAttempts() {
      return authAttempts;
    },
    dropConnections,
    close: () => {
      closing ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        dropConnections();
      });
      return closing;
    },
  };
}

/**
 * One SFTP channel of the local transfer point: its handles (read, ordered write through the
 * UploadSink, folder listing) and its answers to each request, OpenSSH's way.
 */
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
import { join } from 'node:path';
import type { Attributes, FileEntry, SFTPWrapper } from 'ssh2';
import {
  attributesOf,
  clientPathOf,
  diskPath,
  longName,
  MAX_READ_BYTES,
  OPEN_FLAG,
  STATUS,
  statusOfError,
} from './sftp-protocol';
import { UploadSink } from './upload-sink';

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
export class SftpSession {
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

/**
 * The file system ftp-srv serves each session from: its own, on the simulator's root, with
 * every upload written through an UploadSink (scripted slowness and cuts) and every rename
 * reported, since a client may upload a GO under a temporary name and rename it last.
 */
import { Socket } from 'node:net';
import { WriteStream } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { FileSystem } from 'ftp-srv';
import type { FtpConnection } from 'ftp-srv';
import { UploadSink } from './upload-sink';

/** What the file system asks of the simulator. */
export interface FileSystemHooks {
  /** The byte count after which to cut this upload, if one was scripted; uses the script up. */
  takeDropAfter(): number | undefined;
  /** The current upload rate limit in bytes per second, if any. */
  throttle(): number | undefined;
  /** A new upload stream, so that `stop()` can close it. */
  track(sink: UploadSink): void;
  /** That upload is over. */
  untrack(sink: UploadSink): void;
  /** A file was renamed to `fsPath` (absolute path on disk). */
  renamed(fsPath: string): void;
  /** An upload to `fsPath` was cut or failed; what arrived of it stays on disk. */
  interrupted(fsPath: string): void;
}

/** ftp-srv internals the cut needs; read defensively, as the library does not type them. */
interface ConnectionInternals {
  connector?: { socket?: unknown };
}

function dataSocketOf(connection: FtpConnection): Socket | undefined {
  const socket = (connection as unknown as ConnectionInternals).connector?.socket;
  return socket instanceof Socket ? socket : undefined;
}

/**
 * The path on disk of a client path, resolved as ftp-srv resolves it: against the session's
 * current folder, normalised so that `..` never leaves the root.
 */
export function resolveClientPath(root: string, cwd: string, clientPath: string): string {
  const unix = clientPath.replace(/\\/g, '/');
  const joined = posix.isAbsolute(unix) ? posix.normalize(unix) : posix.join('/', cwd, unix);
  return resolve(join(root, joined));
}

/** ftp-srv's disk file system with scripted uploads and reported renames. */
export class SimulatorFileSystem extends FileSystem {
  constructor(
    connection: FtpConnection,
    root: string,
    private readonly hooks: FileSystemHooks,
  ) {
    super(connection, { root, cwd: '/' });
  }

  /** Opens the file of an upload (STOR, APPE, STOU) behind an UploadSink. */
  override write(
    fileName: string,
    options: { append?: boolean; start?: number } = {},
  ): { stream: UploadSink; clientPath: string } {
    const opened: unknown = super.write(fileName, options);
    const { stream, clientPath } = (opened ?? {}) as { stream?: unknown; clientPath?: unknown };
    if (!(stream instanceof WriteStream) || typeof clientPath !== 'string') {
      throw new Error('ftp-srv FileSystem.write no longer returns { stream, clientPath }');
    }
    // The data connection is up by now: ftp-srv opens the file only once the client connected.
    const socket = dataSocketOf(this.connection);
    const sink: UploadSink = new UploadSink(stream, {
      throttle: () => this.hooks.throttle(),
      dropAfter: this.hooks.takeDropAfter(),
      drop: () =>
        socket?.destroy(new Error('data connection cut by the simulator (dropAfterBytes)')),
      settled: (complete) => {
        this.hooks.untrack(sink);
        if (!complete) this.hooks.interrupted(sink.path);
      },
    });
    this.hooks.track(sink);
    return { stream: sink, clientPath };
  }

  /** Renames, then reports the new name (RNFR/RNTO). */
  override async rename(from: string, to: string): Promise<void> {
    await super.rename(from, to);
    this.hooks.renamed(resolveClientPath(this.root, this.currentDirectory(), to));
  }
}

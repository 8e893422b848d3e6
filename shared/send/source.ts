import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { SourceIdentity } from '../ledger';
import { OnssTransferError } from '../errors';
import { statRegularFile } from '../io/regular-file';

/** Read size of source streams: 1 MiB chunks keep FTP uploads at curl's speed (PERF-NOTES). */
export const SOURCE_CHUNK_BYTES = 1024 * 1024;

/**
 * Where a declaration's bytes come from: a local file now, an S3 object on
 * AWS. Parts are read as byte ranges, so a failed part can be read again
 * without reading the whole source twice.
 */
export interface DeclarationSource {
  identity: SourceIdentity;
  /** The bare name of the source (a file name or the last part of a key). */
  name: string;
  /** The absolute path of a local file: read apart from the upload, to check and hash it. */
  localPath?: string;
  size: number;
  /** A stream of bytes `start` (inclusive) to `end` (exclusive). */
  openRange(start: number, end: number): Readable;
  /** Throws {@link SourceChangedError} when the source is no longer what was sent. */
  assertUnchanged(): Promise<void>;
}

/** The source changed while it was being sent (size or modification time). */
export class SourceChangedError extends OnssTransferError {
  constructor(what: string) {
    super(`${what} changed while it was being sent: nothing is launched`, {
      code: 'SOURCE_CHANGED',
    });
  }
}

function fileVersion(size: number, mtimeMs: number): string {
  return `${size}-${Math.trunc(mtimeMs)}`;
}

/**
 * `stream`, failing with SourceChangedError when it ends before `bytes`: a file cut short while
 * it is read ends its stream early without an error, and the short upload would otherwise be
 * blamed on the server (found by the hostile corpus).
 */
function exactly(stream: Readable, bytes: number, what: string): Readable {
  let seen = 0;
  const counter = new Transform({
    highWaterMark: SOURCE_CHUNK_BYTES,
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(seen === bytes ? null : new SourceChangedError(what));
    },
  });
  return pipeline(stream, counter, () => undefined);
}

/**
 * A local file as a declaration source. Its identity is its absolute path
 * with size and modification time as the version: the same unchanged file is
 * the same source; an edited one is a new version.
 */
export async function openFileSource(path: string): Promise<DeclarationSource> {
  const absolute = resolve(path);
  const info = await statRegularFile(absolute);
  const version = fileVersion(info.size, info.mtimeMs);
  return {
    identity: { kind: 'file', id: absolute, version },
    name: basename(absolute),
    localPath: absolute,
    size: info.size,
    // createReadStream's `end` is inclusive; planned parts are never empty.
    openRange: (start, end) =>
      exactly(
        createReadStream(absolute, { start, end: end - 1, highWaterMark: SOURCE_CHUNK_BYTES }),
        end - start,
        path,
      ),
    assertUnchanged: async () => {
      const now = await stat(absolute);
      if (fileVersion(now.size, now.mtimeMs) !== version) throw new SourceChangedError(path);
    },
  };
}

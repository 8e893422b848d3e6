import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Readable } from 'node:stream';
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
    size: info.size,
    // createReadStream's `end` is inclusive; planned parts are never empty.
    openRange: (start, end) =>
      createReadStream(absolute, { start, end: end - 1, highWaterMark: SOURCE_CHUNK_BYTES }),
    assertUnchanged: async () => {
      const now = await stat(absolute);
      if (fileVersion(now.size, now.mtimeMs) !== version) throw new SourceChangedError(path);
    },
  };
}

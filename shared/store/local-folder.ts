import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { readFileChunks } from '../io/read-file-chunks';
import { StoreKeyError, StoreWriteError } from './errors';
import type { ObjectStore, StoredObject } from './port';

// Segments of printable ASCII without separators: what our layout and server names use.
const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Checks a key: relative, `/`-separated segments, no `.` or `..`, nothing odd. */
export function checkStoreKey(key: string): string {
  const segments = key.split('/');
  if (
    key.length === 0 ||
    key.length > 1024 ||
    segments.some((s) => !SAFE_SEGMENT.test(s) || s === '.' || s === '..')
  ) {
    throw new StoreKeyError(key);
  }
  return key;
}

async function sha256OfFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const size = await readFileChunks(path, (chunk) => hash.update(chunk));
  return { size, sha256: hash.digest('hex') };
}

/**
 * An object store in a local folder. `put` writes beside the target, fsyncs
 * the file, renames it into place and fsyncs the folder, then hashes the file
 * as it is on disk: what it returns is what was stored, not what was sent.
 */
export function localFolderStore(root: string): ObjectStore {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const path = join(base, ...checkStoreKey(key).split('/'));
    if (!path.startsWith(base + sep)) throw new StoreKeyError(key);
    return path;
  };
  return {
    async put(key: string, source: Readable): Promise<StoredObject> {
      const path = pathOf(key);
      const temporary = `${path}.${randomBytes(6).toString('hex')}.part`;
      try {
        await mkdir(dirname(path), { recursive: true });
        const handle = await open(temporary, 'wx', 0o640);
        try {
          for await (const chunk of source) await handle.write(chunk as Buffer);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temporary, path);
        const folder = await open(dirname(path), 'r');
        try {
          await folder.sync(); // the rename itself survives a crash
        } finally {
          await folder.close();
        }
      } catch (cause) {
        await rm(temporary, { force: true });
        throw new StoreWriteError(key, cause);
      }
      return { key, ...(await sha256OfFile(path)) };
    },
    async head(key: string): Promise<StoredObject | undefined> {
      const path = pathOf(key);
      try {
        await stat(path);
      } catch {
        return undefined;
      }
      return { key, ...(await sha256OfFile(path)) };
    },
    async open(key: string): Promise<Readable> {
      return createReadStream(pathOf(key), { highWaterMark: 1024 * 1024 });
    },
    locate: (key) => pathOf(key),
  };
}

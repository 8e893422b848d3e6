import { createHash } from 'node:crypto';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import type { ObjectStore, StoredObject } from '../store';
import type { Transport } from '../transport';
import { StoreMismatchError } from './errors';

/** A file copied from the server to the store, checked both ways. */
export interface CopiedFile {
  name: string;
  stored: StoredObject;
}

/**
 * Streams one remote file into the store and checks that what the store kept
 * is what was read (size and SHA-256 both ways); the listing's size must
 * agree too, or the file is not trusted to be complete. Nothing is held in
 * memory but the stream's own chunks.
 */
export async function copyToStore(
  transport: Transport,
  store: ObjectStore,
  remotePath: string,
  name: string,
  listedSize: number,
  key: string,
): Promise<CopiedFile> {
  const hash = createHash('sha256');
  let received = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      hash.update(chunk);
      received += chunk.length;
      done(null, chunk);
    },
  });
  // The store may attach its own listeners only once its write has begun (a temporary file
  // opened, a multipart upload started): until then a download that fails at once would make
  // `tap.destroy(error)` below an unhandled 'error' event, which ends the process. The failure
  // is reported by the download itself; `storing` settles on the destroyed stream.
  tap.on('error', () => undefined);
  const into = new PassThrough();
  into.pipe(tap);
  const storing = store.put(key, tap);
  try {
    await transport.get(remotePath, into);
  } catch (error) {
    tap.destroy(error as Error);
    await storing.catch(() => undefined);
    throw error;
  }
  const stored = await storing;
  const sha256 = hash.digest('hex');
  if (stored.size !== received || stored.sha256 !== sha256) {
    throw new StoreMismatchError(
      name,
      `the store kept ${stored.size} bytes, ${received} were read`,
    );
  }
  if (received !== listedSize) {
    throw new StoreMismatchError(name, `${received} bytes read, the server listed ${listedSize}`);
  }
  return { name, stored };
}

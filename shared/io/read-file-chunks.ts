import { close, open, read } from 'node:fs';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const closeAsync = promisify(close);

/** Chunk size for file reads: 1 MiB or more is what keeps hashing near OpenSSL's speed. */
export const FILE_CHUNK_BYTES = 4 * 1024 * 1024;

function readInto(fd: number, buffer: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, buffer.length, null, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    );
  });
}

/**
 * Reads a file from start to end in large chunks and hands each one to
 * `onChunk`, synchronously, in order. Two buffers alternate: while the
 * consumer works on one chunk (hashing it, say), the next is already being
 * read on the thread pool, so reading and hashing overlap on two cores.
 * Memory is two chunks, whatever the file size. The consumer must not keep
 * a chunk after it returns: its bytes are overwritten by a later read.
 * Returns the number of bytes read.
 */
export async function readFileChunks(
  path: string,
  onChunk: (chunk: Buffer) => void,
  chunkBytes: number = FILE_CHUNK_BYTES,
): Promise<number> {
  const fd = await openAsync(path, 'r');
  try {
    let chunk = Buffer.allocUnsafe(chunkBytes);
    let spare = Buffer.allocUnsafe(chunkBytes);
    let total = 0;
    let pending = readInto(fd, chunk);
    for (;;) {
      const bytesRead = await pending;
      if (bytesRead === 0) return total;
      pending = readInto(fd, spare); // the next read runs while this chunk is consumed
      total += bytesRead;
      try {
        onChunk(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
      } catch (error) {
        await pending.catch(() => 0); // let the read in flight finish before closing
        throw error;
      }
      [chunk, spare] = [spare, chunk];
    }
  } finally {
    await closeAsync(fd);
  }
}

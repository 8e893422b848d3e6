import { createHash, randomBytes } from 'node:crypto';
import { BackgroundHash } from '../../shared/io/background-hash';

/** Feeds data through one reused buffer, overwritten after each update, as a reader does. */
async function hashThroughReusedBuffer(data: Buffer, chunkSize: number): Promise<Buffer> {
  const hash = new BackgroundHash('sha256');
  const buffer = Buffer.alloc(chunkSize);
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    const n = data.copy(buffer, 0, offset, offset + chunkSize);
    await hash.update(buffer.subarray(0, n));
    buffer.fill(0xff); // the worker must have hashed a copy, not this buffer
  }
  return hash.digest();
}

describe('BackgroundHash', () => {
  it.each([
    { title: 'no bytes', size: 0, chunk: 16 },
    { title: 'one small chunk', size: 1000, chunk: 4096 },
    {
      title: 'many chunks, more than may be in flight',
      size: 40 * 1024 * 1024 + 17,
      chunk: 1024 * 1024,
    },
  ])('equals a plain SHA-256: $title', async ({ size, chunk }) => {
    const data = randomBytes(size);
    const digest = await hashThroughReusedBuffer(data, chunk);
    expect(digest.equals(createHash('sha256').update(data).digest())).toBe(true);
  });
});

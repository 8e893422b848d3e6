import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileChunks } from '../../shared/io/read-file-chunks';
import { scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir();
afterAll(cleanup);

describe('readFileChunks', () => {
  it.each([
    { title: 'empty file', size: 0, chunk: 16, chunks: 0 },
    { title: 'one partial chunk', size: 5, chunk: 16, chunks: 1 },
    { title: 'exact multiple', size: 64, chunk: 16, chunks: 4 },
    { title: 'remainder', size: 100_003, chunk: 4096, chunks: 25 },
  ])('gives back the file byte for byte: $title', async ({ size, chunk, chunks }) => {
    const content = randomBytes(size);
    const path = join(dir, `f-${size}`);
    writeFileSync(path, content);
    const seen: Buffer[] = [];
    // Copies: the reader reuses its buffers once a chunk is consumed.
    const total = await readFileChunks(path, (c) => seen.push(Buffer.from(c)), chunk);
    expect(total).toBe(size);
    expect(seen).toHaveLength(chunks);
    expect(Buffer.concat(seen).equals(content)).toBe(true);
  });

  it('stops and rethrows when the consumer throws', async () => {
    const path = join(dir, 'stop');
    writeFileSync(path, randomBytes(1000));
    let calls = 0;
    await expect(
      readFileChunks(
        path,
        () => {
          calls += 1;
          if (calls === 2) throw new Error('consumer refused');
        },
        100,
      ),
    ).rejects.toThrow('consumer refused');
    expect(calls).toBe(2);
  });

  it('reports a missing file', async () => {
    await expect(readFileChunks(join(dir, 'none'), () => undefined)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

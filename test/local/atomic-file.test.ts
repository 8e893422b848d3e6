import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../shared/local/atomic-file';
import { scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir();
afterAll(cleanup);

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an existing one, leaving no temporary file', async () => {
    const path = join(dir, 'out');
    await writeFileAtomic(path, 'first');
    writeFileSync(join(dir, 'other'), 'kept');
    await writeFileAtomic(path, Buffer.from('second'));
    expect(readFileSync(path, 'utf8')).toBe('second');
    expect(readdirSync(dir).sort()).toEqual(['other', 'out']);
  });

  it('fails with OUTPUT_WRITE naming the target and leaves nothing behind', async () => {
    const target = join(dir, 'missing', 'out');
    await expect(writeFileAtomic(target, 'x')).rejects.toMatchObject({
      code: 'OUTPUT_WRITE',
      message: expect.stringContaining(target),
    });
    // A folder as the target: the temporary file is written, the rename fails, it is removed.
    await expect(writeFileAtomic(dir, 'x')).rejects.toMatchObject({ code: 'OUTPUT_WRITE' });
    expect(readdirSync(join(dir, '..')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('with exclusive, writes a new file with the mode asked and never replaces one', async () => {
    const path = join(dir, 'secret.json');
    await writeFileAtomic(path, 'one', { mode: 0o600, exclusive: true });
    expect(statSync(path).mode & 0o777).toBe(0o600);

    await expect(writeFileAtomic(path, 'two', { exclusive: true })).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
    });
    expect(readFileSync(path, 'utf8')).toBe('one');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

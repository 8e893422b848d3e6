import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { localFolderStore } from '../../shared/store';
import { scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir('onss-store-');
afterAll(cleanup);
const store = localFolderStore(join(dir, 'store'));

describe('localFolderStore', () => {
  it('stores a stream and reports the size and SHA-256 of what is on disk', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const stored = await store.put(
      'responses/T/20261125/ACRF/FO.ACRF.999999.20261125.00001.T',
      Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
    );
    expect(stored).toEqual({
      key: 'responses/T/20261125/ACRF/FO.ACRF.999999.20261125.00001.T',
      size: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
    });
    expect(readFileSync(store.locate(stored.key)).equals(data)).toBe(true);
    expect(await store.head(stored.key)).toEqual(stored);
    expect(await store.head('responses/none')).toBeUndefined();
  });

  it('replaces an object and reads it back as a stream', async () => {
    await store.put('a/b', Readable.from([Buffer.from('first')]));
    await store.put('a/b', Readable.from([Buffer.from('second')]));
    expect(await text(await store.open('a/b'))).toBe('second');
    expect(readdirSync(join(dir, 'store', 'a'))).toEqual(['b']);
  });

  it.each([
    '../escape',
    '/etc/passwd',
    'a//b',
    'a/./b',
    'a/../../b',
    '',
    'a/b c',
    'a/\u0000',
    'a\\b',
  ])('refuses the key %j', async (key) => {
    await expect(store.put(key, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      code: 'STORE_KEY_INVALID',
    });
  });

  it('a stream that fails leaves nothing behind', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('network lost'));
      },
    });
    await expect(store.put('c/d', failing)).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
    expect(readdirSync(join(dir, 'store', 'c'))).toEqual([]);
  });
});

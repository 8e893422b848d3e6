/**
 * copyToStore against failures that come before the store has begun to write: the fault runs
 * found that a download failing at once ended the process with an unhandled 'error' event.
 */
import { Readable } from 'node:stream';
import { copyToStore } from '../../shared/pull/download';
import type { ObjectStore, StoredObject } from '../../shared/store';
import { TransportConnectError, type Transport } from '../../shared/transport';

/** A store that, like the local folder and S3, starts reading its source only after a hop. */
function lateStore(): ObjectStore & { settled: Array<'stored' | 'failed'> } {
  const settled: Array<'stored' | 'failed'> = [];
  return {
    settled,
    async put(key: string, source: Readable): Promise<StoredObject> {
      await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        let size = 0;
        for await (const chunk of source) size += (chunk as Buffer).length;
        settled.push('stored');
        return { key, size, sha256: '' };
      } catch (error) {
        settled.push('failed');
        throw error;
      }
    },
    head: async () => undefined,
    open: async () => Readable.from([]),
    locate: (key) => key,
  };
}

const failingAtOnce: Pick<Transport, 'get'> = {
  get: () => Promise.reject(new TransportConnectError('connection reset', {})),
};

describe('copyToStore', () => {
  it('reports a download that fails before the store began as that failure, nothing else', async () => {
    const unhandled: unknown[] = [];
    const onError = (error: unknown) => unhandled.push(error);
    process.on('uncaughtException', onError);
    try {
      const store = lateStore();
      await expect(
        copyToStore(failingAtOnce as Transport, store, 'OUTTEST/FO.X', 'FO.X', 10, 'k'),
      ).rejects.toBeInstanceOf(TransportConnectError);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(store.settled).toEqual(['failed']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('uncaughtException', onError);
    }
  });
});

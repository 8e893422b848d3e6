import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { openS3Source } from '../../../functions/aws/s3-source';
import { s3ObjectStore } from '../../../functions/aws/s3-store';
import { SourceReadError } from '../../../functions/aws/errors';
import { SourceChangedError } from '../../../shared/send';
import { StoreKeyError, StoreNotFoundError, StoreWriteError } from '../../../shared/store';
import { startLocalS3, type LocalS3 } from './helpers/local-s3';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3('b');
});
afterAll(async () => {
  await s3.close();
});

/** A stream of `total` pseudo-random bytes in 1 MiB chunks, made as read, hashed as made. */
function generated(total: number): { stream: Readable; made: () => number; digest: () => string } {
  const hash = createHash('sha256');
  let made = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    while (made < total) {
      const chunk = randomBytes(Math.min(MiB, total - made));
      made += chunk.length;
      hash.update(chunk);
      yield chunk;
    }
  }
  return {
    stream: Readable.from(chunks(), { objectMode: false }),
    made: () => made,
    digest: () => hash.digest('hex'),
  };
}

describe('s3ObjectStore on a local S3 (s3rver)', () => {
  it('stores a stream, reports what S3 holds, and reads it back', async () => {
    // Prepare
    const store = s3ObjectStore({ client: s3.client, bucket: s3.bucket, prefix: 'pulled/' });
    const data = randomBytes(300_000);
    const key = 'responses/T/20261125/ACRF/FO.ACRF.999999.20261125.00001.T';

    // Act
    const stored = await store.put(
      key,
      Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
    );

    // Assess
    expect(stored).toEqual({ key, size: data.length, sha256: sha256(data) });
    expect(await store.head(key)).toEqual(stored);
    expect((await buffer(await store.open(key))).equals(data)).toBe(true);
    expect(store.locate(key)).toBe(`s3://b/pulled/${key}`);
    const raw = await s3.client.send(new HeadObjectCommand({ Bucket: 'b', Key: `pulled/${key}` }));
    expect(raw.ContentLength).toBe(data.length);
  });

  it('streams a 30 MB put in parts and returns the SHA-256 of the stored object', async () => {
    // Prepare
    const store = s3ObjectStore({
      client: s3.client,
      bucket: s3.bucket,
      partSizeBytes: 5 * MiB,
      queueSize: 2,
    });
    const source = generated(30 * MiB + 123);
    let parts = 0;
    s3.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand') parts += 1;
        return next(args);
      },
      { step: 'initialize', name: 'partCounter' },
    );

    // Act
    let stored;
    try {
      stored = await store.put('big/object', source.stream);
    } finally {
      s3.client.middlewareStack.remove('partCounter');
    }

    // Assess
    expect(stored).toEqual({ key: 'big/object', size: 30 * MiB + 123, sha256: source.digest() });
    expect(parts).toBe(7); // 6 parts of 5 MiB and the rest
    expect(await store.head('big/object')).toEqual(stored);
  });

  it('reads the source only as far ahead as the parts in flight', async () => {
    // Prepare: note how much of the source was made each time a part goes out.
    const store = s3ObjectStore({
      client: s3.client,
      bucket: s3.bucket,
      partSizeBytes: 5 * MiB,
      queueSize: 1,
    });
    const source = generated(25 * MiB);
    const madeAtPart: number[] = [];
    s3.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand') madeAtPart.push(source.made());
        return next(args);
      },
      { step: 'initialize', name: 'partProbe' },
    );

    // Act
    let stored;
    try {
      stored = await store.put('bounded/object', source.stream);
    } finally {
      s3.client.middlewareStack.remove('partProbe');
    }

    // Assess: part n went out before much more than n parts of the source were made.
    expect(stored.size).toBe(25 * MiB);
    expect(madeAtPart).toHaveLength(5);
    madeAtPart.forEach((made, index) => expect(made).toBeLessThanOrEqual((index + 2) * 5 * MiB));
  });

  it('stores an empty stream', async () => {
    const store = s3ObjectStore({ client: s3.client, bucket: s3.bucket });
    const stored = await store.put('empty/object', Readable.from([], { objectMode: false }));
    expect(stored).toEqual({ key: 'empty/object', size: 0, sha256: sha256(Buffer.alloc(0)) });
  });

  it('replaces an existing object', async () => {
    const store = s3ObjectStore({ client: s3.client, bucket: s3.bucket });
    await store.put('a/b', Readable.from([Buffer.from('first')]));
    const second = await store.put('a/b', Readable.from([Buffer.from('second')]));
    expect(second.sha256).toBe(sha256(Buffer.from('second')));
    expect((await buffer(await store.open('a/b'))).toString()).toBe('second');
  });

  it('says undefined for a missing key on head, and StoreNotFoundError on open', async () => {
    const store = s3ObjectStore({ client: s3.client, bucket: s3.bucket });
    expect(await store.head('responses/none')).toBeUndefined();
    await expect(store.open('responses/none')).rejects.toBeInstanceOf(StoreNotFoundError);
  });

  it('refuses unsafe keys before any request', async () => {
    const store = s3ObjectStore({ client: s3.client, bucket: s3.bucket });
    await expect(store.put('../escape', Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(
      StoreKeyError,
    );
    await expect(store.head('a//b')).rejects.toBeInstanceOf(StoreKeyError);
    expect(() => store.locate('/etc/passwd')).toThrow(StoreKeyError);
    expect(() => s3ObjectStore({ client: s3.client, bucket: 'b', prefix: 'no-slash' })).toThrow(
      RangeError,
    );
    expect(() => s3ObjectStore({ client: s3.client, bucket: 'b', partSizeBytes: 1024 })).toThrow(
      /partSizeBytes/,
    );
  });

  it('leaves no object when the source fails half-way through a multipart put', async () => {
    // Prepare
    const store = s3ObjectStore({ client: s3.client, bucket: s3.bucket, partSizeBytes: 5 * MiB });
    async function* failing(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 12; i += 1) yield randomBytes(MiB);
      throw new Error('the FTP download broke');
    }

    // Act
    const putting = store.put('broken/object', Readable.from(failing(), { objectMode: false }));

    // Assess
    await expect(putting).rejects.toBeInstanceOf(StoreWriteError);
    expect(await store.head('broken/object')).toBeUndefined();
  });
});

describe('openS3Source on a local S3 (s3rver)', () => {
  const data = randomBytes(3 * MiB + 17);

  beforeEach(async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'b', Key: 'outbox/DMFA.xml', Body: data }));
  });

  it('has an object identity and reads byte ranges that concatenate to the object', async () => {
    // Act
    const source = await openS3Source({ client: s3.client, bucket: 'b', key: 'outbox/DMFA.xml' });
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: 'b', Key: 'outbox/DMFA.xml' }),
    );
    const parts = [
      [0, 10],
      [10, 2 * MiB],
      [2 * MiB, data.length],
    ] as const;
    const read = await Promise.all(
      parts.map(([start, end]) => buffer(source.openRange(start, end))),
    );

    // Assess
    expect(source.identity).toEqual({
      kind: 'object',
      id: 's3://b/outbox/DMFA.xml',
      version: head.ETag?.replace(/"/g, ''),
    });
    expect(source.name).toBe('DMFA.xml');
    expect(source.size).toBe(data.length);
    expect(Buffer.concat(read).equals(data)).toBe(true);
    await expect(source.assertUnchanged()).resolves.toBeUndefined();
  });

  it('passes chunks on in 1 MiB pieces', async () => {
    const source = await openS3Source({ client: s3.client, bucket: 'b', key: 'outbox/DMFA.xml' });
    const sizes: number[] = [];
    for await (const chunk of source.openRange(0, data.length))
      sizes.push((chunk as Buffer).length);
    expect(sizes.slice(0, -1).every((size) => size >= MiB)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(data.length);
  });

  it('refuses a replaced object in openRange and assertUnchanged', async () => {
    // Prepare
    const source = await openS3Source({ client: s3.client, bucket: 'b', key: 'outbox/DMFA.xml' });
    await s3.client.send(
      new PutObjectCommand({ Bucket: 'b', Key: 'outbox/DMFA.xml', Body: randomBytes(data.length) }),
    );

    // Act + Assess
    await expect(buffer(source.openRange(0, 100))).rejects.toBeInstanceOf(SourceChangedError);
    await expect(source.assertUnchanged()).rejects.toBeInstanceOf(SourceChangedError);
  });

  it('refuses a deleted object', async () => {
    const source = await openS3Source({ client: s3.client, bucket: 'b', key: 'outbox/DMFA.xml' });
    await s3.client.send(new DeleteObjectCommand({ Bucket: 'b', Key: 'outbox/DMFA.xml' }));
    await expect(source.assertUnchanged()).rejects.toBeInstanceOf(SourceChangedError);
    await expect(buffer(source.openRange(0, 100))).rejects.toBeInstanceOf(SourceChangedError);
  });

  it('says a missing object is missing', async () => {
    const opening = openS3Source({ client: s3.client, bucket: 'b', key: 'outbox/none.xml' });
    await expect(opening).rejects.toBeInstanceOf(SourceReadError);
    await expect(opening).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND', transient: false });
  });

  it('refuses a range outside the object', async () => {
    const source = await openS3Source({ client: s3.client, bucket: 'b', key: 'outbox/DMFA.xml' });
    expect(() => source.openRange(0, data.length + 1)).toThrow(RangeError);
    expect(() => source.openRange(5, 5)).toThrow(RangeError);
  });

  it('lets go of the connection when the reader stops early', async () => {
    const source = await openS3Source({ client: s3.client, bucket: 'b', key: 'outbox/DMFA.xml' });
    const stream = source.openRange(0, data.length);
    for await (const chunk of stream) {
      expect((chunk as Buffer).length).toBeGreaterThan(0);
      break; // destroys the stream
    }
    expect(stream.destroyed).toBe(true);
    // The client still works: the connection was released, not left hanging.
    const again = await s3.client.send(
      new GetObjectCommand({ Bucket: 'b', Key: 'outbox/DMFA.xml', Range: 'bytes=0-3' }),
    );
    expect((await buffer(again.Body as Readable)).length).toBe(4);
  });
});

import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describeAwsFailure, SourceReadError } from '../../../functions/aws/errors';
import { openS3Source } from '../../../functions/aws/s3-source';
import { s3ObjectStore } from '../../../functions/aws/s3-store';
import { SourceChangedError } from '../../../shared/send';
import {
  StoreNotFoundError,
  StoreReadError,
  StoreWriteError,
  type ObjectStore,
} from '../../../shared/store';

const s3 = mockClient(S3Client);
const client = new S3Client({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
});

function serviceError(name: string, status: number, fault: 'client' | 'server' = 'client') {
  return new S3ServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    message: `${name} happened`,
  });
}

const body = (...chunks: Buffer[]) =>
  Readable.from(chunks, { objectMode: false }) as unknown as GetObjectCommandOutput['Body'];

const noSuchKey = () =>
  new NoSuchKey({ message: 'no such key', $metadata: { httpStatusCode: 404 } });

beforeEach(() => s3.reset());

describe('describeAwsFailure', () => {
  it.each([
    { title: 'throttling', error: serviceError('SlowDown', 503, 'server'), transient: true },
    {
      title: 'a server fault',
      error: serviceError('InternalError', 500, 'server'),
      transient: true,
    },
    { title: 'access denied', error: serviceError('AccessDenied', 403), transient: false },
    { title: 'not found', error: noSuchKey(), transient: false },
    {
      title: 'a reset connection',
      error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      transient: true,
    },
    { title: 'a plain error', error: new Error('odd'), transient: false },
  ])('$title: transient $transient', ({ error, transient }) => {
    expect(describeAwsFailure(error).transient).toBe(transient);
  });

  it('names the failure and its status', () => {
    expect(describeAwsFailure(serviceError('AccessDenied', 403))).toEqual({
      name: 'AccessDenied',
      status: 403,
      transient: false,
    });
  });
});

describe('s3ObjectStore error mapping (mocked S3)', () => {
  const store: ObjectStore = s3ObjectStore({ client, bucket: 'b', prefix: 'p/' });

  it('maps a refused upload to StoreWriteError, transient or not', async () => {
    s3.on(PutObjectCommand)
      .rejectsOnce(serviceError('AccessDenied', 403))
      .rejectsOnce(serviceError('SlowDown', 503, 'server'));
    const denied = store.put('k', Readable.from([Buffer.from('data')]));
    await expect(denied).rejects.toBeInstanceOf(StoreWriteError);
    await expect(denied).rejects.toMatchObject({
      code: 'STORE_WRITE_FAILED',
      transient: false,
      message: 'cannot store k: AccessDenied (HTTP 403)',
    });
    await expect(store.put('k', Readable.from([Buffer.from('data')]))).rejects.toMatchObject({
      transient: true,
    });
  });

  it('reads back the version the upload made, and refuses bytes that differ from those sent', async () => {
    // Prepare: S3 "stores" something else than what was sent.
    s3.on(PutObjectCommand).resolves({ ETag: '"e1"', VersionId: 'v1' });
    s3.on(GetObjectCommand).resolves({ ETag: '"e1"', Body: body(Buffer.from('other')) });

    // Act
    const putting = store.put('k', Readable.from([Buffer.from('data')]));

    // Assess
    await expect(putting).rejects.toBeInstanceOf(StoreWriteError);
    await expect(putting).rejects.toMatchObject({ transient: true });
    await expect(putting).rejects.toThrow(/S3 holds 5 bytes .* 4 bytes .* were sent/);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: 'p/k',
      IfMatch: '"e1"',
      VersionId: 'v1',
    });
  });

  it('returns the read-back facts when they match', async () => {
    const data = Buffer.from('data');
    s3.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    s3.on(GetObjectCommand).resolves({ ETag: '"e1"', Body: body(data) });
    await expect(store.put('k', Readable.from([data]))).resolves.toEqual({
      key: 'k',
      size: 4,
      sha256: createHash('sha256').update(data).digest('hex'),
    });
  });

  it('refuses a read-back of an object replaced since the upload', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    s3.on(GetObjectCommand).resolves({ ETag: '"e2"', Body: body(Buffer.from('data')) });
    await expect(store.put('k', Readable.from([Buffer.from('data')]))).rejects.toThrow(
      /changed while it was read back/,
    );
  });

  it('head: undefined for NoSuchKey or a bare 404, an error for the rest', async () => {
    s3.on(GetObjectCommand)
      .rejectsOnce(noSuchKey())
      .rejectsOnce(new NotFound({ message: '', $metadata: { httpStatusCode: 404 } }))
      .rejectsOnce(serviceError('NoSuchBucket', 404))
      .rejectsOnce(serviceError('AccessDenied', 403));
    await expect(store.head('k')).resolves.toBeUndefined();
    await expect(store.head('k')).resolves.toBeUndefined();
    await expect(store.head('k')).rejects.toBeInstanceOf(StoreReadError);
    await expect(store.head('k')).rejects.toMatchObject({
      code: 'STORE_READ_FAILED',
      transient: false,
    });
  });

  it('open: StoreNotFoundError for a missing key, StoreReadError otherwise', async () => {
    s3.on(GetObjectCommand)
      .rejectsOnce(noSuchKey())
      .rejectsOnce(serviceError('InternalError', 500, 'server'));
    await expect(store.open('k')).rejects.toBeInstanceOf(StoreNotFoundError);
    await expect(store.open('k')).rejects.toMatchObject({
      code: 'STORE_READ_FAILED',
      transient: true,
    });
  });

  it('open: a body that breaks half-way fails with StoreReadError', async () => {
    const broken = new PassThrough();
    s3.on(GetObjectCommand).resolves({ Body: broken as unknown as GetObjectCommandOutput['Body'] });
    const stream = await store.open('k');
    broken.write(Buffer.from('half'));
    setImmediate(() => broken.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' })));
    await expect(buffer(stream)).rejects.toBeInstanceOf(StoreReadError);
  });
});

describe('openS3Source requests and error mapping (mocked S3)', () => {
  const head = { ETag: '"etag-1"', ContentLength: 100 };

  it('uses the version id as the version of a versioned object, and pins reads to it', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ ...head, VersionId: 'v7' });
    s3.on(GetObjectCommand).resolves({ ETag: '"etag-1"', Body: body(Buffer.alloc(10, 1)) });

    // Act
    const source = await openS3Source({ client, bucket: 'b', key: 'outbox/x' });
    const read = await buffer(source.openRange(20, 30));

    // Assess
    expect(source.identity).toEqual({ kind: 'object', id: 's3://b/outbox/x', version: 'v7' });
    expect(read.length).toBe(10);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: 'outbox/x',
      Range: 'bytes=20-29',
      IfMatch: '"etag-1"',
      VersionId: 'v7',
    });
  });

  it('uses the ETag when the bucket is not versioned', async () => {
    s3.on(HeadObjectCommand).resolves({ ...head, VersionId: 'null' });
    const source = await openS3Source({ client, bucket: 'b', key: 'x' });
    expect(source.identity.version).toBe('etag-1');
  });

  it('turns a failed If-Match (412) into SourceChangedError', async () => {
    s3.on(HeadObjectCommand).resolves(head);
    s3.on(GetObjectCommand).rejects(serviceError('PreconditionFailed', 412));
    const source = await openS3Source({ client, bucket: 'b', key: 'x' });
    await expect(buffer(source.openRange(0, 10))).rejects.toBeInstanceOf(SourceChangedError);
  });

  it('turns a server fault into a transient SourceReadError', async () => {
    s3.on(HeadObjectCommand).resolves(head);
    s3.on(GetObjectCommand).rejects(serviceError('InternalError', 500, 'server'));
    const source = await openS3Source({ client, bucket: 'b', key: 'x' });
    const reading = buffer(source.openRange(0, 10));
    await expect(reading).rejects.toBeInstanceOf(SourceReadError);
    await expect(reading).rejects.toMatchObject({ transient: true, code: 'SOURCE_READ_FAILED' });
  });

  it('refuses a range that comes back short', async () => {
    s3.on(HeadObjectCommand).resolves(head);
    s3.on(GetObjectCommand).resolves({ ETag: '"etag-1"', Body: body(Buffer.alloc(4)) });
    const source = await openS3Source({ client, bucket: 'b', key: 'x' });
    await expect(buffer(source.openRange(0, 10))).rejects.toThrow(/gave 4 bytes/);
  });

  it('assertUnchanged: a new ETag, version or size, or a 404, is a change; a 403 is not', async () => {
    s3.on(HeadObjectCommand)
      .resolvesOnce(head)
      .resolvesOnce({ ...head, ETag: '"etag-2"' })
      .resolvesOnce({ ...head, ContentLength: 101 })
      .resolvesOnce({ ...head, VersionId: 'v9' })
      .rejectsOnce(new NotFound({ message: '', $metadata: { httpStatusCode: 404 } }))
      .rejectsOnce(serviceError('AccessDenied', 403))
      .resolvesOnce(head);
    const source = await openS3Source({ client, bucket: 'b', key: 'x' });
    for (let i = 0; i < 4; i += 1) {
      await expect(source.assertUnchanged()).rejects.toBeInstanceOf(SourceChangedError);
    }
    await expect(source.assertUnchanged()).rejects.toBeInstanceOf(SourceReadError);
    await expect(source.assertUnchanged()).resolves.toBeUndefined();
  });

  it('asks for the given version when one is named', async () => {
    s3.on(HeadObjectCommand).resolves({ ...head, VersionId: 'v2' });
    await openS3Source({ client, bucket: 'b', key: 'x', versionId: 'v2' });
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'b',
      Key: 'x',
      VersionId: 'v2',
    });
  });

  it('destroys the body when the reader lets go', async () => {
    const endless = new PassThrough();
    s3.on(HeadObjectCommand).resolves(head);
    s3.on(GetObjectCommand).resolves({
      ETag: '"etag-1"',
      Body: endless as unknown as GetObjectCommandOutput['Body'],
    });
    const source = await openS3Source({ client, bucket: 'b', key: 'x' });
    const stream = source.openRange(0, 100);
    stream.resume();
    endless.write(Buffer.alloc(5));
    await new Promise((resolve) => setImmediate(resolve));
    stream.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(endless.destroyed).toBe(true);
  });
});

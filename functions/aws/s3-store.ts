import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  checkStoreKey,
  StoreNotFoundError,
  StoreReadError,
  StoreWriteError,
  type ObjectStore,
  type StoredObject,
} from '../../shared/store';
import { awsReason, describeAwsFailure, isNotFound } from './errors';
import { bodyChunks, bodyStream, relayChunks } from './s3-body';

/** S3's smallest part of a multipart upload (except the last). */
const MIN_PART_BYTES = 5 * 1024 * 1024;

/** Options of {@link s3ObjectStore}. */
export interface S3ObjectStoreOptions {
  /** The client, configured by the caller (region, credentials, endpoint). */
  client: S3Client;
  /** The bucket. */
  bucket: string;
  /** Prepended to every key: empty, or `/`-separated safe segments ending in `/`. Default ''. */
  prefix?: string;
  /** Size of each part of a multipart upload, in bytes; at least 5 MiB. Default 8 MiB. */
  partSizeBytes?: number;
  /** Parts uploaded at once; at most `partSizeBytes * queueSize` bytes are held. Default 2. */
  queueSize?: number;
}

/** What the store reads back from S3: the facts of one exact version of an object. */
interface ReadBack {
  size: number;
  sha256: string;
}

/** Where the read-back must point: the version or ETag that `put` just wrote. */
interface Pin {
  etag?: string;
  versionId?: string;
}

function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  if (!prefix.endsWith('/')) {
    throw new RangeError(`the S3 store prefix must end with "/" (got ${JSON.stringify(prefix)})`);
  }
  checkStoreKey(prefix.slice(0, -1));
  return prefix;
}

function checkPositiveInteger(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(`${name} must be a whole number of at least ${minimum}, got ${value}`);
  }
  return value;
}

/**
 * An object store in an S3 bucket (the AWS adapter of ObjectStore).
 *
 * `put` streams the source into a multipart upload (`@aws-sdk/lib-storage`: parts of
 * `partSizeBytes`, `queueSize` in flight, so at most their product is held in memory, never the
 * whole stream), hashing the bytes on their way out. Once S3 confirms the upload, it reads the
 * object back, pinned to the version (or ETag) the upload created, and hashes that stream: the
 * size and SHA-256 it returns are those of what S3 holds, not of what was sent. When the two
 * hashes differ it throws StoreWriteError (transient: a new put may succeed).
 *
 * Why a read-back and not S3's own checksums: with `ChecksumAlgorithm: 'SHA256'` S3 checks each
 * part, but for a multipart object it keeps a checksum of the parts' checksums, not the SHA-256
 * of the object, and the SHA-256 we computed cannot be put in the object's metadata because the
 * metadata is sent before the stream is read. The cost of the read-back: one GetObject per put,
 * and the object's bytes downloaded once more (no transfer charge inside a region; about as long
 * as the upload at worst). Responses are kilobytes to a few megabytes, so it is small.
 *
 * `head` reads the object and hashes it (one GetObject, the same snapshot for size and hash),
 * and resolves with undefined when the key does not exist. Without `s3:ListBucket` S3 answers
 * 403 rather than 404 for a missing key: that is a StoreReadError, not "absent".
 *
 * Keys pass {@link checkStoreKey}; `locate` gives `s3://bucket/prefix+key`. Failures are
 * StoreWriteError, StoreReadError or StoreNotFoundError, with the SDK's error as `cause`.
 */
export function s3ObjectStore(options: S3ObjectStoreOptions): ObjectStore {
  const { client, bucket } = options;
  const prefix = checkPrefix(options.prefix ?? '');
  const partSize = checkPositiveInteger(
    'partSizeBytes',
    options.partSizeBytes ?? 8 * 1024 * 1024,
    MIN_PART_BYTES,
  );
  const queueSize = checkPositiveInteger('queueSize', options.queueSize ?? 2, 1);
  const s3Key = (key: string) => `${prefix}${checkStoreKey(key)}`;

  /** Reads one object whole and hashes it; undefined when it does not exist. */
  async function readBack(key: string, pin: Pin): Promise<ReadBack | undefined> {
    const input: GetObjectCommandInput = { Bucket: bucket, Key: s3Key(key) };
    if (pin.versionId !== undefined) input.VersionId = pin.versionId;
    if (pin.etag !== undefined) input.IfMatch = pin.etag;
    let body: Readable;
    try {
      const output = await client.send(new GetObjectCommand(input));
      body = bodyStream(output.Body);
      if (pin.etag !== undefined && output.ETag !== undefined && output.ETag !== pin.etag) {
        // An S3 look-alike that ignores If-Match: the object was replaced since the upload.
        body.destroy();
        throw new StoreReadError(key, undefined, {
          reason: 'the object changed while it was read back',
          transient: true,
        });
      }
    } catch (error) {
      if (error instanceof StoreReadError) throw error;
      const failure = describeAwsFailure(error);
      if (isNotFound(failure) && failure.name !== 'NoSuchBucket') return undefined;
      throw new StoreReadError(key, error, {
        reason: awsReason(failure),
        transient: failure.transient,
      });
    }
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        size += bytes.length;
      }
    } catch (error) {
      const failure = describeAwsFailure(error);
      throw new StoreReadError(key, error, { reason: awsReason(failure), transient: true });
    }
    return { size, sha256: hash.digest('hex') };
  }

  return {
    async put(key: string, source: Readable): Promise<StoredObject> {
      const target = s3Key(key);
      const hash = createHash('sha256');
      let sent = 0;
      async function* hashed(): AsyncGenerator<Buffer> {
        for await (const chunk of source) {
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
          hash.update(bytes);
          sent += bytes.length;
          yield bytes;
        }
      }
      const body = Readable.from(hashed(), { objectMode: false });
      const upload = new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: target,
          Body: body,
          ContentType: 'application/octet-stream',
        },
        partSize,
        queueSize,
        // A failed upload is aborted, so no hidden parts are left to pay for.
        leavePartsOnError: false,
      });
      let pin: Pin;
      try {
        const output = await upload.done();
        pin = {
          ...(output.ETag === undefined ? {} : { etag: output.ETag }),
          ...(output.VersionId === undefined || output.VersionId === 'null'
            ? {}
            : { versionId: output.VersionId }),
        };
      } catch (error) {
        body.destroy();
        if (!source.destroyed) source.destroy();
        const failure = describeAwsFailure(error);
        throw new StoreWriteError(key, error, {
          reason: awsReason(failure),
          transient: failure.transient,
        });
      }
      const sentSha256 = hash.digest('hex');
      let stored: ReadBack | undefined;
      try {
        stored = await readBack(key, pin);
      } catch (error) {
        const reason = error instanceof StoreReadError ? error.message : 'the read-back failed';
        throw new StoreWriteError(key, error, {
          reason: `uploaded, but ${reason}`,
          transient: true,
        });
      }
      if (stored === undefined) {
        throw new StoreWriteError(key, undefined, {
          reason: 'the object is missing right after its upload',
          transient: true,
        });
      }
      if (stored.size !== sent || stored.sha256 !== sentSha256) {
        throw new StoreWriteError(key, undefined, {
          reason: `S3 holds ${stored.size} bytes (SHA-256 ${stored.sha256}), ${sent} bytes (SHA-256 ${sentSha256}) were sent`,
          transient: true,
        });
      }
      return { key, ...stored };
    },

    async head(key: string): Promise<StoredObject | undefined> {
      const stored = await readBack(key, {});
      return stored === undefined ? undefined : { key, ...stored };
    },

    async open(key: string): Promise<Readable> {
      let body: Readable;
      try {
        const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: s3Key(key) }));
        body = bodyStream(output.Body);
      } catch (error) {
        const failure = describeAwsFailure(error);
        if (isNotFound(failure) && failure.name !== 'NoSuchBucket') {
          throw new StoreNotFoundError(key, error);
        }
        throw new StoreReadError(key, error, {
          reason: awsReason(failure),
          transient: failure.transient,
        });
      }
      return relayChunks({
        chunks: (signal) => bodyChunks(body, signal),
        mapError: (error) => {
          const failure = describeAwsFailure(error);
          return new StoreReadError(key, error, { reason: awsReason(failure), transient: true });
        },
      });
    },

    locate: (key) => `s3://${bucket}/${s3Key(key)}`,
  };
}

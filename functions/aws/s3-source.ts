import {
  GetObjectCommand,
  HeadObjectCommand,
  type GetObjectCommandInput,
  type HeadObjectCommandInput,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { SOURCE_CHUNK_BYTES, SourceChangedError, type DeclarationSource } from '../../shared/send';
import { awsReason, describeAwsFailure, isNotFound, SourceReadError } from './errors';
import { bodyChunks, bodyStream, relayChunks } from './s3-body';

/** Which object {@link openS3Source} reads. */
export interface S3SourceOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /**
   * A version of a versioned bucket to read. Without it the current version is read, and a
   * newer one put while sending counts as a change.
   */
  versionId?: string;
}

/** S3 says `null` for the version of an object put while versioning was off. */
function realVersion(versionId: string | undefined): string | undefined {
  return versionId === undefined || versionId === 'null' ? undefined : versionId;
}

/**
 * An S3 object as a declaration source, read in place: nothing is copied to a temporary file
 * and nothing is held but the stream's chunks.
 *
 * Identity: kind `object`, id `s3://bucket/key`, version the S3 version id when the bucket is
 * versioned, else the ETag (without its quotes). `openRange(start, end)` is a ranged GetObject
 * (`Range: bytes=start-(end-1)`) with `If-Match` on the ETag read at opening, and the version id
 * when there is one, so a replaced object is refused (SourceChangedError) rather than read half
 * old, half new; the ETag of each answer is compared too, for S3 look-alikes that ignore
 * If-Match. Chunks are passed on in 1 MiB pieces (SOURCE_CHUNK_BYTES, see PERF-NOTES).
 * `assertUnchanged` asks HeadObject again and compares ETag, version and size.
 *
 * Needs `s3:GetObject` (and `s3:GetObjectVersion` for `versionId`); without `s3:ListBucket` a
 * missing object is reported as access denied (403), not as missing.
 */
export async function openS3Source(options: S3SourceOptions): Promise<DeclarationSource> {
  const { client, bucket, key } = options;
  const id = `s3://${bucket}/${key}`;
  const head = async (): Promise<HeadObjectCommandOutput | undefined> => {
    const input: HeadObjectCommandInput = { Bucket: bucket, Key: key };
    if (options.versionId !== undefined) input.VersionId = options.versionId;
    try {
      return await client.send(new HeadObjectCommand(input));
    } catch (error) {
      const failure = describeAwsFailure(error);
      if (isNotFound(failure) && failure.name !== 'NoSuchBucket') return undefined;
      throw new SourceReadError(id, awsReason(failure), {
        transient: failure.transient,
        cause: error,
      });
    }
  };

  const first = await head();
  if (first === undefined) {
    throw new SourceReadError(id, 'no such object', { code: 'SOURCE_NOT_FOUND', transient: false });
  }
  const etag = first.ETag;
  const size = first.ContentLength;
  if (etag === undefined || size === undefined) {
    throw new SourceReadError(id, 'S3 gave no ETag or size for the object', { transient: false });
  }
  const versionId = realVersion(options.versionId ?? first.VersionId);
  const unquoted = etag.replace(/"/g, '');

  const openRange = (start: number, end: number): Readable => {
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      start < 0 ||
      end <= start ||
      end > size
    ) {
      throw new RangeError(`range ${start}-${end} is outside ${id} (${size} bytes)`);
    }
    const input: GetObjectCommandInput = {
      Bucket: bucket,
      Key: key,
      Range: `bytes=${start}-${end - 1}`,
      IfMatch: etag,
    };
    if (versionId !== undefined) input.VersionId = versionId;
    const mapError = (error: unknown): Error => {
      if (error instanceof SourceChangedError || error instanceof SourceReadError) return error;
      const failure = describeAwsFailure(error);
      // 412: If-Match failed; 404: deleted; 416: shrunk below the range. Each means "changed".
      if (
        failure.status === 412 ||
        failure.status === 416 ||
        failure.name === 'PreconditionFailed' ||
        failure.name === 'InvalidRange' ||
        failure.name === 'NoSuchVersion' ||
        (isNotFound(failure) && failure.name !== 'NoSuchBucket')
      ) {
        return new SourceChangedError(id);
      }
      return new SourceReadError(id, awsReason(failure), {
        transient: failure.transient,
        cause: error,
      });
    };
    async function* chunks(signal: AbortSignal): AsyncGenerator<Buffer> {
      const output = await client.send(new GetObjectCommand(input), { abortSignal: signal });
      const body = bodyStream(output.Body);
      if (output.ETag !== undefined && output.ETag !== etag) {
        body.destroy();
        throw new SourceChangedError(id);
      }
      let read = 0;
      for await (const chunk of bodyChunks(body, signal)) {
        read += chunk.length;
        yield chunk;
      }
      if (read !== end - start) {
        throw new SourceReadError(id, `range ${start}-${end} gave ${read} bytes`, {
          transient: true,
        });
      }
    }
    return relayChunks({ chunks, mapError, coalesceBytes: SOURCE_CHUNK_BYTES });
  };

  return {
    identity: { kind: 'object', id, version: versionId ?? unquoted },
    name: key.slice(key.lastIndexOf('/') + 1),
    size,
    openRange,
    assertUnchanged: async () => {
      const now = await head();
      if (
        now === undefined ||
        now.ETag !== etag ||
        now.ContentLength !== size ||
        realVersion(now.VersionId) !== versionId
      ) {
        throw new SourceChangedError(id);
      }
    },
  };
}

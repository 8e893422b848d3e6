/**
 * A local S3 for behaviour tests: s3rver (files in a scratch folder) on a random loopback port,
 * with one bucket, and an S3Client pointed at it.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { Server } from 'node:http';
import { scratchDir } from '../../../helpers/pki';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  httpServer?: Server;
}

type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

/** A running local S3. */
export interface LocalS3 {
  /** A client for it (path-style, dummy credentials). */
  client: S3Client;
  /** The bucket created at start. */
  bucket: string;
  /** Stops the server and removes its files. */
  close(): Promise<void>;
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((_error, count) => resolve(count)));
}

/** Starts s3rver on 127.0.0.1 with bucket `bucket` (default `b`). */
export async function startLocalS3(bucket = 'b'): Promise<LocalS3> {
  // s3rver ships no types; its constructor is all we use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverClass;
  const { dir, cleanup } = scratchDir('onss-s3rver-');
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver predates flexible checksums: send them only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    client,
    bucket,
    async close() {
      client.destroy();
      // Let the server finish (and log) the requests the client dropped before closing it:
      // s3rver's logger is closed with the server and complains about late lines.
      const http = server.httpServer;
      for (let i = 0; i < 100 && http !== undefined && (await connections(http)) > 0; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      http?.closeAllConnections();
      await server.close();
      cleanup();
    },
  };
}

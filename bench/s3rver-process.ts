/**
 * s3rver in a process of its own for `npm run bench:send`: the bench times
 * its commands with spawnSync, which would stall a server in its own event
 * loop. Prints the port on stdout, serves until killed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  const [bucket] = process.argv.slice(2);
  if (!bucket) throw new Error('usage: s3rver-process BUCKET');
  const directory = mkdtempSync(join(tmpdir(), 'onss-bench-s3rver-'));
  // s3rver ships no types; its constructor is all we use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  process.stdout.write(`${port}\n`);
  process.once('SIGTERM', () => {
    void server.close().finally(() => {
      rmSync(directory, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

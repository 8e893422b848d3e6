/**
 * Child process of `npm run bench:send`, S3 row: sends one declaration from
 * an S3 object (s3rver on loopback) to FTP through the send function's own
 * data path: `openS3Source` (ranged GETs) and `sendDeclaration`, FS signing
 * on, a fresh in-memory ledger. Prints a JSON line with the set's SHA-256.
 */
import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { openS3Source } from '../functions/aws/s3-source';
import { createMemoryLedger } from '../shared/ledger';
import { sendDeclaration } from '../shared/send/send-declaration';
import { loadPemMaterial } from '../shared/signing';
import { ftpConnector } from '../shared/transport';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const [keyPath, certPath] = process.argv.slice(2);
  if (!keyPath || !certPath) throw new Error('usage: s3-send-child KEY CERT');
  const client = new S3Client({
    endpoint: requireEnv('BENCH_S3_ENDPOINT'),
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const source = await openS3Source({
    client,
    bucket: requireEnv('BENCH_S3_BUCKET'),
    key: requireEnv('BENCH_S3_KEY'),
  });
  const result = await sendDeclaration(
    {
      source,
      declaration: { app: 'DMFA', sender: '123456', env: 'T' },
      plan: { signFor: { T: true } },
    },
    {
      ledger: createMemoryLedger(),
      connector: ftpConnector({
        host: '127.0.0.1',
        port: Number(requireEnv('BENCH_FTP_PORT')),
        user: requireEnv('BENCH_FTP_USER'),
        password: requireEnv('BENCH_FTP_PASSWORD'),
      }),
      material: loadPemMaterial({ keyPem: readFileSync(keyPath), certPem: readFileSync(certPath) }),
    },
  );
  client.destroy();
  process.stdout.write(`${JSON.stringify({ sha256: result.sha256, parts: result.plan.nparts })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

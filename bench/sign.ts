/**
 * `npm run bench:sign`: signs a generated file (1 GiB by default, or
 * BENCH_SIZE_MB megabytes) and prints, in one run, our throughput and peak
 * RSS beside `openssl dgst -sha256` and `openssl cms -sign -binary` on the
 * same file. Goal: at least 0.85 x the throughput of `openssl dgst -sha256`,
 * RSS under 150 MB. Each tool runs BENCH_RUNS times (default 3); the median
 * wall time counts. Not a test: figures vary by machine and load.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSigned } from '../shared/signing';
import { median, opensslAccepts, timed, warmCache, writeRepeated, type Run } from './measure';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE_MB ?? 1024) * MIB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function row(label: string, m: Run): string {
  const rate = SIZE / MIB / m.seconds;
  const rss = m.rssMiB === undefined ? 'n/a' : `${m.rssMiB.toFixed(0)} MiB`;
  return `${label.padEnd(34)} ${m.seconds.toFixed(2).padStart(7)} s ${rate.toFixed(0).padStart(7)} MiB/s ${rss.padStart(10)}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'onss-bench-'));
  try {
    const file = join(dir, 'FI.bench');
    writeRepeated(file, randomBytes(4 * MIB), SIZE);
    const material = await createSelfSigned({ commonName: 'bench signer' });
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    writeFileSync(key, material.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(cert, material.certificate.toString());
    warmCache(file);

    const dgst = median(RUNS, () => timed('openssl', ['dgst', '-sha256', file]));
    const cms = median(RUNS, () =>
      timed('openssl', [
        'cms',
        '-sign',
        '-binary',
        '-md',
        'sha256',
        '-in',
        file,
        '-signer',
        cert,
        '-inkey',
        key,
        '-outform',
        'DER',
        '-out',
        join(dir, 'openssl.der'),
      ]),
    );
    const fs = join(dir, 'FS.bench');
    const child = join(__dirname, 'sign-child.js');
    const ours = median(RUNS, () => timed(process.execPath, [child, file, key, cert, fs]));
    const verified = opensslAccepts(file, fs);

    const lines = [
      `bench:sign: ${(SIZE / MIB).toFixed(0)} MiB file, median of ${RUNS} runs, warm cache`,
      `${'tool'.padEnd(34)} ${'time'.padStart(9)} ${'throughput'.padStart(13)} ${'peak RSS'.padStart(10)}`,
      row('openssl dgst -sha256', dgst),
      row('openssl cms -sign -binary', cms),
      row('onss-transfer signFile (sha256)', ours),
      `throughput ratio ours / openssl dgst: ${(dgst.seconds / ours.seconds).toFixed(2)} (goal >= 0.85)`,
      `peak RSS ours: ${ours.rssMiB === undefined ? 'n/a' : `${ours.rssMiB.toFixed(0)} MiB`} (goal < 150 MiB)`,
      `our signature verified by openssl cms -verify -binary: ${verified ? 'yes' : 'NO'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (!verified) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:sign: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

/**
 * `npm run bench:sign`: signs a generated file (1 GiB by default, or
 * BENCH_SIZE_MB megabytes) and prints, in one run, our throughput and peak
 * RSS beside `openssl dgst -sha256` and `openssl cms -sign -binary` on the
 * same file. Goal: at least 0.85 x the throughput of `openssl dgst -sha256`,
 * RSS under 150 MB. Each tool runs BENCH_RUNS times (default 3); the median
 * wall time counts. Not a test: figures vary by machine and load.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSigned } from '../shared/signing';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE_MB ?? 1024) * MIB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TIME = '/usr/bin/time';

interface Measure {
  seconds: number;
  rssMiB: number | undefined;
}

function generate(path: string, size: number): void {
  const block = randomBytes(4 * MIB);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; written += block.length) {
      writeSync(fd, block, 0, Math.min(block.length, size - written));
    }
  } finally {
    closeSync(fd);
  }
}

/** Runs a command once, under GNU time when present for its peak RSS. */
function runOnce(command: string, args: string[]): Measure & { stdout: string } {
  const timed = existsSync(TIME);
  const started = process.hrtime.bigint();
  const result = timed
    ? spawnSync(TIME, ['-f', '__rss %M', command, ...args], { encoding: 'utf8' })
    : spawnSync(command, args, { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const rss = /__rss (\d+)/.exec(result.stderr ?? '');
  return { seconds, rssMiB: rss ? Number(rss[1]) / 1024 : undefined, stdout: result.stdout };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function measure(command: string, args: string[]): Measure {
  const runs = Array.from({ length: RUNS }, () => runOnce(command, args));
  const rss = runs.map((r) => r.rssMiB).filter((v): v is number => v !== undefined);
  return {
    seconds: median(runs.map((r) => r.seconds)),
    rssMiB: rss.length ? Math.max(...rss) : undefined,
  };
}

function row(label: string, m: Measure): string {
  const rate = SIZE / MIB / m.seconds;
  const rss = m.rssMiB === undefined ? 'n/a' : `${m.rssMiB.toFixed(0)} MiB`;
  return `${label.padEnd(34)} ${m.seconds.toFixed(2).padStart(7)} s ${rate.toFixed(0).padStart(7)} MiB/s ${rss.padStart(10)}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'onss-bench-'));
  try {
    const file = join(dir, 'FI.bench');
    generate(file, SIZE);
    const material = await createSelfSigned({ commonName: 'bench signer' });
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    writeFileSync(key, material.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(cert, material.certificate.toString());
    runOnce('sh', ['-c', 'cat "$1" > /dev/null', 'sh', file]); // warm the page cache

    const dgst = measure('openssl', ['dgst', '-sha256', file]);
    const cms = measure('openssl', [
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
    ]);
    const child = join(__dirname, 'sign-child.js');
    const ours = measure(process.execPath, [child, file, key, cert, join(dir, 'FS.bench')]);
    const check = spawnSync(
      'sh',
      [
        '-c',
        `base64 -d < "${join(dir, 'FS.bench')}" > "${dir}/ours.der" && openssl cms -verify -binary -inform DER -in "${dir}/ours.der" -content "${file}" -noverify -out /dev/null`,
      ],
      { encoding: 'utf8' },
    );

    const ratio = dgst.seconds / ours.seconds;
    const lines = [
      `bench:sign: ${(SIZE / MIB).toFixed(0)} MiB file, median of ${RUNS} runs, warm cache`,
      `${'tool'.padEnd(34)} ${'time'.padStart(9)} ${'throughput'.padStart(13)} ${'peak RSS'.padStart(10)}`,
      row('openssl dgst -sha256', dgst),
      row('openssl cms -sign -binary', cms),
      row('onss-transfer signFile (sha256)', ours),
      `throughput ratio ours / openssl dgst: ${ratio.toFixed(2)} (goal >= 0.85)`,
      `peak RSS ours: ${ours.rssMiB === undefined ? 'n/a' : `${ours.rssMiB.toFixed(0)} MiB`} (goal < 150 MiB)`,
      `our signature verified by openssl cms -verify -binary: ${check.status === 0 ? 'yes' : 'NO'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (check.status !== 0) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:sign: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

import { spawn } from 'node:child_process';
import { createWriteStream, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PullReport } from '../../shared/pull';
import { createSelfSigned, signFile } from '../../shared/signing';
import { startSimulator, type Simulator } from '../../transfer-point';
import { scratchDir } from '../helpers/pki';
import { anomalyReport, largeNotification } from '../responses/generate';

// A response of several hundred MB goes through the whole pull (FTP download, store with
// fsync and read-back hash, FS check, streamed NOTIFICATION parse, delete) with flat memory.
//
// Memory is measured in a child process of its own, so that neither jest nor the FTP server
// (the simulator stays here, in the parent) is counted. The child runs the TypeScript sources
// through a tiny @swc/core require hook (test/helpers/swc-register.js): dist/ may be stale, and
// a worker thread would share this process's RSS. Two bounds, neither timed:
// --max-old-space-size=64 fails the child if the JS heap ever had to hold the file (a string
// of it, or 300 MB of retained objects), and the kernel's peak RSS (resourceUsage().maxRSS),
// which also counts Buffers outside the heap (a Buffer.concat of the file), must stay far
// below the file's size.

const MB = 1_000_000;
const TARGET_BYTES = 300 * MB;
// Measured growth: +61 to +85 MB alone; while CI's other test files loaded both cores, +131 to
// +241 MB with glibc's default arenas (heap and array buffers stay at ~35 MB each: the rest was
// the allocator's slack, one arena per busy thread), +60 to +120 MB with two (the child's
// MALLOC_ARENA_MAX below). Buffering the file grows it by +626 MB. The bound sits between.
const RSS_GROWTH_BOUND = 220 * MB;
const HEAP_BOUND = 64;

const { dir, cleanup } = scratchDir('onss-pull-large-');
let simulator: Simulator | undefined;

afterAll(async () => {
  await simulator?.stop();
  cleanup();
});

interface ChildOutput {
  report: PullReport;
  events: string[];
  memory: {
    maxRss: number;
    startRss: number;
    startHeapUsed: number;
    peakHeapUsed: number;
    peakArrayBuffers: number;
    sampledPeakRss: number;
  };
}

function runChild(config: object): Promise<ChildOutput> {
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_BOUND}`,
      '--require',
      join(__dirname, '..', 'helpers', 'swc-register.js'),
      join(__dirname, 'large-pull.child.ts'),
      JSON.stringify(config),
    ],
    // Two malloc arenas: glibc otherwise gives each thread that allocates (libuv's pool hashing,
    // writing, reading back) an arena of its own, whose freed pages stay in the RSS, and how
    // many depends on the machine's load, not on what the pull holds.
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MALLOC_ARENA_MAX: '2' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`the pull child ended with ${code ?? signal}: ${stderr.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(stdout) as ChildOutput);
    });
  });
}

describe('a very large response', () => {
  it('pulls a 300 MB NOTIFICATION (1 M anomalies) with flat memory', async () => {
    // Prepare: a signed 300 MB notification set in the server's OUTTEST, written as a stream.
    simulator = await startSimulator();
    const id = 'NOTI.999999.20261125.00001.T';
    const fo = simulator.pathOf('OUTTEST', `FO.${id}`);
    const count = Math.ceil(TARGET_BYTES / Buffer.byteLength(anomalyReport(0)));
    await pipeline(Readable.from(largeNotification(count)), createWriteStream(fo));
    const size = statSync(fo).size;
    expect(size).toBeGreaterThanOrEqual(TARGET_BYTES);
    const material = await createSelfSigned({ commonName: 'large answer' });
    const signature = await signFile(fo, material, { sizeLimit: false });
    writeFileSync(simulator.pathOf('OUTTEST', `FS.${id}`), signature.fs);
    writeFileSync(simulator.pathOf('OUTTEST', `GO.${id}`), '');
    const store = join(dir, 'store');

    // Act
    const { report, events, memory } = await runChild({
      host: simulator.host,
      port: simulator.port,
      user: simulator.user,
      password: simulator.password,
      store,
    });

    // Assess: stored whole, verified, read to the end, deleted from the server.
    expect(report.failed).toEqual([]);
    expect(report.sets).toEqual([
      {
        id,
        folder: 'OUTTEST',
        stored: true,
        deleted: true,
        interpretation: { kind: 'notification', signature: 'valid', changes: [], orphans: 1 },
      },
    ]);
    expect(events).toEqual(['response.orphan']); // no declaration of ours in the child's ledger
    expect(simulator.files('OUTTEST')).toEqual([]);
    const kept = join(store, 'responses', 'T', '20261125', 'NOTI', `FO.${id}`);
    expect(statSync(kept).size).toBe(size);
    rmSync(store, { recursive: true, force: true }); // the disk is given back at once

    // ...and memory stayed far below the file's size.
    const growth = memory.maxRss - memory.startRss;
    process.stdout.write(
      `large pull: ${(size / MB).toFixed(0)} MB; RSS ${(memory.startRss / MB).toFixed(0)} -> peak ` +
        `${(memory.maxRss / MB).toFixed(0)} MB (+${(growth / MB).toFixed(0)}); heap peak ` +
        `${(memory.peakHeapUsed / MB).toFixed(0)} MB; array buffers peak ` +
        `${(memory.peakArrayBuffers / MB).toFixed(0)} MB\n`,
    );
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND);
    expect(memory.peakArrayBuffers).toBeLessThan(50 * MB);
  }, 180_000);
});

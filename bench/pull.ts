/**
 * `npm run bench:pull`: 1,000 small response sets (FO, FS, GO) in a local
 * vsftpd's OUTTEST folder, pulled by our pull (store, verify, record, read,
 * delete) and, from an identical folder, by a plain curl loop doing the same
 * downloads and deletes (one curl per file, `-Q "-DELE ..."`). Prints both
 * times. Goal: no slower than the curl loop. BENCH_SETS changes the count.
 * Needs root and Debian's vsftpd. Not a test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteLedger } from '../shared/ledger';
import { memoryNotifier } from '../shared/notify';
import { pullResponses } from '../shared/pull';
import { buildAcrfXml } from '../transfer-point';
import { createSelfSigned, signFile } from '../shared/signing';
import { localFolderStore } from '../shared/store';
import { ftpConnector } from '../shared/transport';
import { startVsftpd, type Vsftpd } from '../test/interop/vsftpd';

const SETS = Number(process.env.BENCH_SETS ?? 1000);

async function fill(server: Vsftpd): Promise<string[]> {
  const material = await createSelfSigned({ commonName: 'bench transfer point' });
  const names: string[] = [];
  for (let i = 0; i < SETS; i += 1) {
    const seq = String(10000 + i).padStart(5, '0');
    const id = `ACRF.999999.20261125.${seq}.T`;
    const fo = join(server.root, 'OUTTEST', `FO.${id}`);
    writeFileSync(
      fo,
      buildAcrfXml({
        fileName: `GO.DMFA.123456.20261125.${seq}.T.1`,
        ticket: `B${seq}`,
        codes: [],
        createdAt: new Date(),
      }),
    );
    writeFileSync(join(server.root, 'OUTTEST', `FS.${id}`), (await signFile(fo, material)).fs);
    writeFileSync(join(server.root, 'OUTTEST', `GO.${id}`), '');
    names.push(`FO.${id}`, `FS.${id}`, `GO.${id}`);
  }
  return names;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'onss-bench-pull-'));
  const server = await startVsftpd();
  try {
    // curl first: one process per file, download then delete.
    const names = await fill(server);
    writeFileSync(
      join(scratch, 'netrc'),
      `machine 127.0.0.1 login ${server.user} password ${server.password}\n`,
      { mode: 0o600 },
    );
    const curlStarted = process.hrtime.bigint();
    for (const name of names) {
      const result = spawnSync('curl', [
        '-sS',
        '--netrc-file',
        join(scratch, 'netrc'),
        '-o',
        join(scratch, 'curl-out'),
        '-Q',
        `-DELE ${name}`,
        `ftp://127.0.0.1:${server.port}/OUTTEST/${name}`,
      ]);
      if (result.status !== 0) throw new Error(`curl failed: ${result.stderr.toString()}`);
    }
    const curlSeconds = Number(process.hrtime.bigint() - curlStarted) / 1e9;
    if (readdirSync(join(server.root, 'OUTTEST')).length !== 0) throw new Error('curl left files');

    await fill(server);
    const ledger = openSqliteLedger(join(scratch, 'ledger.sqlite'));
    const started = process.hrtime.bigint();
    const report = await pullResponses(
      { environments: ['T'] },
      {
        ledger,
        connector: ftpConnector({
          host: server.host,
          port: server.port,
          user: server.user,
          password: server.password,
        }),
        store: localFolderStore(join(scratch, 'store')),
        notifier: memoryNotifier(),
      },
    );
    const oursSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    await ledger.close();
    if (report.sets.length !== SETS || report.failed.length)
      throw new Error(`pull took ${report.sets.length} sets, ${report.failed.length} failed`);
    process.stdout.write(
      [
        `bench:pull: ${SETS} response sets (${SETS * 3} files) in OUTTEST of vsftpd on 127.0.0.1`,
        `  curl loop (download + DELE, one curl per file)  ${curlSeconds.toFixed(1)} s`,
        `  onss-transfer pull (store, fsync, verify FS, record, read ACRF, delete)  ${oursSeconds.toFixed(1)} s`,
        `  ratio ours / curl: ${(oursSeconds / curlSeconds).toFixed(2)} (goal <= 1)`,
      ].join('\n') + '\n',
    );
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:pull: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

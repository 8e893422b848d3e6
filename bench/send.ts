/**
 * `npm run bench:send`: a generated declaration (1 GiB by default, or
 * BENCH_SIZE_MB megabytes) sent to a local vsftpd by our CLI (FS signing on,
 * so every part is hashed, signed and uploaded in one pass) and by
 * `curl -T` for the same bytes; prints both wall times, their ratio and our
 * peak RSS. Two declarations: records that are not XML (the transfer's own
 * cost) and a DmfA XML file (with the in-pass XML well-formedness and form
 * checks). Goal: ours at most 1.3 x curl's time, RSS under 150 MB.
 * Needs root and Debian's vsftpd (`.ci/install-interop.sh`). Not a test.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleDmfaXml } from '../shared/demo/sample-dmfa';
import { todayInBrussels } from '../shared/names';
import { createSelfSigned } from '../shared/signing';
import { startVsftpd, type Vsftpd } from '../test/interop/vsftpd';
import { median, timed, warmCache, writeRepeated, type Run } from './measure';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE_MB ?? 1024) * MIB;
const CLI = join(__dirname, '..', 'cli', 'main.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** Fixed-width records, as some older declaration formats are: not XML, so no XML check. */
function writeRecords(path: string): void {
  const block = Buffer.from(
    randomBytes(3 * MIB)
      .toString('base64')
      .slice(0, 4 * MIB),
  );
  writeRepeated(path, block, SIZE);
}

/** A DmfA XML declaration of the wanted size: many workers in one employer declaration. */
function writeXml(path: string): void {
  const date = todayInBrussels();
  const whole = sampleDmfaXml({ quarter: '20263', date, workers: 1 });
  const open = whole.indexOf('<NaturalPerson>');
  const close = whole.lastIndexOf('</NaturalPerson>') + '</NaturalPerson>\n'.length;
  const head = Buffer.from(whole.slice(0, open));
  const person = Buffer.from(whole.slice(open, close));
  const tail = Buffer.from(whole.slice(close));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    const people = Buffer.concat(
      Array.from({ length: Math.floor((4 * MIB) / person.length) }, () => person),
    );
    let written = head.length;
    while (written + people.length + tail.length <= SIZE) written += writeSync(fd, people);
    while (written + person.length + tail.length <= SIZE) written += writeSync(fd, person);
    writeSync(fd, tail);
  } finally {
    closeSync(fd);
  }
}

function clearUploads(server: Vsftpd): void {
  const folder = join(server.root, 'INTEST');
  for (const name of readdirSync(folder)) rmSync(join(folder, name), { force: true });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'onss-bench-send-'));
  const server = await startVsftpd();
  try {
    const material = await createSelfSigned({ commonName: 'bench signer' });
    writeFileSync(
      join(dir, 'key.pem'),
      material.privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    writeFileSync(join(dir, 'cert.pem'), material.certificate.toString());
    // curl reads the credentials from a netrc file: nothing secret on a command line.
    writeFileSync(
      join(dir, 'netrc'),
      `machine 127.0.0.1 login ${server.user} password ${server.password}\n`,
      { mode: 0o600 },
    );
    const env = { ...process.env, BENCH_FTP_PASSWORD: server.password, ONSS_TRANSFER_HOME: dir };
    const lines = [
      `bench:send: ${(SIZE / MIB).toFixed(0)} MiB declaration to vsftpd on 127.0.0.1, warm cache`,
    ];
    for (const [label, write] of [
      ['records (not XML)', writeRecords],
      ['DmfA XML', writeXml],
    ] as const) {
      const file = join(dir, 'declaration');
      write(file);
      warmCache(file);
      const curl = median(
        RUNS,
        () =>
          timed('curl', [
            '-sS',
            '--netrc-file',
            join(dir, 'netrc'),
            '-T',
            file,
            `ftp://127.0.0.1:${server.port}/INTEST/curl-upload`,
          ]),
        () => clearUploads(server),
      );
      let run = 0;
      const ours = median(
        RUNS,
        () =>
          timed(
            process.execPath,
            [
              CLI,
              'send',
              file,
              '--app',
              'DMFA',
              '--sender',
              '123456',
              '--env',
              'T',
              '--sign-test',
              '--key',
              join(dir, 'key.pem'),
              '--cert',
              join(dir, 'cert.pem'),
              '--host',
              '127.0.0.1',
              '--port',
              String(server.port),
              '--user',
              server.user,
              '--password-env',
              'BENCH_FTP_PASSWORD',
              '--ledger',
              // A fresh ledger each run: the same file sent again would (rightly) be refused.
              join(dir, `ledger-${label.length}-${++run}.sqlite`),
              '--json',
            ],
            env,
          ),
        () => clearUploads(server),
      );
      const rate = (run: Run) => `${(SIZE / MIB / run.seconds).toFixed(0)} MiB/s`;
      lines.push(
        `${label}:`,
        `  curl -T                       ${curl.seconds.toFixed(2)} s  ${rate(curl)}`,
        `  onss-transfer send (signed)   ${ours.seconds.toFixed(2)} s  ${rate(ours)}  peak RSS ${ours.rssMiB?.toFixed(0) ?? 'n/a'} MiB`,
        `  ratio ours / curl: ${(ours.seconds / curl.seconds).toFixed(2)} (goal <= 1.3)`,
      );
      rmSync(file);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:send: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

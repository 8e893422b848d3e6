/**
 * `npm run bench:send`: a generated declaration (1 GiB by default, or
 * BENCH_SIZE_MB megabytes) sent by our CLI (FS signing on, so every part is
 * hashed, signed and uploaded in one pass) and by curl for the same bytes, over
 * each protocol of BENCH_PROTOCOLS (comma list, default ftp,ftps,sftp): FTP and
 * FTPS (TLS 1.3, `require_ssl_reuse`) to a local vsftpd, SFTP to a local OpenSSH
 * (internal-sftp, chroot, key login, pinned host key). Prints, per row, both
 * wall times (median of BENCH_RUNS), their ratio and our peak RSS. Two
 * declarations: records that are not XML (the transfer's own cost), on every
 * protocol, and a DmfA XML file (with the in-pass XML well-formedness and form
 * checks), over FTP only. Goal: ours at most 1.3 x curl's time, RSS under 150 MB.
 * Needs root, Debian's vsftpd and OpenSSH server (`.ci/install-interop.sh`). Not a test.
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
import { startOpenSsh } from '../test/interop/openssh';
import { startVsftpd } from '../test/interop/vsftpd';
import { median, timed, warmCache, writeRepeated, type Run } from './measure';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE_MB ?? 1024) * MIB;
const CLI = join(__dirname, '..', 'cli', 'main.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PROTOCOLS = ['ftp', 'ftps', 'sftp'] as const;
type Protocol = (typeof PROTOCOLS)[number];

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

/** One protocol's local server, and how each column (curl, our CLI) reaches it. */
interface Channel {
  protocol: Protocol;
  /** The reference command, as the table names it. */
  reference: string;
  /** curl's options for this server (credentials, trust), before `-T file url`. */
  curl: string[];
  /** Where curl uploads. */
  url: string;
  /** Our CLI's server flags. */
  flags: string[];
  /** What both columns add to the environment. */
  env: NodeJS.ProcessEnv;
  /** The upload folder on disk, emptied after every run. */
  uploads: string;
}

/** What to undo at the end, last first: servers to stop, the scratch folder to remove. */
const cleanups: (() => Promise<void> | void)[] = [];

/** Runs every cleanup, whatever fails. */
async function cleanup(): Promise<void> {
  for (const undo of cleanups.reverse()) {
    try {
      await undo();
    } catch (error) {
      process.stderr.write(`bench:send: cleanup: ${String(error)}\n`);
    }
  }
}

// The servers run in their own process groups: on Ctrl-C or kill, stop at the next checkpoint
// and clean up as on any failure. A second signal ends the process at once.
let interrupted: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => (interrupted = signal));
}

/** Lets a pending signal in (the runs themselves are synchronous) and stops if one came. */
async function checkpoint(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}

/** FTP or FTPS (TLS 1.3, logins and data in TLS, data sessions resuming the control's) to vsftpd. */
async function vsftpdChannel(dir: string, tls: boolean): Promise<Channel> {
  const server = await startVsftpd({ tls });
  cleanups.push(() => server.stop());
  const protocol = tls ? 'ftps' : 'ftp';
  // curl reads the credentials from a netrc file: nothing secret on a command line.
  const netrc = join(dir, `${protocol}.netrc`);
  writeFileSync(netrc, `machine 127.0.0.1 login ${server.user} password ${server.password}\n`, {
    mode: 0o600,
  });
  const ca = join(dir, 'ftps-ca.pem');
  if (tls) writeFileSync(ca, server.caPem ?? '');
  return {
    protocol,
    reference: tls ? 'curl --ssl-reqd --tlsv1.3 --cacert CA -T' : 'curl -T',
    curl: ['--netrc-file', netrc, ...(tls ? ['--ssl-reqd', '--tlsv1.3', '--cacert', ca] : [])],
    url: `ftp://127.0.0.1:${server.port}/INTEST/curl-upload`,
    flags: [
      ...['--protocol', protocol, '--port', String(server.port), '--user', server.user],
      ...['--password-env', 'BENCH_FTP_PASSWORD', ...(tls ? ['--ca-file', ca] : [])],
    ],
    env: { BENCH_FTP_PASSWORD: server.password },
    uploads: join(server.root, 'INTEST'),
  };
}

/** SFTP to OpenSSH (internal-sftp, ssh-rsa as the transfer point): key login, pinned host key. */
async function opensshChannel(dir: string): Promise<Channel> {
  const server = await startOpenSsh();
  cleanups.push(() => server.stop());
  const key = join(dir, 'sftp-key');
  writeFileSync(key, server.keys.rsa, { mode: 0o600 });
  return {
    protocol: 'sftp',
    reference: 'curl --key KEY --hostpubsha256 FP -T sftp://',
    curl: [
      ...['-u', `${server.user}:`, '--key', key],
      // curl wants the fingerprint as padded base64, without OpenSSH's `SHA256:` prefix.
      ...['--hostpubsha256', `${server.hostKeySha256.replace(/^SHA256:/, '')}=`],
    ],
    url: `sftp://127.0.0.1:${server.port}/INTEST/curl-upload`,
    flags: [
      ...['--protocol', 'sftp', '--port', String(server.port), '--user', server.user],
      ...['--ssh-key', key, '--host-key-sha256', server.hostKeySha256],
    ],
    // curl (libssh2) would otherwise read and add to the caller's ~/.ssh/known_hosts.
    env: { HOME: dir },
    uploads: join(server.root, 'INTEST'),
  };
}

const SETUPS: Record<Protocol, (dir: string) => Promise<Channel>> = {
  ftp: (dir) => vsftpdChannel(dir, false),
  ftps: (dir) => vsftpdChannel(dir, true),
  sftp: opensshChannel,
};

/** BENCH_PROTOCOLS, checked before anything starts. */
function protocols(): Protocol[] {
  const wanted = (process.env.BENCH_PROTOCOLS ?? PROTOCOLS.join(','))
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = wanted.filter((name) => !PROTOCOLS.some((known) => known === name));
  if (unknown.length || !wanted.length) {
    throw new Error(
      `BENCH_PROTOCOLS: ${unknown.join(',') || '(none)'}: use ${PROTOCOLS.join(',')}`,
    );
  }
  return PROTOCOLS.filter((known) => wanted.includes(known));
}

/**
 * One row, both columns through the same runner: curl, then our CLI (a fresh ledger each run:
 * the same file sent again would, rightly, be refused), each the median of RUNS, the uploads
 * and the ledger removed after every run.
 */
function measureRow(
  channel: Channel,
  file: string,
  dir: string,
  signing: string[],
): { curl: Run; ours: Run } {
  const ledger = join(dir, 'ledger');
  const env = { ...process.env, ONSS_TRANSFER_HOME: dir, ...channel.env };
  const column = (command: string, args: string[]): Run =>
    median(
      RUNS,
      () => timed(command, args, env),
      () => {
        for (const name of readdirSync(channel.uploads)) rmSync(join(channel.uploads, name));
        rmSync(ledger, { recursive: true, force: true });
      },
    );
  return {
    curl: column('curl', ['-sS', ...channel.curl, '-T', file, channel.url]),
    ours: column(process.execPath, [
      ...[CLI, 'send', file, '--app', 'DMFA', '--sender', '123456', '--env', 'T', ...signing],
      ...['--host', '127.0.0.1', ...channel.flags, '--ledger', join(ledger, 'ledger.sqlite')],
      '--json',
    ]),
  };
}

async function main(): Promise<void> {
  const wanted = protocols();
  const dir = mkdtempSync(join(tmpdir(), 'onss-bench-send-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const channels: Channel[] = [];
  for (const protocol of wanted) {
    channels.push(await SETUPS[protocol](dir));
    await checkpoint();
  }
  const material = await createSelfSigned({ commonName: 'bench signer' });
  writeFileSync(join(dir, 'key.pem'), material.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'cert.pem'), material.certificate.toString());
  const signing = ['--sign-test', '--key', join(dir, 'key.pem'), '--cert', join(dir, 'cert.pem')];

  const cell = (run: Run) => `${run.seconds.toFixed(2)} s`;
  const lines = [
    `bench:send: ${(SIZE / MIB).toFixed(0)} MiB declaration, warm cache, median of ${RUNS}; ` +
      `over ${wanted.join(', ').toUpperCase()} (vsftpd: FTP, FTPS; OpenSSH: SFTP; on 127.0.0.1)`,
    '| declaration | protocol | reference | reference time | onss-transfer send | ratio | our peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  // The XML row measures our XML check, not the channel: over FTP only.
  for (const [label, write, only] of [
    ['records (not XML)', writeRecords, undefined],
    ['DmfA XML', writeXml, 'ftp'],
  ] as const) {
    const rows = channels.filter((channel) => only === undefined || channel.protocol === only);
    if (!rows.length) continue;
    const file = join(dir, 'declaration');
    write(file);
    warmCache(file);
    for (const channel of rows) {
      const { curl, ours } = measureRow(channel, file, dir, signing);
      const ratio = ours.seconds / curl.seconds;
      const row = [
        ...[label, channel.protocol.toUpperCase(), `\`${channel.reference}\``, cell(curl)],
        ...[cell(ours), `${ratio.toFixed(2)}${ratio > 1.3 ? ' (goal <= 1.3)' : ''}`],
        `${ours.rssMiB?.toFixed(0) ?? 'n/a'} MiB`,
      ];
      lines.push(`| ${row.join(' | ')} |`);
      process.stderr.write(`bench:send: ${lines[lines.length - 1]}\n`);
      await checkpoint();
    }
    rmSync(file);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench:send: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());

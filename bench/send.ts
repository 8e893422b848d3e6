/**
 * `npm run bench:send`: our send beside a reference client for the same bytes
 * to the same local server, wall time (median of BENCH_RUNS) and our peak
 * RSS, one row each (issue 15's table):
 * - 1 GiB of records (not XML, the transfer's own cost) and 1 GiB of DmfA XML
 *   (with the XML check) over FTP against `curl -T`;
 * - the XML over FTPS (TLS 1.3, `require_ssl_reuse`) against
 *   `curl --ssl-reqd`, and over SFTP against OpenSSH's `sftp -b` with the
 *   cipher ssh2 picks (aes128-gcm);
 * - 1.8 GB of DmfA XML (9 parts) over FTP;
 * - the XML from an S3 object (s3rver on loopback) through the send
 *   function's data path (ranged GETs) against `curl URL | curl -T -`;
 * then the start-up of each Lambda bundle (esbuild, the stack's settings):
 * a fresh `node` requiring it, against `node -e 0`.
 * BENCH_SIZE_MB scales the 1 GiB rows (the big row keeps its 1.8 / 1.074
 * ratio); BENCH_PROTOCOLS (default ftp,ftps,sftp) picks the protocols.
 * Goal: ours at most 1.3 x the reference, RSS under 150 MB (10^6 bytes).
 * Needs root, Debian's vsftpd and OpenSSH server (`.ci/install-interop.sh`). Not a test.
 */
import {
  createReadStream,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSigned } from '../shared/signing';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { BUNDLE_TARGET } from '../infra/functions';
import { OPTIONAL_NATIVE_MODULES, RUNTIME_PROVIDED_MODULES } from '../infra/constants';
import { FUNCTION_ENTRIES } from '../infra/paths';
import { median, timed, warmCache, type Run } from './measure';
import { writeRecords, writeXml } from './declarations';
import { protocols, SETUPS, type Channel, type Cleanups, type Protocol } from './send-channels';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE_MB ?? 1024) * MIB;
// The largest declaration: 9 parts of (at most) 200 MB.
const BIG_SIZE = Math.round((SIZE * 1.8e9) / (1024 * MIB));
const CLI = join(__dirname, '..', 'cli', 'main.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** What to undo at the end, last first: servers to stop, the scratch folder to remove. */
const cleanups: Cleanups = [];

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

/** Median of RUNS of a command, with `after` between runs. */
function column(command: [string, string[]], env: NodeJS.ProcessEnv, after: () => void): Run {
  return median(RUNS, () => timed(command[0], command[1], env), after);
}

/** One row's declaration: what it holds, how big, where it is read from. */
interface RowSpec {
  label: string;
  content: 'records' | 'xml';
  size: number;
  protocol: Protocol;
  source: 'file' | 's3';
}

const ROWS: RowSpec[] = [
  { label: 'records (not XML)', content: 'records', size: SIZE, protocol: 'ftp', source: 'file' },
  { label: 'DmfA XML', content: 'xml', size: SIZE, protocol: 'ftp', source: 'file' },
  { label: 'DmfA XML', content: 'xml', size: SIZE, protocol: 'ftps', source: 'file' },
  { label: 'DmfA XML', content: 'xml', size: SIZE, protocol: 'sftp', source: 'file' },
  { label: 'DmfA XML', content: 'xml', size: BIG_SIZE, protocol: 'ftp', source: 'file' },
  { label: 'DmfA XML from S3', content: 'xml', size: SIZE, protocol: 'ftp', source: 's3' },
];

/** Our column's command for a file row: the CLI, FS signing on, a fresh ledger each run. */
function ourCli(
  channel: Channel,
  file: string,
  ledger: string,
  signing: string[],
): [string, string[]] {
  return [
    process.execPath,
    [
      ...[CLI, 'send', file, '--app', 'DMFA', '--sender', '123456', '--env', 'T', ...signing],
      ...['--host', '127.0.0.1', ...channel.flags, '--ledger', ledger, '--json'],
    ],
  ];
}

/** A row's two commands, the reference's name in the table and their environment. */
interface Columns {
  reference: [string, string[]];
  referenceName: string;
  ours: [string, string[]];
  env: NodeJS.ProcessEnv;
}

/** A local S3 holding `file` as one object, and the S3 row's two commands. */
async function s3Columns(channel: Channel, file: string, keys: [string, string]): Promise<Columns> {
  const ftp = channel.ftp;
  if (!ftp) throw new Error('the S3 row goes over FTP');
  const bucket = 'outbox';
  const server = spawn(process.execPath, [join(__dirname, 's3rver-process.js'), bucket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(async () => {
    server.kill('SIGTERM');
    if (server.exitCode === null) await once(server, 'exit');
  });
  const [port] = (await once(server.stdout, 'data')) as [Buffer];
  const endpoint = `http://127.0.0.1:${port.toString().trim()}`;
  const client = new S3Client({
    endpoint,
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const key = 'outbox/dmfa.xml';
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: createReadStream(file),
      ContentLength: statSync(file).size,
    }),
  );
  client.destroy();
  const url = `${endpoint}/${bucket}/${key}`;
  return {
    reference: [
      'sh',
      [
        '-c',
        'curl -sS "$1" | curl -sS --netrc-file "$2" -T - "$3"',
        'sh',
        url,
        ftp.netrc,
        `ftp://127.0.0.1:${ftp.port}/INTEST/reference-upload`,
      ],
    ],
    referenceName: '`curl S3-URL \\| curl -T -`',
    ours: [process.execPath, [join(__dirname, 's3-send-child.js'), ...keys]],
    env: {
      BENCH_S3_ENDPOINT: endpoint,
      BENCH_S3_BUCKET: bucket,
      BENCH_S3_KEY: key,
      BENCH_FTP_PORT: String(ftp.port),
      BENCH_FTP_USER: ftp.user,
      BENCH_FTP_PASSWORD: ftp.password,
    },
  };
}

const MB = 1e6;

/** Table cells of one measured row. */
function rowCells(
  spec: RowSpec,
  channel: Channel,
  referenceName: string,
  reference: Run,
  ours: Run,
): string[] {
  const ratio = ours.seconds / reference.seconds;
  const rssMb = ours.rssMiB === undefined ? undefined : (ours.rssMiB * MIB) / MB;
  const parts = Math.ceil(spec.size / 200e6);
  return [
    `${(spec.size / MB).toFixed(0)} MB ${spec.label}, ${parts} part${parts > 1 ? 's' : ''}`,
    channel.protocol.toUpperCase(),
    referenceName,
    `${reference.seconds.toFixed(2)} s`,
    `${ours.seconds.toFixed(2)} s`,
    `${ratio.toFixed(2)}${ratio > 1.3 ? ' (goal <= 1.3)' : ''}`,
    rssMb === undefined ? 'n/a' : `${rssMb.toFixed(0)} MB${rssMb >= 150 ? ' (goal < 150)' : ''}`,
  ];
}

/** Start-up of each Lambda bundle: esbuild with the stack's settings, then `node` requiring it. */
async function bundleRows(dir: string): Promise<string[]> {
  const root = join(__dirname, '..', '..');
  const lines: string[] = [];
  const bare = column([process.execPath, ['-e', '0']], process.env, () => undefined);
  lines.push(
    `| \`node -e 0\` | ${bare.seconds.toFixed(3)} s | ${(((bare.rssMiB ?? 0) * MIB) / MB).toFixed(0)} MB |`,
  );
  for (const [name, entry] of Object.entries(FUNCTION_ENTRIES)) {
    const outfile = join(dir, `${name}-bundle`, 'index.js');
    await build({
      entryPoints: [join(root, entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: BUNDLE_TARGET,
      minify: true,
      mainFields: ['module', 'main'],
      external: [...RUNTIME_PROVIDED_MODULES, ...OPTIONAL_NATIVE_MODULES],
      logLevel: 'error',
    });
    const script = `const h = require(${JSON.stringify(outfile)}).handler; if (typeof h !== 'function') process.exit(3);`;
    const run = column([process.execPath, ['-e', script]], process.env, () => undefined);
    const kb = statSync(outfile).size / 1000;
    lines.push(
      `| ${name} function (${kb.toFixed(0)} kB) | ${run.seconds.toFixed(3)} s | ${(((run.rssMiB ?? 0) * MIB) / MB).toFixed(0)} MB |`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const wanted = protocols();
  const dir = mkdtempSync(join(tmpdir(), 'onss-bench-send-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const channels = new Map<Protocol, Channel>();
  for (const protocol of wanted) {
    channels.set(protocol, await SETUPS[protocol](dir, cleanups));
    await checkpoint();
  }
  const material = await createSelfSigned({ commonName: 'bench signer' });
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  writeFileSync(keyPath, material.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(certPath, material.certificate.toString());
  const signing = ['--sign-test', '--key', keyPath, '--cert', certPath];

  const lines = [
    `bench:send: warm cache, median of ${RUNS}; on 127.0.0.1 (vsftpd: FTP, FTPS; OpenSSH: SFTP)`,
    '| declaration | protocol | reference | reference time | ours | ratio | our peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const file = join(dir, 'declaration');
  let written = '';
  for (const spec of ROWS) {
    const channel = channels.get(spec.protocol);
    if (!channel) continue;
    const content = `${spec.content}-${spec.size}`;
    if (written !== content) {
      (spec.content === 'xml' ? writeXml : writeRecords)(file, spec.size);
      written = content;
    }
    warmCache(file);
    const ledger = join(dir, 'ledger');
    const after = () => {
      for (const name of readdirSync(channel.uploads)) rmSync(join(channel.uploads, name));
      rmSync(ledger, { recursive: true, force: true });
    };
    const env = { ...process.env, ONSS_TRANSFER_HOME: dir, ...channel.env };
    let commands: Columns;
    if (spec.source === 's3') {
      const s3 = await s3Columns(channel, file, [keyPath, certPath]);
      timed(s3.reference[0], s3.reference[1], { ...env, ...s3.env }); // warm s3rver's file
      after();
      commands = { ...s3, env: { ...env, ...s3.env } };
    } else {
      commands = {
        reference: channel.referenceCommand(file),
        referenceName: channel.reference,
        ours: ourCli(channel, file, join(ledger, 'ledger.sqlite'), signing),
        env,
      };
    }
    const reference = column(commands.reference, commands.env, after);
    const ours = column(commands.ours, commands.env, after);
    lines.push(
      `| ${rowCells(spec, channel, commands.referenceName, reference, ours).join(' | ')} |`,
    );
    process.stderr.write(`bench:send: ${lines[lines.length - 1]}\n`);
    await checkpoint();
  }
  rmSync(file, { force: true });
  lines.push(
    '',
    `Lambda bundles' start-up (a fresh \`node\` requiring the bundle, median of ${RUNS}):`,
    '| process | wall time | peak RSS |',
    '| --- | --- | --- |',
    ...(await bundleRows(dir)),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench:send: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());

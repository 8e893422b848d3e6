#!/usr/bin/env node
/**
 * `npm start`: the whole loop on one machine, on embedded defaults, with no
 * account: start the local transfer point on a free loopback port, make a
 * throwaway signing certificate, generate two sample DmfA declarations and
 * send them through the same pipeline as `onss-transfer send` (one from the
 * channel's sender, accepted; one from another sender, which the transfer
 * point rejects), pull the answers with `onss-transfer pull`, and show them
 * with `onss-transfer status`. Everything it starts is stopped and everything
 * it writes removed. `npm start -- --protocol ftps` runs the same loop over
 * explicit FTPS, the client pinning the local transfer point's throwaway
 * certificate.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteLedger } from '../shared/ledger';
import { todayInBrussels } from '../shared/names';
import { sampleDmfaXml } from '../shared/demo/sample-dmfa';
import { createSelfSigned } from '../shared/signing';
import { startSimulator } from '../transfer-point';
import { processIo, type CliIo } from './io';
import { runCli } from './program';

const SENDER = '123456';
const OTHER_SENDER = '654321';
const PASSWORD_VARIABLE = 'DEMO_FTP_PASSWORD';
const ANSWER_WAIT_MS = 20_000;

function currentQuarter(date: string): string {
  return `${date.slice(0, 4)}${Math.ceil(Number(date.slice(4, 6)) / 3)}`;
}

async function step(io: CliIo, args: string[]): Promise<void> {
  io.stdout(`\n$ onss-transfer ${args.join(' ')}\n`);
  const code = await runCli(args, io);
  if (code !== 0) throw new Error(`onss-transfer ${args[0]} failed (exit ${code})`);
}

/** What the demo ends with: the accepted declaration's ticket and the rejected one's reason. */
export interface DemoOutcome {
  accepted: boolean;
  ticket: string;
  rejectedWith: string[];
}

/** How the demonstration runs. */
export interface DemoOptions {
  /**
   * ftp (default); ftps: explicit TLS, the client pinning the simulator's certificate; sftp:
   * an SSH key, the client pinning the simulator's host key.
   */
  protocol?: 'ftp' | 'ftps' | 'sftp';
}

/** The demo's options from its command line (`npm start -- --protocol ftps`). */
export function demoOptionsFrom(args: readonly string[]): DemoOptions {
  const [flag, value, ...rest] = args.length === 1 ? (args[0] ?? '').split('=') : args;
  if (flag === undefined || flag === '') return {};
  if (
    flag !== '--protocol' ||
    (value !== 'ftp' && value !== 'ftps' && value !== 'sftp') ||
    rest.length > 0
  ) {
    throw new Error(`usage: npm start [-- --protocol ftp|ftps|sftp], not "${args.join(' ')}"`);
  }
  return { protocol: value };
}

/**
 * Runs the demonstration, writing to `out`. Exported so a test runs exactly
 * what `npm start` runs.
 */
export async function runDemo(
  out: CliIo = processIo,
  options: DemoOptions = {},
): Promise<DemoOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'onss-demo-'));
  const secure = options.protocol === 'ftps';
  const overSsh = options.protocol === 'sftp';
  const simulator = await startSimulator({
    root: join(dir, 'transfer-point'),
    sender: SENDER,
    signatureRequiredFor: { T: true },
    notificationDelayMs: 100,
    ...(secure ? { tls: true as const } : {}),
    ...(overSsh ? { sftp: true as const } : {}),
  });
  try {
    const date = todayInBrussels();
    const material = await createSelfSigned({ commonName: 'onss-transfer demo signer' });
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    writeFileSync(key, material.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(cert, material.certificate.toString());
    const ledger = join(dir, 'ledger.sqlite');
    const io: CliIo = { ...out, env: { ...out.env, [PASSWORD_VARIABLE]: simulator.password } };
    const caFile = join(dir, 'transfer-point-ca.pem');
    if (secure) writeFileSync(caFile, simulator.caPem ?? '');
    const sshKey = join(dir, 'sftp-key.pem');
    if (overSsh) writeFileSync(sshKey, simulator.privateKeyPem ?? '', { mode: 0o600 });
    const server = [
      '--host',
      simulator.host,
      '--port',
      String(simulator.port),
      '--user',
      simulator.user,
      '--password-env',
      PASSWORD_VARIABLE,
      ...(secure ? ['--protocol', 'ftps', '--ca-file', caFile] : []),
      ...(overSsh
        ? [
            '--protocol',
            'sftp',
            '--ssh-key',
            sshKey,
            '--host-key-sha256',
            simulator.hostKeySha256 ?? '',
          ]
        : []),
      '--ledger',
      ledger,
    ];
    out.stdout(
      `onss-transfer demo: a local transfer point on ${simulator.url} for sender ${SENDER}, ` +
        `sample DmfA declarations and a throwaway certificate in ${dir}\n`,
    );

    const declaration = (name: string, workers: number) => {
      const path = join(dir, name);
      writeFileSync(path, sampleDmfaXml({ quarter: currentQuarter(date), date, workers }));
      return path;
    };
    const good = declaration('dmfa-sample.xml', 25);
    const naming = ['--app', 'DMFA', '--sender', SENDER, '--env', 'T', '--sign-test'];
    await step(io, ['plan', good, ...naming]);
    await step(io, ['send', good, ...naming, '--key', key, '--cert', cert, ...server]);
    out.stdout(
      `\n(a second declaration, from sender ${OTHER_SENDER}, which this channel does not serve)`,
    );
    const stranger = declaration('dmfa-other-sender.xml', 3);
    const otherNaming = ['--app', 'DMFA', '--sender', OTHER_SENDER, '--env', 'T', '--sign-test'];
    await step(io, ['send', stranger, ...otherNaming, '--key', key, '--cert', cert, ...server]);

    // The transfer point answers each set with an ACRF, then the accepted one with a NOTI.
    await simulator.waitForJudgement(undefined, ANSWER_WAIT_MS);
    await simulator.waitForJudgement(undefined, ANSWER_WAIT_MS);
    const deadline = Date.now() + ANSWER_WAIT_MS;
    while (simulator.notifications.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await step(io, [
      'pull',
      '--env',
      'T',
      '--dest',
      join(dir, 'answers'),
      ...server.slice(0, -2),
      '--ledger',
      ledger,
    ]);
    await step(io, ['status', '--ledger', ledger]);

    const records = openSqliteLedger(ledger);
    try {
      const [first, second] = await records.list();
      const outcome: DemoOutcome = {
        accepted: first?.acknowledgement?.accepted === true,
        ticket: first?.tickets?.[0] ?? '?',
        rejectedWith: second?.acknowledgement?.errors ?? [],
      };
      out.stdout(
        `\n${first?.id}: ${outcome.accepted ? `accepted, ticket ${outcome.ticket}` : 'not accepted'}\n` +
          `${second?.id}: rejected with ${outcome.rejectedWith.join(', ') || 'nothing?'}\n`,
      );
      return outcome;
    } finally {
      await records.close();
    }
  } finally {
    await simulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  Promise.resolve()
    .then(() => runDemo(processIo, demoOptionsFrom(process.argv.slice(2))))
    .then(
      (outcome) => {
        if (!outcome.accepted || outcome.rejectedWith.length === 0) process.exitCode = 1;
      },
      (error: unknown) => {
        processIo.stderr(
          `onss-transfer demo: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exitCode = 1;
      },
    );
}

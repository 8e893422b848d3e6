#!/usr/bin/env node
/**
 * `npm start`: the whole loop on one machine, on embedded defaults, with no account. Two
 * channels (two sender numbers, each its own account at its own local transfer point on a free
 * loopback port) named in a channels file, a throwaway signing certificate and sample DmfA
 * declarations, all through the same commands a user runs:
 *
 * - `send --channel east`: accepted; then one from the other sender sent with east's account by
 *   mistake (bare flags): rejected with ACRF-108;
 * - `send --channel west` to a transfer point that answers late: the next `pull` (its clock an
 *   hour on) raises `declaration.overdue`, and a later one brings the ACRF;
 * - a send stopped after its first part, as a run that dies leaves it, then `cancel`: its TD;
 * - `resend` of the ACRF-108 rejection through the channel of its sender: accepted, linked;
 * - `pull --channel` of each account (pinning each transfer point's answer signer) and `status`.
 *
 * Everything it starts is stopped and everything it writes removed. `npm start -- --protocol
 * ftps|sftp` runs it over explicit FTPS or SFTP, the client pinning each server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteLedger, type DeclarationRecord } from '../shared/ledger';
import { todayInBrussels } from '../shared/names';
import { sampleDmfaXml } from '../shared/demo/sample-dmfa';
import { sendDeclaration } from '../shared/send/send-declaration';
import { openFileSource } from '../shared/send/source';
import { createSelfSigned } from '../shared/signing';
import type { Simulator } from '../transfer-point';
import { connectorFromFlags } from './commands/server-options';
import {
  serverFlags,
  startChannelSimulator,
  writeChannelsFile,
  type DemoChannel,
  type DemoProtocol,
} from './demo-site';
import { processIo, type CliIo } from './io';
import { runCli } from './program';

const SENDER = '123456';
const OTHER_SENDER = '654321';
const ANSWER_WAIT_MS = 20_000;
/** How far the watchdog's clock is moved on for the late answer: past its 60 minutes. */
const LATE_MINUTES = 61;

function currentQuarter(date: string): string {
  return `${date.slice(0, 4)}${Math.ceil(Number(date.slice(4, 6)) / 3)}`;
}

async function step(io: CliIo, args: string[]): Promise<void> {
  io.stdout(`\n$ onss-transfer ${args.join(' ')}\n`);
  const code = await runCli(args, io);
  if (code !== 0) throw new Error(`onss-transfer ${args[0]} failed (exit ${code})`);
}

/** What the demo ends with, from the ledger. */
export interface DemoOutcome {
  /** The first declaration (channel east) was accepted, with this ticket. */
  accepted: boolean;
  ticket: string;
  /** The reception codes of the declaration sent with the wrong account. */
  rejectedWith: string[];
  /** The late declaration (channel west) was raised overdue, then acknowledged. */
  overdueThenAnswered: boolean;
  /** The set stopped mid-upload ended cancelled. */
  cancelled: boolean;
  /** The resend of the rejected declaration, and its state. */
  resend?: { id: string; state: string };
}

/** How the demonstration runs. */
export interface DemoOptions {
  /**
   * ftp (default); ftps: explicit TLS, the client pinning the simulator's certificate; sftp:
   * an SSH key, the client pinning the simulator's host key.
   */
  protocol?: DemoProtocol;
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

/** Waits until `done()` holds, up to ANSWER_WAIT_MS. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + ANSWER_WAIT_MS;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/**
 * A send through `channel` that stops after its first file is on the server, as a run that dies
 * mid-upload does: its set stays `uploading`, its lease released, no GO.
 */
async function sendAndStop(
  io: CliIo,
  file: string,
  channel: DemoChannel,
  flags: string[],
  ledgerPath: string,
): Promise<string> {
  const flag = (name: string) => flags[flags.indexOf(name) + 1];
  const connector = await connectorFromFlags(io, {
    host: flag('--host') as string,
    port: flag('--port') as string,
    user: flag('--user') as string,
    passwordEnv: channel.passwordEnv,
    protocol: flags.includes('--protocol') ? (flag('--protocol') as string) : 'ftp',
    ...(flags.includes('--ca-file') ? { caFile: flag('--ca-file') as string } : {}),
    ...(flags.includes('--ssh-key') ? { sshKey: flag('--ssh-key') as string } : {}),
    ...(flags.includes('--host-key-sha256')
      ? { hostKeySha256: flag('--host-key-sha256') as string }
      : {}),
  });
  const ledger = openSqliteLedger(ledgerPath);
  let setId = '';
  try {
    await sendDeclaration(
      {
        source: await openFileSource(file),
        declaration: { app: 'DMFA', sender: channel.sender, env: 'T' },
        channel: { name: channel.name, sender: channel.sender },
      },
      {
        ledger,
        connector,
        onEvent: (event) => {
          if (event.type === 'planned') setId = event.plan.setId;
          if (event.type === 'sent') throw new Error('the run died');
        },
      },
    );
  } catch (error) {
    if ((error as Error).message !== 'the run died') throw error;
  } finally {
    await ledger.close();
  }
  return setId;
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
  const protocol = options.protocol ?? 'ftp';
  const simulators: Simulator[] = [];
  try {
    const start = async (sender: string, user: string) => {
      const simulator = await startChannelSimulator(join(dir, user), sender, user, protocol);
      simulators.push(simulator);
      return simulator;
    };
    const east: DemoChannel = {
      name: 'east',
      sender: SENDER,
      simulator: await start(SENDER, 'east-user'),
      passwordEnv: 'DEMO_EAST_PASSWORD',
    };
    const west: DemoChannel = {
      name: 'west',
      sender: OTHER_SENDER,
      simulator: await start(OTHER_SENDER, 'west-user'),
      passwordEnv: 'DEMO_WEST_PASSWORD',
    };
    const date = todayInBrussels();
    const material = await createSelfSigned({ commonName: 'onss-transfer demo signer' });
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    writeFileSync(key, material.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(cert, material.certificate.toString());
    const ledger = join(dir, 'ledger.sqlite');
    const channels = join(dir, 'channels.json');
    writeChannelsFile(channels, [east, west], protocol, dir, { key, cert });
    const io: CliIo = {
      ...out,
      env: {
        ...out.env,
        [east.passwordEnv]: east.simulator.password,
        [west.passwordEnv]: west.simulator.password,
      },
    };
    const through = (channel: DemoChannel) => [
      ...['--channel', channel.name, '--channels', channels, '--ledger', ledger],
    ];
    out.stdout(
      `onss-transfer demo: two channels in ${channels}: east (sender ${SENDER}) on ` +
        `${east.simulator.url}, west (sender ${OTHER_SENDER}) on ${west.simulator.url}; ` +
        `sample DmfA declarations and a throwaway certificate in ${dir}\n`,
    );
    const declaration = (name: string, workers: number) => {
      const path = join(dir, name);
      writeFileSync(path, sampleDmfaXml({ quarter: currentQuarter(date), date, workers }));
      return path;
    };
    const naming = ['--app', 'DMFA', '--env', 'T'];

    const good = declaration('dmfa-sample.xml', 25);
    await step(io, ['plan', good, ...naming, '--sender', SENDER, '--sign-test']);
    await step(io, ['send', good, ...naming, ...through(east)]);
    out.stdout(
      `\n(a declaration of sender ${OTHER_SENDER}, sent by mistake with east's account, which ` +
        'does not serve that sender)',
    );
    const stranger = declaration('dmfa-other-sender.xml', 3);
    const eastServer = serverFlags(east, protocol, dir);
    await step(io, [
      'send',
      stranger,
      ...naming,
      ...['--sender', OTHER_SENDER, '--sign-test', '--key', key, '--cert', cert],
      ...eastServer,
      ...['--ledger', ledger],
    ]);

    out.stdout("\n(west's transfer point is slow today: its answers wait)");
    west.simulator.setAnswerDelay(10 * 60_000);
    await step(io, ['send', declaration('dmfa-late.xml', 7), ...naming, ...through(west)]);
    await west.simulator.idle(); // its GO taken in, its answer held
    west.simulator.setAnswerDelay(undefined);

    out.stdout(
      '\n(a run that dies after its first file is on the server leaves its set uploading, no GO)',
    );
    const stopped = await sendAndStop(
      io,
      declaration('dmfa-stopped.xml', 9),
      east,
      eastServer,
      ledger,
    );
    await step(io, ['cancel', stopped, ...through(east)]);

    // East answers both of its sets with an ACRF, then the accepted one with a NOTIFICATION.
    await until(
      () => east.simulator.judgements.length >= 2 && east.simulator.notifications.length >= 1,
    );
    await Promise.all([east.simulator.idle(), west.simulator.idle()]);
    const answers = join(dir, 'answers');
    const pull = (channel: DemoChannel) => [
      'pull',
      '--env',
      'T',
      '--dest',
      answers,
      ...through(channel),
    ];
    out.stdout(
      `\n(the answers are signed by each local transfer point; each pull pins its certificate ` +
        `from the channels file, SHA-256 ${east.simulator.certificateFingerprint} for east)`,
    );
    await step(io, pull(east));
    out.stdout(`\n(an hour later, by the watchdog's clock: ${LATE_MINUTES} minutes on)`);
    const later = new Date(Date.now() + LATE_MINUTES * 60_000);
    await step({ ...io, now: () => later }, pull(west));
    await west.simulator.flushAnswers();
    await until(() => west.simulator.notifications.length >= 1);
    await west.simulator.idle();
    await step(io, pull(west));

    const rejected = `DMFA.${OTHER_SENDER}.${date}.00001.T`;
    out.stdout(`\n(the rejected declaration, resent through the channel of its sender)`);
    await step(io, ['resend', rejected, ...through(west)]);
    await until(() => west.simulator.judgements.length >= 2);
    await west.simulator.idle();
    await step(io, pull(west));
    await step(io, ['status', '--ledger', ledger]);
    return await summarize(out, ledger, rejected, stopped);
  } finally {
    await Promise.all(simulators.map((simulator) => simulator.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function summarize(
  out: CliIo,
  ledgerPath: string,
  rejectedId: string,
  stoppedId: string,
): Promise<DemoOutcome> {
  const records = openSqliteLedger(ledgerPath);
  try {
    const all = await records.list();
    const byId = (id: string): DeclarationRecord | undefined => all.find((r) => r.id === id);
    const [first] = all;
    const rejected = byId(rejectedId);
    const late = all.find((r) => r.channel === 'west' && r.resendOf === undefined);
    const resend = all.find((r) => r.resendOf === rejectedId);
    const outcome: DemoOutcome = {
      accepted: first?.acknowledgement?.accepted === true,
      ticket: first?.tickets?.[0] ?? '?',
      rejectedWith: rejected?.acknowledgement?.errors ?? [],
      overdueThenAnswered:
        (late?.overdue ?? []).some((mark) => mark.waitingFor === 'acknowledgement') &&
        late?.acknowledgement?.accepted === true,
      cancelled: byId(stoppedId)?.state === 'cancelled',
      ...(resend ? { resend: { id: resend.id, state: resend.state } } : {}),
    };
    out.stdout(
      `\n${first?.id}: ${outcome.accepted ? `accepted, ticket ${outcome.ticket}` : 'not accepted'}\n` +
        `${rejectedId}: rejected with ${outcome.rejectedWith.join(', ') || 'nothing?'}` +
        `${resend ? `, resent as ${resend.id} (${resend.state})` : ''}\n` +
        `${late?.id}: ${outcome.overdueThenAnswered ? 'overdue, then answered' : 'not overdue-then-answered?'}\n` +
        `${stoppedId}: ${outcome.cancelled ? 'cancelled, never launched' : 'not cancelled?'}\n`,
    );
    return outcome;
  } finally {
    await records.close();
  }
}

if (require.main === module) {
  Promise.resolve()
    .then(() => runDemo(processIo, demoOptionsFrom(process.argv.slice(2))))
    .then(
      (outcome) => {
        const complete =
          outcome.accepted &&
          outcome.rejectedWith.length > 0 &&
          outcome.overdueThenAnswered &&
          outcome.cancelled &&
          outcome.resend?.state === 'acknowledged';
        if (!complete) process.exitCode = 1;
      },
      (error: unknown) => {
        processIo.stderr(
          `onss-transfer demo: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exitCode = 1;
      },
    );
}

/**
 * `pull` runs the watchdog after pulling: a declaration the local transfer point holds the
 * answer of (its answer delay) is raised `declaration.overdue` once, on the console and in
 * events.jsonl, when the watchdog's clock is past the wait (`--ack-within`); a later pull after
 * the answer came brings the ACRF and the declaration is acknowledged, and `status` shows when
 * the overdue event was raised. The CLI's clock (`CliIo.now`) is moved on instead of waiting.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../cli/program';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { todayInBrussels } from '../../shared/names';
import type { TransferEvent } from '../../shared/notify';
import { startSimulator, type Simulator } from '../../transfer-point';
import { captureIo, type CliRun } from '../helpers/cli';
import { makeIdentity, scratchDir } from '../helpers/pki';

const MINUTE = 60_000;
const { dir, cleanup } = scratchDir('onss-cli-pull-overdue-');
const ledger = join(dir, 'ledger.sqlite');
const dest = join(dir, 'answers');
let simulator: Simulator;
let server: string[];
let signing: string[];

beforeAll(async () => {
  // A reception that answers a minute after judging: long enough to pull while it waits.
  simulator = await startSimulator({ sender: '123456', answerDelayMs: 60_000 });
  const id = await makeIdentity('rsa2048', { commonName: 'CLI Overdue' });
  writeFileSync(join(dir, 'key.pem'), id.keyPem);
  writeFileSync(join(dir, 'cert.pem'), id.certPem);
  signing = ['--key', join(dir, 'key.pem'), '--cert', join(dir, 'cert.pem')];
  server = [
    ...['--host', simulator.host, '--port', String(simulator.port), '--user', simulator.user],
    ...['--password-env', 'FTP_PW', '--ledger', ledger],
  ];
});
afterAll(async () => {
  await simulator?.stop();
  cleanup();
});

/** Runs the CLI in-process, its watchdog's clock `minutesOn` minutes ahead of now. */
async function cli(args: string[], minutesOn = 0): Promise<CliRun> {
  const captured = captureIo(
    { FTP_PW: simulator.password },
    { now: () => new Date(Date.now() + minutesOn * MINUTE) },
  );
  const code = await runCli(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

const pull = (minutesOn: number, ...flags: string[]) =>
  cli(['pull', '--env', 'T', '--dest', dest, ...server, ...flags], minutesOn);

function events(): TransferEvent[] {
  return readFileSync(join(dest, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as TransferEvent);
}

const overdueEvents = () => events().filter((event) => event.type === 'declaration.overdue');

describe('onss-transfer pull: the watchdog', () => {
  it('raises a held answer overdue once, then files the late ACRF', async () => {
    // Prepare: one declaration sent; the transfer point takes it and holds its ACRF.
    const file = join(dir, 'dmfa.xml');
    writeFileSync(file, sampleDmfaXml({ quarter: '20263', date: todayInBrussels(), workers: 3 }));
    const naming = ['--app', 'DMFA', '--sender', '123456', '--env', 'T'];
    const sent = await cli(['send', file, ...naming, ...signing, ...server]);
    expect(sent.code).toBe(0);
    await simulator.idle();
    expect(simulator.files('INTEST')).toEqual([]);
    const [listed] = JSON.parse(
      (await cli(['status', '--ledger', ledger, '--json'])).stdout,
    ) as Array<{ set: string; state: string }>;
    const set = listed?.set ?? '';
    expect(listed?.state).toBe('launched');

    // Act 1: 31 minutes on, within the default 60; then past an --ack-within of 30.
    const early = await pull(31);
    const late = await pull(31, '--ack-within', '30');

    // Assess 1: raised once, on the console and in events.jsonl.
    expect(early.code).toBe(0);
    expect(early.stdout).not.toContain('declaration.overdue');
    expect(late.code).toBe(0);
    expect(late.stdout).toMatch(
      new RegExp(
        `declaration\\.overdue: ${set.replace(/\./g, '\\.')} has no ACRF 3\\d minutes after its GO \\(\\S+\\); an ACRF is expected within 30 minutes`,
      ),
    );
    expect(late.stdout).toMatch(/pulled 0 response set\(s\), 1 declaration\(s\) newly overdue\n/);
    expect(overdueEvents()).toEqual([
      expect.objectContaining({
        declaration: set,
        state: 'launched',
        waitingFor: 'acknowledgement',
        lateByMinutes: expect.any(Number),
      }),
    ]);

    // Act 2: later still, the answer not come yet: not raised again (JSON report).
    const again = await pull(90, '--json');

    // Assess 2
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      sets: [],
      overdue: { overdue: 1, raised: [], alreadyRaised: 1, failed: [] },
    });
    expect(overdueEvents()).toHaveLength(1);

    // Act 3: the transfer point answers; the next pull files the ACRF.
    await simulator.flushAnswers();
    const answered = await pull(95);

    // Assess 3: acknowledged, nothing overdue any more, the raised event kept in status.
    expect(answered.code).toBe(0);
    expect(answered.stdout).toContain(`declaration.acknowledged`);
    expect(answered.stdout).not.toContain('declaration.overdue');
    expect(overdueEvents()).toHaveLength(1);
    const status = await cli(['status', set, '--ledger', ledger]);
    expect(status.stdout).toMatch(new RegExp(`^${set.replace(/\./g, '\\.')}  acknowledged`));
    expect(status.stdout).toMatch(
      /\n {4}declaration\.overdue raised at \S+Z: no ACRF within the allowed wait\n/,
    );
    expect(status.stdout).not.toContain('overdue: no ACRF since');
    const [line] = JSON.parse((await cli(['status', set, '--ledger', ledger, '--json'])).stdout);
    expect(line).toMatchObject({
      state: 'acknowledged',
      overdueRaised: [{ waitingFor: 'acknowledgement', at: overdueEvents()[0]?.at }],
    });
    expect(line.overdue).toBeUndefined();
  });

  it.each([
    [['--ack-within', '0'], /--ack-within takes a whole number of at least 1, not "0"/],
    [['--notification-within', 'a day'], /--notification-within takes a whole number/],
  ])('refuses %j before connecting', async (flags, message) => {
    const run = await pull(0, ...flags);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

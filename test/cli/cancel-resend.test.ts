import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { openSqliteLedger } from '../../shared/ledger';
import { buildDeclarationName, todayInBrussels } from '../../shared/names';
import { startSimulator, type Simulator } from '../../transfer-point';
import { cli } from '../helpers/cli';
import { scratchDir } from '../helpers/pki';

// `cancel` and `resend` run as a user runs them, against the local transfer point: a TD for a
// set left uploaded without its GO, refused for a launched one; a rejected declaration sent
// again under a new sequence, the link to the first shown by `status` on both.

const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-cli-cancel-');
const ledgerPath = join(dir, 'ledger.sqlite');
let simulator: Simulator;
let server: string[];
const naming = ['--app', 'DMFA', '--sender', '123456', '--env', 'T'];

beforeAll(async () => {
  simulator = await startSimulator();
  server = [
    ...['--host', simulator.host, '--port', String(simulator.port), '--user', simulator.user],
    ...['--password-env', 'FTP_PW', '--ledger', ledgerPath],
  ];
});
afterAll(async () => {
  await simulator?.stop();
  cleanup();
});

const env = () => ({ FTP_PW: simulator.password });

function declarationFile(name: string, workers: number): string {
  const file = join(dir, name);
  writeFileSync(file, sampleDmfaXml({ quarter: '20263', date: today, workers }));
  return file;
}

/**
 * A set a run left `uploading` (its FI on the server, no GO) and whose lease has ended, as a
 * run that died mid-upload leaves it.
 */
async function leftUploading(seq: string): Promise<{ id: string; fi: string }> {
  const key = { app: 'DMFA', sender: '123456', date: today, seq, env: 'T' as const };
  const fi = buildDeclarationName({ prefix: 'FI', ...key, nparts: 1, part: 1 });
  const go = buildDeclarationName({ prefix: 'GO', ...key, nparts: 1 });
  const ledger = openSqliteLedger(ledgerPath);
  try {
    const { record } = await ledger.claim(
      {
        key,
        nparts: 1,
        folder: 'INTEST',
        source: { kind: 'file', id: join(dir, `dead-${seq}.xml`), version: 'v1' },
        files: [
          { name: fi, size: 10, role: 'FI' },
          { name: go, size: 0, role: 'GO' },
        ],
      },
      { owner: 'dead-run', leaseMs: 1 },
    );
    await ledger.transition(record.id, 'planned', 'uploading');
    writeFileSync(simulator.pathOf('INTEST', fi), '<partial/>');
    return { id: record.id, fi };
  } finally {
    await ledger.close();
  }
}

describe('onss-transfer cancel', () => {
  it('sends the TD of a set uploaded but not launched, and records it cancelled', async () => {
    // Prepare
    const { id, fi } = await leftUploading('00901');

    // Act
    const run = await cli(['cancel', id, ...server], env());
    const cancellation = await waitFor(() =>
      simulator.cancellations.find((c) => c.setKey === `${id}.1`),
    );

    // Assess
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(`cancelled ${id}: TD.${id}.1 sent; it will never be launched\n`);
    expect(cancellation.removed).toEqual(expect.arrayContaining([fi, `TD.${id}.1`]));
    expect(existsSync(simulator.pathOf('INTEST', fi))).toBe(false);
    const status = await cli(['status', id, '--json', '--ledger', ledgerPath]);
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({ set: id, state: 'cancelled', cancelledAt: expect.any(String) }),
    ]);
    expect(simulator.judgements.some((j) => j.setKey === `${id}.1`)).toBe(false);
  });

  it('sends the TD again for a set already cancelled, and says so in JSON', async () => {
    // Prepare
    const { id } = await leftUploading('00902');
    expect((await cli(['cancel', id, ...server], env())).code).toBe(0);

    // Act
    const again = await cli(['cancel', `GO.${id}.1`, '--json', ...server], env());

    // Assess
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      cancelled: true,
      set: id,
      td: `TD.${id}.1`,
      repeated: true,
    });
  });

  it('refuses a launched set with the reason, and sends nothing', async () => {
    // Prepare
    const file = declarationFile('launched.xml', 2);
    expect((await cli(['send', file, ...naming, ...server], env())).code).toBe(0);
    const judged = await simulator.waitForJudgement();
    const cancelsBefore = simulator.cancellations.length;
    const id = setIdOf(judged);

    // Act
    const run = await cli(['cancel', id, ...server], env());

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`cannot cancel ${id} (state launched): its GO went out at`);
    expect(run.stderr).toContain('[CANCEL_TOO_LATE]');
    await simulator.idle();
    expect(simulator.cancellations).toHaveLength(cancelsBefore);
  });

  it('names a declaration the ledger does not hold', async () => {
    // Act
    const run = await cli(['cancel', `DMFA.123456.${today}.00999.T`, ...server], env());

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`DMFA.123456.${today}.00999.T`);
  });
});

describe('onss-transfer resend', () => {
  it('sends a rejected declaration again under a new sequence, linked both ways in status', async () => {
    // Prepare: a declaration the reception rejects (ACRF-129), pulled
    const file = declarationFile('rejected.xml', 3);
    simulator.rejectNext(129);
    expect((await cli(['send', file, ...naming, ...server], env())).code).toBe(0);
    const rejected = await simulator.waitForJudgement((j) => !j.accepted);
    await simulator.idle();
    const dest = join(dir, 'answers');
    expect((await cli(['pull', '--env', 'T', '--dest', dest, ...server], env())).code).toBe(0);
    const first = setIdOf(rejected);

    // Act
    const run = await cli(['resend', first, ...server], env());
    const judged = await simulator.waitForJudgement((j) => setIdOf(j) !== first && j.accepted);

    // Assess
    expect(run.code).toBe(0);
    const second = setIdOf(judged);
    expect(second).not.toBe(first);
    expect(run.stdout).toContain(`launched GO.${second}.1`);
    expect(run.stdout).toContain(`resend of ${first}`);
    const both = JSON.parse(
      (await cli(['status', '--json', '--ledger', ledgerPath])).stdout,
    ) as Array<{ set: string; state: string; resendOf?: string; resentAs?: string }>;
    expect(both.find((line) => line.set === first)).toMatchObject({
      state: 'rejected',
      resentAs: second,
    });
    expect(both.find((line) => line.set === second)).toMatchObject({ resendOf: first });
    const text = (await cli(['status', first, '--ledger', ledgerPath])).stdout;
    expect(text).toContain(`    resent as ${second}\n`);

    // ...and a second resend of the first is refused: the newest of the chain is the one to resend
    const twice = await cli(['resend', first, ...server], env());
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`already resent as ${second}`);
  });

  it('refuses a declaration that was not refused, with the reason', async () => {
    // Prepare
    const file = declarationFile('waiting.xml', 4);
    expect((await cli(['send', file, ...naming, ...server], env())).code).toBe(0);
    const judged = await simulator.waitForJudgement((j) => j.accepted);
    await simulator.idle();
    const judgementsBefore = simulator.judgements.length;

    // Act
    const run = await cli(['resend', setIdOf(judged), ...server], env());

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('its answer has not come yet');
    expect(run.stderr).toContain('[RESEND_REFUSED]');
    expect(simulator.judgements).toHaveLength(judgementsBefore);
  });
});

/** The set key APP.SENDER.DATE.SEQ.ENV of a judgement (the simulator's carries NPARTS too). */
function setIdOf(judgement: { setKey?: string | undefined }): string {
  return (judgement.setKey ?? '').split('.').slice(0, 5).join('.');
}

async function waitFor<T>(find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

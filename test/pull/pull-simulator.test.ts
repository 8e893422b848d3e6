import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import { openSqliteLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels } from '../../shared/names';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses } from '../../shared/pull';
import { openFileSource, sendDeclaration } from '../../shared/send';
import { createSelfSigned } from '../../shared/signing';
import { startSimulator, type Simulator } from '../../transfer-point';
import { localFolderStore } from '../../shared/store';
import { ftpConnector, type TransportConnector } from '../../shared/transport';
import { faultyConnector, type Fault } from '../helpers/faulty-transport';
import { scratchDir } from '../helpers/pki';

const today = todayInBrussels();
const { dir, cleanup } = scratchDir('onss-pull-sim-');
let simulator: Simulator;
let ledger: Ledger;

beforeAll(async () => {
  simulator = await startSimulator({ notificationDelayMs: 30 });
  ledger = openSqliteLedger(join(dir, 'ledger.sqlite'));
});
afterAll(async () => {
  await ledger?.close();
  await simulator?.stop();
  cleanup();
});

function connector(faults: Fault[] = []): TransportConnector {
  const ftp = ftpConnector({
    host: simulator.host,
    port: simulator.port,
    user: simulator.user,
    password: simulator.password,
  });
  return faultyConnector(ftp, faults);
}

let counter = 0;
async function sendOne(workers: number) {
  const path = join(dir, `decl-${++counter}.xml`);
  writeFileSync(path, sampleDmfaXml({ quarter: '20263', date: today, workers }));
  return sendDeclaration(
    {
      source: await openFileSource(path),
      declaration: { app: 'DMFA', sender: '123456', env: 'T' },
    },
    { ledger, connector: connector(), material: await createSelfSigned({}) },
  );
}

async function pull(faults: Fault[] = []) {
  const notifier = memoryNotifier();
  const report = await pullResponses(
    { environments: ['T'] },
    { ledger, connector: connector(faults), store: localFolderStore(join(dir, 'store')), notifier },
  );
  return { report, events: notifier.events };
}

describe('pull from the local transfer point', () => {
  it('stores every answer, ties it to its declaration, then empties the folder', async () => {
    const accepted = await sendOne(3);
    simulator.rejectNext(129);
    const rejected = await sendOne(4);
    await simulator.waitForJudgement((j) => j.goName === rejected.plan.go);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the NOTI of the accepted one
    await simulator.idle();

    const { report, events } = await pull();
    expect(report.failed).toEqual([]);
    expect(report.sets.every((s) => s.stored && s.deleted)).toBe(true);
    expect(simulator.files('OUTTEST')).toEqual([]);

    expect(await ledger.get(accepted.plan.setId)).toMatchObject({
      state: 'notified',
      acknowledgement: { accepted: true },
    });
    expect(await ledger.get(rejected.plan.setId)).toMatchObject({
      state: 'rejected',
      acknowledgement: { accepted: false, errors: ['ACRF-129'] },
    });
    expect(events.map((e) => `${e.type} ${e.declaration}`).sort()).toEqual(
      [
        `declaration.acknowledged ${accepted.plan.setId}`,
        `declaration.notified ${accepted.plan.setId}`,
        `declaration.rejected ${rejected.plan.setId}`,
      ].sort(),
    );
    const rejection = events.find((e) => e.type === 'declaration.rejected');
    expect(rejection?.errors?.[0]).toMatchObject({ id: 'ACRF-129' });
    expect(rejection?.errors?.[0]?.label).toMatch(/application/);
    const stored = readdirSync(join(dir, 'store', 'responses', 'T', today, 'ACRF'));
    expect(stored.filter((n) => n.startsWith('FO.'))).toHaveLength(2);
  });

  it('a crash between store and delete: the next run deletes without storing twice', async () => {
    const sent = await sendOne(5);
    await simulator.waitForJudgement((j) => j.goName === sent.plan.go);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await simulator.idle();
    const first = await pull([{ op: 'delete', path: /GO\.ACRF/, times: 1 }]);
    expect(first.report.failed).toHaveLength(1);
    expect(simulator.files('OUTTEST').some((n) => n.startsWith('FO.ACRF'))).toBe(true);
    const second = await pull();
    expect(second.report.failed).toEqual([]);
    expect(second.report.sets.find((s) => s.id.startsWith('ACRF'))).toMatchObject({
      stored: false,
      deleted: true,
    });
    expect(simulator.files('OUTTEST')).toEqual([]);
    expect((await ledger.get(sent.plan.setId))?.state).toBe('notified');
  });

  it('leaves incomplete sets and foreign files on the server', async () => {
    writeFileSync(simulator.pathOf('OUTTEST', 'FO.ACRF.999999.20261125.09999.T'), '<ACRF/>');
    writeFileSync(simulator.pathOf('OUTTEST', 'notes.txt'), 'hello');
    const { report, events } = await pull();
    expect(report.incomplete).toEqual(['OUTTEST/ACRF.999999.20261125.09999.T']);
    expect(report.foreign).toEqual(['OUTTEST/notes.txt']);
    expect(simulator.files('OUTTEST').sort()).toEqual([
      'FO.ACRF.999999.20261125.09999.T',
      'notes.txt',
    ]);
    expect(events.map((e) => e.type)).toEqual(['response.foreign-file']);
  });
});

describe('answers for a declaration that cannot move', () => {
  it('a notification for a rejected declaration is kept and raised; the pull goes on', async () => {
    simulator.rejectNext(129);
    const sent = await sendOne(6);
    await simulator.waitForJudgement((j) => j.goName === sent.plan.go);
    await simulator.idle();
    await pull();
    expect((await ledger.get(sent.plan.setId))?.state).toBe('rejected');
    // A stray notification about it, as a transfer point might still send.
    const id = 'NOTI.999999.20261125.09990.T';
    writeFileSync(
      simulator.pathOf('OUTTEST', `FO.${id}`),
      `<NOTIFICATION><Form><Identification>NOTI001</Identification><FileReference><FileName>${sent.plan.go}</FileName></FileReference><HandlingResult><ResultCode>0</ResultCode></HandlingResult></Form></NOTIFICATION>`,
    );
    writeFileSync(simulator.pathOf('OUTTEST', `GO.${id}`), '');
    const { report, events } = await pull();
    expect(report.failed).toEqual([]);
    expect(report.sets.map((s) => s.id)).toContain(id);
    expect((await ledger.get(sent.plan.setId))?.state).toBe('rejected');
    // The event names what the answer said (a refusal), and the state it left untouched.
    expect(events.some((e) => e.type === 'declaration.refused' && e.state === 'rejected')).toBe(
      true,
    );
  });
});

/**
 * An operator's cancel and resend through the outbox, on emulated AWS (s3rver, dynalite), the
 * local transfer point and real S3 event notifications: `outbox/cancel/<set>` sends the TD of
 * a set left uploaded, `outbox/resend/<set>/<file>` sends a rejected declaration again under a
 * new sequence with the link kept; each refusal raises `operation.refused` and sends nothing.
 */
import { writeFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { METRIC_NAMES } from '../../../functions/config/names';
import { processSendBatch } from '../../../functions/send/process';
import { sampleDmfaXml } from '../../../shared/demo/sample-dmfa';
import type { Ledger } from '../../../shared/ledger';
import { todayInBrussels } from '../../../shared/names';
import { startSimulator, type Simulator } from '../../../transfer-point';
import { makeIdentity, type Identity } from '../../helpers/pki';
import {
  SENDER,
  readEvents,
  s3CreatedBody,
  sqsBatch,
  startEmulators,
  wireSend,
  type Emulators,
  type WiredSend,
} from '../helpers/emulated-aws';

const BUCKET = 'onss-outbox';
const OUTBOX = 'outbox/';
const today = todayInBrussels();

let emulators: Emulators;
let signer: Identity;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  [emulators, signer] = await Promise.all([startEmulators(BUCKET), makeIdentity('rsa2048')]);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await emulators?.close();
});

interface SendFunction extends WiredSend {
  simulator: Simulator;
  ledger: Ledger;
}

async function sendFunction(): Promise<SendFunction> {
  const simulator = await startSimulator({ sender: SENDER });
  const table = await emulators.freshTable();
  const wired = wireSend(
    { emulators, bucket: BUCKET, table, simulator, identity: signer },
    { outboxPrefix: OUTBOX },
  );
  cleanups.push(async () => {
    wired.aws.close();
    await simulator.stop();
  });
  return { ...wired, simulator, ledger: wired.ports.ledger };
}

async function drop(key: string, content: string): Promise<string> {
  const body = Buffer.from(content);
  const output = await emulators.s3.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }),
  );
  return s3CreatedBody(BUCKET, key, { eTag: output.ETag ?? '', size: body.length });
}

const dmfa = (workers: number) => sampleDmfaXml({ quarter: '20263', date: today, workers });
const setId = (seq: string) => `DMFA.${SENDER}.${today}.${seq}.T`;
const run = (fn: SendFunction, id: string, body: string) =>
  processSendBatch(sqsBatch([{ id, body }]), fn.deps);

/** A T declaration sent from the outbox, then rejected by its ACRF (recorded as a pull would). */
async function rejectedDeclaration(fn: SendFunction): Promise<string> {
  const body = await drop(`${OUTBOX}DMFA/T/first.xml`, dmfa(2));
  expect(await run(fn, 'm-0', body)).toEqual({ batchItemFailures: [] });
  const id = setId('00001');
  await fn.ledger.transition(id, 'launched', 'rejected', {
    acknowledgement: {
      accepted: false,
      errors: ['ACRF-129'],
      response: `ACRF.999999.${today}.00001.T`,
      at: new Date().toISOString(),
    },
  });
  return id;
}

describe('send function: resend/ in the outbox', () => {
  it('sends a rejected declaration again under a new sequence, once, with the link', async () => {
    // Prepare
    const fn = await sendFunction();
    const first = await rejectedDeclaration(fn);
    const body = await drop(`${OUTBOX}resend/${first}/corrected.xml`, dmfa(3));

    // Act: the event, then the same event again
    const responses = [await run(fn, 'm-1', body), await run(fn, 'm-2', body)];

    // Assess
    expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(await fn.ledger.get(setId('00002'))).toMatchObject({
      state: 'launched',
      resendOf: first,
    });
    expect(await fn.ledger.list()).toHaveLength(2);
    await fn.simulator.waitForJudgement((j) => j.goName === `GO.${setId('00002')}.1`);
    await fn.simulator.idle();
    expect(fn.simulator.judgements).toHaveLength(2);
    expect(readEvents(fn.aws.putEvents()).map((event) => event.type)).toEqual([
      'declaration.launched',
      'declaration.launched',
    ]);
  });

  it('refuses to resend a declaration still waiting for its answer, and says why', async () => {
    // Prepare
    const fn = await sendFunction();
    expect(await run(fn, 'm-0', await drop(`${OUTBOX}DMFA/T/waiting.xml`, dmfa(2)))).toEqual({
      batchItemFailures: [],
    });
    const body = await drop(`${OUTBOX}resend/${setId('00001')}/again.xml`, dmfa(4));

    // Act
    const response = await run(fn, 'm-1', body);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await fn.ledger.list()).toHaveLength(1);
    const refused = readEvents(fn.aws.putEvents()).filter(
      (event) => event.type === 'operation.refused',
    );
    expect(refused).toHaveLength(1);
    expect(refused[0]?.detail).toMatchObject({ declaration: setId('00001') });
    expect(String(refused[0]?.detail.message)).toContain('its answer has not come yet');
  });
});

describe('send function: cancel/ in the outbox', () => {
  /** A set a run left uploading (its FI on the server, no GO), its lease ended. */
  async function leftUploading(fn: SendFunction): Promise<string> {
    const id = setId('00007');
    const fi = `FI.${id}.1.1`;
    const { record } = await fn.ledger.claim(
      {
        key: { app: 'DMFA', sender: SENDER, date: today, seq: '00007', env: 'T' },
        nparts: 1,
        folder: 'INTEST',
        source: { kind: 'object', id: `s3://${BUCKET}/${OUTBOX}DMFA/T/dead.xml`, version: 'e1' },
        files: [
          { name: fi, size: 10, role: 'FI' },
          { name: `GO.${id}.1`, size: 0, role: 'GO' },
        ],
      },
      { owner: 'dead-run', leaseMs: 1 },
    );
    await fn.ledger.transition(record.id, 'planned', 'uploading');
    writeFileSync(fn.simulator.pathOf('INTEST', fi), '<partial/>');
    return id;
  }

  it('sends the TD, records the set cancelled and raises declaration.cancelled', async () => {
    // Prepare
    const fn = await sendFunction();
    const id = await leftUploading(fn);
    const body = await drop(`${OUTBOX}cancel/${id}`, '');

    // Act
    const response = await run(fn, 'm-1', body);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await fn.ledger.get(id)).toMatchObject({ state: 'cancelled' });
    expect(fn.puts.filter((put) => put.ok).map((put) => put.path)).toEqual([`INTEST/TD.${id}.1`]);
    await fn.simulator.idle();
    expect(fn.simulator.cancellations.map((c) => c.tdName)).toEqual([`TD.${id}.1`]);
    const events = readEvents(fn.aws.putEvents());
    expect(events.map((event) => event.type)).toEqual(['declaration.cancelled']);
    expect(events[0]?.detail).toMatchObject({ declaration: id, state: 'cancelled' });
    expect(fn.metrics.sum(METRIC_NAMES.declarationsCancelled)).toBe(1);
  });

  it.each([
    ['a launched set', 'launched', 'CANCEL_TOO_LATE'],
    ['another sender', 'other', 'ACRF-108'],
  ])('refuses to cancel %s, sends nothing and says why', async (_title, what, code) => {
    // Prepare
    const fn = await sendFunction();
    await run(fn, 'm-0', await drop(`${OUTBOX}DMFA/T/sent.xml`, dmfa(2)));
    const target = what === 'other' ? `DMFA.654321.${today}.00001.T` : setId('00001');
    const putsBefore = fn.puts.length;
    const body = await drop(`${OUTBOX}cancel/${target}`, '');

    // Act
    const response = await run(fn, 'm-1', body);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(fn.puts).toHaveLength(putsBefore);
    const refused = readEvents(fn.aws.putEvents()).filter(
      (event) => event.type === 'operation.refused',
    );
    expect(refused).toHaveLength(1);
    expect(String(refused[0]?.detail.message)).toContain(`[${code}]`);
    if (what === 'launched') expect((await fn.ledger.get(target))?.state).toBe('launched');
  });
});

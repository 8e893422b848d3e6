/**
 * The send function's work on emulated AWS: S3 (s3rver), DynamoDB (dynalite), the local
 * transfer point, the real wiring of `functions/runtime.ts`, and SQS batches holding real S3
 * event notifications. Secrets Manager, EventBridge and SNS are stubbed per client.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { EVENT_SOURCE, METRIC_NAMES } from '../../../functions/config/names';
import { processSendBatch } from '../../../functions/send/process';
import { sampleDmfaXml } from '../../../shared/demo/sample-dmfa';
import type { Ledger } from '../../../shared/ledger';
import { todayInBrussels } from '../../../shared/names';
import { certificateFingerprint, startSimulator, type Simulator } from '../../../transfer-point';
import { makeIdentity, opensslVerify, scratchDir, type Identity } from '../../helpers/pki';
import {
  AWS_NAMES,
  SENDER,
  readEvents,
  s3CreatedBody,
  sqsBatch,
  startEmulators,
  wireSend,
  type Emulators,
  type PutRecord,
  type WiredSend,
} from '../helpers/emulated-aws';

const BUCKET = 'onss-outbox';
const OUTBOX = 'outbox/';
const today = todayInBrussels();

let emulators: Emulators;
let signer: Identity;
let transferPoint: Identity;
const scratch = scratchDir('onss-send-emulated-');
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  [emulators, signer, transferPoint] = await Promise.all([
    startEmulators(BUCKET),
    makeIdentity('rsa2048'),
    makeIdentity('rsa2048'),
  ]);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await emulators?.close();
  scratch.cleanup();
});

/** One send function container, with the transfer point it sends to. */
interface SendFunction extends WiredSend {
  simulator: Simulator;
  ledger: Ledger;
}

/**
 * Starts a transfer point for the sender (trusting the signer's certificate) and wires the send
 * function on a fresh ledger table, as its handler does.
 */
async function sendFunction(
  options: { beforePut?: (path: string, simulator: Simulator) => void | Promise<void> } = {},
): Promise<SendFunction> {
  const simulator = await startSimulator({
    sender: SENDER,
    trustedCertificates: [certificateFingerprint(signer.material.certificate)],
    identity: transferPoint.material,
  });
  const table = await emulators.freshTable();
  const wired = wireSend(
    { emulators, bucket: BUCKET, table, simulator, identity: signer },
    { outboxPrefix: OUTBOX, beforePut: (path) => options.beforePut?.(path, simulator) },
  );
  cleanups.push(async () => {
    wired.aws.close();
    await simulator.stop();
  });
  return { ...wired, simulator, ledger: wired.ports.ledger };
}

/** Puts an object in the bucket and returns the notification body S3 would queue for it. */
async function dropInOutbox(key: string, content: string | Buffer): Promise<string> {
  const body = Buffer.from(content);
  const output = await emulators.s3.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }),
  );
  return s3CreatedBody(BUCKET, key, { eTag: output.ETag ?? '', size: body.length });
}

const dmfa = (workers: number) => sampleDmfaXml({ quarter: '20263', date: today, workers });
const setId = (seq: string, env: string) => `DMFA.${SENDER}.${today}.${seq}.${env}`;
const fileName = (prefix: 'FI' | 'FS', seq: string, env: string) =>
  `${prefix}.${setId(seq, env)}.1.1`;
const goName = (seq: string, env: string) => `GO.${setId(seq, env)}.1`;
const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
/** Names of the uploads that went through, in order. */
const completed = (puts: PutRecord[]) =>
  puts.filter((put) => put.ok).map((put) => baseName(put.path));

describe('send function on emulated AWS', () => {
  it('launches a declaration named by the rules: FI, FS and GO on the transfer point', async () => {
    // Prepare: an R declaration, so the set is signed (T and S sets are not, by default, and
    // the send function has no setting for it); the upload folder is kept before the GO.
    const snapshot = new Map<string, Buffer>();
    const fn = await sendFunction({
      beforePut: async (path, simulator) => {
        if (!baseName(path).startsWith('GO.')) return;
        for (const name of simulator.files('IN')) {
          snapshot.set(name, await readFile(simulator.pathOf('IN', name)));
        }
      },
    });
    const content = dmfa(3);
    const key = `${OUTBOX}${fileName('FI', '00001', 'R')}`;
    const body = await dropInOutbox(key, content);

    // Act
    const response = await processSendBatch(sqsBatch([{ id: 'm-1', body }]), fn.deps);

    // Assess: nothing to retry; the transfer point got the set and accepted it.
    expect(response).toEqual({ batchItemFailures: [] });
    const fi = fileName('FI', '00001', 'R');
    const fs = fileName('FS', '00001', 'R');
    expect(completed(fn.puts)).toEqual([fi, fs, goName('00001', 'R')]);
    expect([...snapshot.keys()].sort()).toEqual([fi, fs]);
    expect(snapshot.get(fi)?.toString('utf8')).toBe(content);
    const fiPath = join(scratch.dir, fi);
    const fsPath = join(scratch.dir, fs);
    writeFileSync(fiPath, snapshot.get(fi) ?? Buffer.alloc(0));
    writeFileSync(fsPath, snapshot.get(fs) ?? Buffer.alloc(0));
    const verdict = opensslVerify(fiPath, fsPath);
    expect(verdict).toMatchObject({ ok: true });
    const judgement = await fn.simulator.waitForJudgement((j) => j.goName === goName('00001', 'R'));
    expect(judgement).toMatchObject({ accepted: true, codes: [] });

    // The ledger on DynamoDB: launched, from this S3 object (identified by its ETag).
    const record = await fn.ledger.get(setId('00001', 'R'));
    expect(record).toMatchObject({
      state: 'launched',
      attempt: 1,
      source: { kind: 'object', id: `s3://${BUCKET}/${key}` },
    });
    expect(record?.source.version).toMatch(/^[0-9a-f]{32}$/);
    expect(record?.files.map((file) => file.name)).toEqual([fi, fs, goName('00001', 'R')]);

    // The launched event went to EventBridge and to SNS.
    const events = readEvents(fn.aws.putEvents());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'declaration.launched',
      source: EVENT_SOURCE,
      bus: AWS_NAMES.eventBus,
      detail: { declaration: setId('00001', 'R'), state: 'launched' },
    });
    const published = fn.aws.published();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      TopicArn: AWS_NAMES.topicArn,
      MessageAttributes: { type: { DataType: 'String', StringValue: 'declaration.launched' } },
    });
    expect(published[0]?.Subject).toContain(`${setId('00001', 'R')} launched`);

    // Metrics and secrets.
    expect(fn.metrics.sum(METRIC_NAMES.declarationsSent)).toBe(1);
    expect(fn.metrics.sum(METRIC_NAMES.bytesSent)).toBe(Buffer.byteLength(content));
    expect(fn.metrics.sum(METRIC_NAMES.partsSent)).toBe(1);
    expect(fn.metrics.points.map((point) => point.name)).toEqual(
      expect.arrayContaining([METRIC_NAMES.sendDuration, METRIC_NAMES.certificateDaysLeft]),
    );
    expect(fn.metrics.sum(METRIC_NAMES.certificateDaysLeft)).toBeGreaterThan(300);
    expect(fn.aws.secretReads().sort()).toEqual(
      [AWS_NAMES.serverSecretId, AWS_NAMES.signingSecretId].sort(),
    );
    expect(fn.log.lines.find((line) => line.message === 'launched')?.keys).toMatchObject({
      object: `s3://${BUCKET}/${key}`,
      declaration: setId('00001', 'R'),
    });
  });

  it('sends a twice-delivered S3 event once: the later deliveries are done, not failed', async () => {
    // Prepare
    const fn = await sendFunction();
    const key = `${OUTBOX}${fileName('FI', '00001', 'T')}`;
    const body = await dropInOutbox(key, dmfa(2));

    // Act: the same event twice in one batch, then once more in a later batch.
    const first = await processSendBatch(
      sqsBatch([
        { id: 'm-1', body },
        { id: 'm-2', body },
      ]),
      fn.deps,
    );
    const second = await processSendBatch(sqsBatch([{ id: 'm-3', body }]), fn.deps);

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(completed(fn.puts)).toEqual([fileName('FI', '00001', 'T'), goName('00001', 'T')]);
    expect(fn.puts.every((put) => put.ok)).toBe(true);
    await fn.simulator.waitForJudgement((j) => j.goName === goName('00001', 'T'));
    await fn.simulator.idle();
    expect(fn.simulator.judgements.map((j) => [j.goName, j.accepted])).toEqual([
      [goName('00001', 'T'), true],
    ]);
    expect(await fn.ledger.list()).toHaveLength(1);
    expect(await fn.ledger.get(setId('00001', 'T'))).toMatchObject({
      state: 'launched',
      attempt: 1,
    });
    expect(readEvents(fn.aws.putEvents()).map((event) => event.type)).toEqual([
      'declaration.launched',
    ]);
    expect(fn.metrics.sum(METRIC_NAMES.declarationsSent)).toBe(1);
    const nothingToDo = fn.log.lines.filter((line) => line.message.startsWith('nothing to do'));
    expect(nothingToDo).toHaveLength(2);
    expect(nothingToDo[0]?.extra).toMatchObject({ code: 'DUPLICATE_SOURCE' });
  });

  it('allocates the sequence from the ledger for the APP/ENV layout', async () => {
    // Prepare: keys with a space and parentheses, URL-encoded in the notifications.
    const fn = await sendFunction();
    const firstKey = `${OUTBOX}DMFA/T/quarter 3 (first).xml`;
    const secondKey = `${OUTBOX}DMFA/T/quarter 3 (second).xml`;
    const firstBody = await dropInOutbox(firstKey, dmfa(4));
    const secondBody = await dropInOutbox(secondKey, dmfa(5));
    expect(firstBody).toContain('quarter+3+%28first%29.xml');

    // Act: one object per batch, then the first one's event again.
    const responses = [
      await processSendBatch(sqsBatch([{ id: 'm-1', body: firstBody }]), fn.deps),
      await processSendBatch(sqsBatch([{ id: 'm-2', body: secondBody }]), fn.deps),
      await processSendBatch(sqsBatch([{ id: 'm-3', body: firstBody }]), fn.deps),
    ];

    // Assess
    expect(responses).toEqual([
      { batchItemFailures: [] },
      { batchItemFailures: [] },
      { batchItemFailures: [] },
    ]);
    const bySource = async (key: string) =>
      (await fn.ledger.list()).find((record) => record.source.id === `s3://${BUCKET}/${key}`);
    expect(await bySource(firstKey)).toMatchObject({
      id: setId('00001', 'T'),
      state: 'launched',
    });
    expect(await bySource(secondKey)).toMatchObject({
      id: setId('00002', 'T'),
      state: 'launched',
    });
    expect(await fn.ledger.list()).toHaveLength(2);
    expect(completed(fn.puts)).toEqual([
      fileName('FI', '00001', 'T'),
      goName('00001', 'T'),
      fileName('FI', '00002', 'T'),
      goName('00002', 'T'),
    ]);
    await fn.simulator.waitForJudgement((j) => j.goName === goName('00002', 'T'));
    expect(fn.simulator.judgements.every((j) => j.accepted)).toBe(true);
  });

  it('a send cut mid-upload goes back to the queue, and its redelivery completes the set', async () => {
    // Prepare: during the first delivery the transfer point cuts every FI upload after 64 KiB
    // (a real partial file stays on its disk); the GO-time listing is kept. The declaration is
    // far bigger than the cut, so the client is still writing when the data connection dies.
    const CUT_AT = 64 * 1024;
    let lineBroken = true;
    const atGo = new Map<string, number>();
    const fn = await sendFunction({
      beforePut: (path, simulator) => {
        const name = baseName(path);
        if (lineBroken && name.startsWith('FI.')) simulator.dropAfterBytes(CUT_AT);
        if (name.startsWith('GO.')) {
          for (const file of simulator.files('IN')) {
            atGo.set(file, statSync(simulator.pathOf('IN', file)).size);
          }
        }
      },
    });
    const content = dmfa(300);
    const key = `${OUTBOX}${fileName('FI', '00001', 'R')}`;
    const body = await dropInOutbox(key, content);
    const batch = sqsBatch([{ id: 'm-1', body }]);
    const fi = fileName('FI', '00001', 'R');
    const fs = fileName('FS', '00001', 'R');
    const go = goName('00001', 'R');

    // Act 1: the first delivery
    const first = await processSendBatch(batch, fn.deps);

    // Assess 1: returned to the queue; a partial FI on the server, no FS, no GO.
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(fn.puts.filter((put) => put.ok)).toEqual([]);
    expect(fn.puts.every((put) => baseName(put.path) === fi)).toBe(true);
    expect(fn.simulator.files('IN')).toEqual([fi]);
    expect(statSync(fn.simulator.pathOf('IN', fi)).size).toBe(CUT_AT);
    expect(await fn.ledger.get(setId('00001', 'R'))).toMatchObject({ state: 'uploading' });
    expect(fn.aws.putEvents()).toEqual([]);
    expect(fn.log.lines.some((line) => line.message.startsWith('send failed'))).toBe(true);
    expect(fn.log.lines.some((line) => line.message === 'retrying')).toBe(true);
    const failedPuts = fn.puts.length;

    // Act 2: the line is back; SQS delivers the message again.
    lineBroken = false;
    const second = await processSendBatch(batch, fn.deps);

    // Assess 2: one complete set, launched once, resumed under the same names.
    expect(second).toEqual({ batchItemFailures: [] });
    expect(completed(fn.puts.slice(failedPuts))).toEqual([fi, fs, go]);
    expect(fn.puts.slice(failedPuts).every((put) => put.ok)).toBe(true);
    expect([...atGo.entries()].sort()).toEqual(
      [
        [fi, Buffer.byteLength(content)],
        [fs, expect.any(Number)],
      ].sort(),
    );
    const judgement = await fn.simulator.waitForJudgement((j) => j.goName === go);
    expect(judgement).toMatchObject({ accepted: true });
    await fn.simulator.idle();
    expect(fn.simulator.judgements).toHaveLength(1);
    expect(await fn.ledger.get(setId('00001', 'R'))).toMatchObject({
      state: 'launched',
      attempt: 2,
    });
    const events = readEvents(fn.aws.putEvents());
    expect(events.map((event) => event.type)).toEqual(['declaration.launched']);
    expect(String(events[0]?.detail.message)).toContain('(resumed)');
  });

  it('a permanent reply mid-upload is final: the set fails once, is reported once with its id, and a redelivery sends nothing under a new name', async () => {
    // Prepare: a folder of part 2's name in the upload folder, so the transfer point's STOR of
    // that part gets a permanent refusal (550) after part 1 went through.
    const fn = await sendFunction({
      beforePut: (path, simulator) => {
        const name = baseName(path);
        if (name === `FI.${setId('00001', 'R')}.2.2`) mkdirSync(simulator.pathOf('IN', name));
      },
    });
    const content = dmfa(300);
    fn.deps.tuning = { partSize: Math.ceil(Buffer.byteLength(content) / 2) };
    const key = `${OUTBOX}${fileName('FI', '00001', 'R')}`;
    const batch = sqsBatch([{ id: 'm-1', body: await dropInOutbox(key, content) }]);

    // Act 1
    const first = await processSendBatch(batch, fn.deps);

    // Assess 1: not returned to the queue; the set failed, its part 1 removed, never launched.
    expect(first).toEqual({ batchItemFailures: [] });
    const records = await fn.ledger.list();
    expect(records).toMatchObject([{ id: setId('00001', 'R'), state: 'failed' }]);
    expect(completed(fn.puts).filter((name) => name.startsWith('GO.'))).toEqual([]);
    expect(fn.simulator.files('IN').filter((name) => name.endsWith('.2.1'))).toEqual([]);
    const events = readEvents(fn.aws.putEvents());
    expect(events).toMatchObject([
      { type: 'declaration.failed', detail: { declaration: setId('00001', 'R'), state: 'failed' } },
    ]);
    expect(fn.metrics.sum(METRIC_NAMES.declarationsRefused)).toBe(1);
    const putsAfterFirst = fn.puts.length;

    // Act 2: SQS delivers the same event again (a repeat, or a retry after a crash).
    const second = await processSendBatch(batch, fn.deps);

    // Assess 2: done, nothing uploaded, no new set or name, no second event.
    expect(second).toEqual({ batchItemFailures: [] });
    expect(fn.puts).toHaveLength(putsAfterFirst);
    expect((await fn.ledger.list()).map((record) => record.id)).toEqual([setId('00001', 'R')]);
    expect(readEvents(fn.aws.putEvents())).toHaveLength(1);
    expect(fn.simulator.judgements).toEqual([]);
  });

  it.each([
    {
      title: 'content that is not well-formed XML',
      name: () => fileName('FI', '00001', 'T'),
      content: '<?xml version="1.0" encoding="UTF-8"?>\n<DmfAOriginal><Form></DmfAOriginal>\n',
      code: 'ACRF-102',
      recorded: true,
    },
    {
      title: "a name with another sender's number",
      name: () => `FI.DMFA.654321.${today}.00001.T.1.1`,
      content: dmfa(1),
      code: 'ACRF-108',
      recorded: false,
    },
  ])('refuses $title: not retried, nothing launched, declaration.failed', async (row) => {
    // Prepare
    const fn = await sendFunction();
    const key = `${OUTBOX}${row.name()}`;
    const body = await dropInOutbox(key, row.content);

    // Act
    const response = await processSendBatch(sqsBatch([{ id: 'm-1', body }]), fn.deps);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(completed(fn.puts).filter((name) => name.startsWith('GO.'))).toEqual([]);
    expect(fn.simulator.files('INTEST')).toEqual([]);
    expect(fn.simulator.judgements).toEqual([]);
    const records = await fn.ledger.list();
    if (row.recorded) {
      expect(records).toMatchObject([{ state: 'failed', failure: { code: row.code } }]);
    } else {
      expect(records).toEqual([]);
      expect(fn.puts).toEqual([]);
    }
    const events = readEvents(fn.aws.putEvents());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'declaration.failed',
      detail: {
        state: 'failed',
        errors: [{ id: row.code }],
        files: [`s3://${BUCKET}/${key}`],
      },
    });
    expect(fn.aws.published()[0]?.Subject).toContain('not sent');
    expect(fn.metrics.sum(METRIC_NAMES.declarationsRefused)).toBe(1);
    expect(fn.metrics.sum(METRIC_NAMES.declarationsSent)).toBe(0);
  });

  it('returns messages that are not S3 events, and lets test events and other buckets pass', async () => {
    // Prepare
    const fn = await sendFunction();
    const otherBucket = s3CreatedBody('someone-elses-bucket', `${OUTBOX}x.xml`, {
      eTag: '0123',
      size: 10,
    });

    // Act
    const response = await processSendBatch(
      sqsBatch([
        { id: 'not-json', body: 'hello' },
        { id: 'not-s3', body: JSON.stringify({ Records: 'none' }) },
        { id: 'test-event', body: JSON.stringify({ Event: 's3:TestEvent', Bucket: BUCKET }) },
        { id: 'other-bucket', body: otherBucket },
      ]),
      fn.deps,
    );

    // Assess: the two unreadable messages go back (and to the DLQ after their retries).
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'not-json' }, { itemIdentifier: 'not-s3' }],
    });
    const errors = fn.log.lines.filter((line) => line.level === 'error');
    expect(errors.map((line) => line.message)).toEqual([
      'unreadable send queue message',
      'unreadable send queue message',
    ]);
    expect(errors[0]?.extra).toMatchObject({ code: 'QUEUE_MESSAGE' });
    expect(fn.log.lines.some((line) => line.message.includes('another bucket'))).toBe(true);
    expect(fn.puts).toEqual([]);
    expect(fn.aws.putEvents()).toEqual([]);
    expect(await fn.ledger.list()).toEqual([]);
  });
});

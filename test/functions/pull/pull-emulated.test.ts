/**
 * The pull function's work on emulated AWS: declarations sent by the send function's work
 * (same wiring, same DynamoDB ledger), judged and answered by the local transfer point, then
 * pulled by `runScheduledPull` into S3 (s3rver) under the responses prefix. Secrets Manager,
 * EventBridge and SNS are stubbed per client.
 */
import { readFileSync } from 'node:fs';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { EVENT_SOURCE, METRIC_NAMES } from '../../../functions/config/names';
import { runScheduledPull, type PullOutcome } from '../../../functions/pull/process';
import { processSendBatch } from '../../../functions/send/process';
import { sampleDmfaXml } from '../../../shared/demo/sample-dmfa';
import { todayInBrussels } from '../../../shared/names';
import {
  certificateFingerprint,
  startSimulator,
  type Judgement,
  type Simulator,
} from '../../../transfer-point';
import { makeIdentity, type Identity } from '../../helpers/pki';
import {
  AWS_NAMES,
  SENDER,
  readEvents,
  s3CreatedBody,
  sqsBatch,
  startEmulators,
  wirePull,
  wireSend,
  type Emulators,
  type FunctionSite,
  type WiredPull,
} from '../helpers/emulated-aws';

const BUCKET = 'onss-transfer-data';
const OUTBOX = 'outbox/';
const today = todayInBrussels();

let emulators: Emulators;
let signer: Identity;
let transferPoint: Identity;
const cleanups: Array<() => Promise<void> | void> = [];

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
});

/** A transfer point that notifies accepted sets quickly, and a fresh ledger table. */
async function freshSite(): Promise<FunctionSite> {
  const simulator = await startSimulator({
    sender: SENDER,
    trustedCertificates: [certificateFingerprint(signer.material.certificate)],
    identity: transferPoint.material,
    notificationDelayMs: 50,
  });
  cleanups.push(() => simulator.stop());
  const table = await emulators.freshTable();
  return { emulators, bucket: BUCKET, table, simulator, identity: signer };
}

/** A pull function container on the site; its clients are closed after the test. */
function pullFunction(
  site: FunctionSite,
  options: { responsesPrefix: string; owner: string },
): WiredPull {
  const wired = wirePull(site, { ...options, environments: 'T' });
  cleanups.push(() => wired.aws.close());
  return wired;
}

/** Resolves once the transfer point wrote the NOTIFICATION of the set launched by `go`. */
async function notificationOf(simulator: Simulator, go: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = simulator.notifications.find((notification) => notification.goName === go);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no notification for ${go} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let sent = 0;
/**
 * Sends one declaration through the send function's work (an object in `outbox/DMFA/T/`, its
 * S3 event on the queue), then waits for the transfer point's ACRF and NOTIFICATION.
 */
async function sendAndGetAnswered(
  site: FunctionSite,
): Promise<{ setId: string; judgement: Judgement }> {
  const send = wireSend(site, { outboxPrefix: OUTBOX });
  cleanups.push(() => send.aws.close());
  sent += 1;
  const key = `${OUTBOX}DMFA/T/declaration-${sent}.xml`;
  const content = Buffer.from(sampleDmfaXml({ quarter: '20263', date: today, workers: 2 + sent }));
  const put = await emulators.s3.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: content }),
  );
  const body = s3CreatedBody(BUCKET, key, { eTag: put.ETag ?? '', size: content.length });
  const response = await processSendBatch(sqsBatch([{ id: `send-${sent}`, body }]), send.deps);
  expect(response).toEqual({ batchItemFailures: [] });
  const record = (await send.ports.ledger.list()).find(
    (declaration) => declaration.source.id === `s3://${BUCKET}/${key}`,
  );
  const go = record?.files.find((file) => file.role === 'GO')?.name ?? '';
  expect(record?.state).toBe('launched');
  const judgement = await site.simulator.waitForJudgement((j) => j.goName === go);
  expect(judgement.accepted).toBe(true);
  await notificationOf(site.simulator, go);
  await site.simulator.idle();
  return { setId: record?.id ?? '', judgement };
}

/** Keys under a prefix of the bucket. */
async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await emulators.s3.client.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }),
  );
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

async function objectText(key: string): Promise<string> {
  const output = await emulators.s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await output.Body?.transformToString('latin1')) ?? '';
}

const ANSWER_KEY = /^(answers|responses)\/T\/\d{8}\/(ACRF|NOTI)\/(FO|FS|GO)\.(ACRF|NOTI)\.999999\./;

describe('pull function on emulated AWS', () => {
  it('stores the answers under the responses prefix, ties them and empties the folder', async () => {
    // Prepare: one declaration sent, acknowledged and notified; the answers as on the server.
    const site = await freshSite();
    const { setId, judgement } = await sendAndGetAnswered(site);
    const onServer = new Map(
      site.simulator
        .files('OUTTEST')
        .map((name) => [name, readFileSync(site.simulator.pathOf('OUTTEST', name), 'latin1')]),
    );
    expect(onServer.size).toBe(6);
    const pull = pullFunction(site, { responsesPrefix: 'answers/', owner: 'request-1' });
    emulators.resetS3Puts();

    // Act
    const outcome = await runScheduledPull(pull.deps);

    // Assess: both sets pulled and deleted from the server.
    expect(outcome.status).toBe('pulled');
    const report = outcome.status === 'pulled' ? outcome.report : undefined;
    expect(report?.failed).toEqual([]);
    expect(
      report?.sets.map((set) => [set.id.split('.')[0], set.stored, set.deleted]).sort(),
    ).toEqual([
      ['ACRF', true, true],
      ['NOTI', true, true],
    ]);
    expect(site.simulator.files('OUTTEST')).toEqual([]);

    // In S3 under the prefix (the core's `responses/` mapped to `answers/`), byte for byte.
    const stored = await keysUnder('answers/');
    expect(stored).toHaveLength(6);
    for (const key of stored) {
      expect(key).toMatch(ANSWER_KEY);
      const name = key.slice(key.lastIndexOf('/') + 1);
      expect(await objectText(key)).toBe(onServer.get(name));
    }
    expect(await keysUnder('responses/')).toEqual([]);
    expect(emulators.s3Puts().sort()).toEqual(stored);

    // The ledger ties the answers to the declaration.
    const ledger = pull.ports.ledger;
    expect(await ledger.get(setId)).toMatchObject({
      state: 'notified',
      acknowledgement: { accepted: true },
    });
    expect((await ledger.get(setId))?.tickets).toContain(judgement.ticket);
    const responses = await ledger.listResponses();
    expect(
      responses.map((response) => [response.type, response.state, response.declarationId]),
    ).toEqual(
      expect.arrayContaining([
        ['ACRF', 'deleted', setId],
        ['NOTI', 'deleted', setId],
      ]),
    );
    expect(responses).toHaveLength(2);

    // The events went to EventBridge (and SNS), naming the stored copies.
    const events = readEvents(pull.aws.putEvents());
    expect(events.map((event) => event.type).sort()).toEqual([
      'declaration.acknowledged',
      'declaration.notified',
    ]);
    const acknowledged = events.find((event) => event.type === 'declaration.acknowledged');
    expect(acknowledged).toMatchObject({
      source: EVENT_SOURCE,
      bus: AWS_NAMES.eventBus,
      detail: { declaration: setId, state: 'acknowledged', ticket: judgement.ticket },
    });
    const files = acknowledged?.detail.files as string[];
    expect(files).toHaveLength(3);
    expect(files.every((file) => file.startsWith(`s3://${BUCKET}/answers/T/`))).toBe(true);
    expect(pull.aws.published()).toHaveLength(2);

    // Metrics: one successful run, the answers counted by result, the certificate's days.
    expect(pull.metrics.sum(METRIC_NAMES.pullSuccess)).toBe(1);
    expect(pull.metrics.sum(METRIC_NAMES.certificateDaysLeft)).toBeGreaterThan(300);
    expect([...pull.answers].sort()).toEqual(['acknowledged', 'notified']);

    // The lease was released: the next run is not skipped and finds nothing to do.
    const next = await runScheduledPull(pull.deps);
    expect(next).toMatchObject({ status: 'pulled', report: { sets: [], failed: [] } });
    expect(emulators.s3Puts()).toHaveLength(6);
  });

  it('two overlapping runs: one pulls, the other is skipped; nothing is stored twice', async () => {
    // Prepare: two containers, two request ids, one ledger and one transfer point.
    const site = await freshSite();
    const { setId } = await sendAndGetAnswered(site);
    const first = pullFunction(site, { responsesPrefix: 'responses/', owner: 'request-a' });
    const second = pullFunction(site, { responsesPrefix: 'responses/', owner: 'request-b' });
    emulators.resetS3Puts();

    // Act
    const outcomes: PullOutcome[] = await Promise.all([
      runScheduledPull(first.deps),
      runScheduledPull(second.deps),
    ]);

    // Assess
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['pulled', 'skipped']);
    const pulled = outcomes.find((outcome) => outcome.status === 'pulled');
    expect(pulled?.status === 'pulled' && pulled.report.sets).toHaveLength(2);
    const [winner, loser] = outcomes[0]?.status === 'pulled' ? [first, second] : [second, first];
    expect(loser.log.lines.map((line) => line.message)).toContain(
      'skipped: another pull is running',
    );
    expect(loser.metrics.sum(METRIC_NAMES.pullSuccess)).toBe(0);
    expect(loser.aws.putEvents()).toEqual([]);
    expect(winner.metrics.sum(METRIC_NAMES.pullSuccess)).toBe(1);

    const puts = emulators.s3Puts();
    expect(puts).toHaveLength(6);
    expect(new Set(puts).size).toBe(6);
    expect(puts.every((key) => ANSWER_KEY.test(key) && key.startsWith('responses/T/'))).toBe(true);
    expect(await keysUnder(`responses/T/${today}/`)).toEqual([...puts].sort());
    expect(await winner.ports.ledger.listResponses()).toHaveLength(2);
    expect(
      readEvents(winner.aws.putEvents())
        .map((event) => event.type)
        .sort(),
    ).toEqual(['declaration.acknowledged', 'declaration.notified']);
    expect((await winner.ports.ledger.get(setId))?.state).toBe('notified');
    expect(site.simulator.files('OUTTEST')).toEqual([]);

    // The loser's next run takes the lease the winner released.
    expect(await runScheduledPull(loser.deps)).toMatchObject({ status: 'pulled' });
  });
});

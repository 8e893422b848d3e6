/**
 * Issue 8, "reliability proof": 50 concurrent deliveries of the same S3 event produce exactly
 * one send. Fifty send function containers, each wired as its handler wires it (its own SDK
 * clients, its own ledger adapter on the one DynamoDB table, its own connector), run the same
 * S3 notification at once, as SQS duplicates would arrive; the messages sent back, and those
 * put back on the queue because the channel's one send slot was taken, are redelivered until
 * none is. The transfer point must see one GO, each file once.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSBatchResponse } from 'aws-lambda';
import { METRIC_NAMES } from '../../../functions/config/names';
import { processSendBatch } from '../../../functions/send/process';
import { sampleDmfaXml } from '../../../shared/demo/sample-dmfa';
import { todayInBrussels } from '../../../shared/names';
import { certificateFingerprint, startSimulator, type Simulator } from '../../../transfer-point';
import { makeIdentity, type Identity } from '../../helpers/pki';
import {
  SENDER,
  readEvents,
  s3CreatedBody,
  sqsBatch,
  startEmulators,
  wireSend,
  type Emulators,
  type LogLine,
  type WiredSend,
} from '../helpers/emulated-aws';

const BUCKET = 'onss-outbox';
const OUTBOX = 'outbox/';
const CONTAINERS = 50;
/** Redelivery rounds after the first, at most: the test fails rather than loop for ever. */
const MAX_REDELIVERIES = 5;
const today = todayInBrussels();
const SET_ID = `DMFA.${SENDER}.${today}.00001.R`;
const FI = `FI.${SET_ID}.1.1`;
const FS = `FS.${SET_ID}.1.1`;
const GO = `GO.${SET_ID}.1`;

/** How one delivery ended, read from what its container logged for it. */
type Outcome = 'launched' | 'nothing to do' | 'retry' | 'waiting' | 'refused' | 'other';

/** The lines `processSendBatch` ends the handling of an object or a message with. */
const OUTCOME_MESSAGES: ReadonlyArray<[Outcome, (message: string) => boolean]> = [
  ['launched', (message) => message === 'launched'],
  ['nothing to do', (message) => message.startsWith('nothing to do')],
  ['retry', (message) => message === 'send failed: the message will be tried again'],
  ['waiting', (message) => message.startsWith('channel busy')],
  ['refused', (message) => message === 'refused: not sent'],
  ['other', (message) => message === 'unreadable send queue message'],
  ['other', (message) => message.startsWith('ignored')],
];

/** The outcome lines among `lines`, each as its outcome (progress lines left out). */
function outcomesOf(lines: readonly LogLine[]): Outcome[] {
  return lines.flatMap((line) => {
    const known = OUTCOME_MESSAGES.find(([, test]) => test(line.message));
    return known === undefined ? [] : [known[0]];
  });
}

/** One delivery of a round: which message, to which container, and how it ended. */
interface Delivery {
  id: string;
  container: WiredSend;
  response: SQSBatchResponse;
  outcomes: Outcome[];
  /** What the container logged while handling it, for failure messages. */
  lines: LogLine[];
}

let emulators: Emulators;
let signer: Identity;
let transferPoint: Identity;

beforeAll(async () => {
  [emulators, signer, transferPoint] = await Promise.all([
    startEmulators(BUCKET),
    makeIdentity('rsa2048'),
    makeIdentity('rsa2048'),
  ]);
});
afterAll(async () => {
  await emulators?.close();
});

/** Delivers each message (the S3 event `body`) to its container, all at once. */
async function deliverAll(
  messages: ReadonlyArray<{ id: string; container: WiredSend }>,
  body: string,
): Promise<Delivery[]> {
  const marks = messages.map(({ container }) => container.log.lines.length);
  const responses = await Promise.all(
    messages.map(({ id, container }) => processSendBatch(sqsBatch([{ id, body }]), container.deps)),
  );
  return messages.map(({ id, container }, index) => {
    const lines = container.log.lines.slice(marks[index]);
    return {
      id,
      container,
      response: responses[index] as SQSBatchResponse,
      outcomes: outcomesOf(lines),
      lines,
    };
  });
}

/** Each delivery ended one way, and its batch response agrees with it. */
function expectConsistent(deliveries: readonly Delivery[]): void {
  for (const delivery of deliveries) {
    const summary = {
      id: delivery.id,
      outcomes: delivery.outcomes,
      failures: delivery.response.batchItemFailures,
      log: delivery.lines.map(
        (line) => `${line.level} ${line.message} ${JSON.stringify(line.extra)}`,
      ),
    };
    expect(summary).toEqual({
      ...summary,
      outcomes: [expect.stringMatching(/^(launched|nothing to do|retry|waiting)$/)],
      failures:
        delivery.outcomes[0] === 'retry' ? [{ itemIdentifier: delivery.id }] : ([] as unknown[]),
    });
  }
}

const count = (deliveries: readonly Delivery[], outcome: Outcome): number =>
  deliveries.filter((delivery) => delivery.outcomes.includes(outcome)).length;

describe('send function: concurrent deliveries of one S3 event', () => {
  let simulator: Simulator | undefined;
  let containers: WiredSend[] = [];

  afterEach(async () => {
    for (const container of containers) container.aws.close();
    containers = [];
    await simulator?.stop();
  });

  it(`${CONTAINERS} containers handling the same event at once launch the declaration once`, async () => {
    // Prepare: one transfer point, one ledger table, 50 containers wired as the handler does.
    simulator = await startSimulator({
      sender: SENDER,
      trustedCertificates: [certificateFingerprint(signer.material.certificate)],
      identity: transferPoint.material,
    });
    const table = await emulators.freshTable();
    const site = { emulators, bucket: BUCKET, table, simulator, identity: signer };
    containers = Array.from({ length: CONTAINERS }, () => wireSend(site, { outboxPrefix: OUTBOX }));
    const key = `${OUTBOX}${FI}`;
    const content = Buffer.from(sampleDmfaXml({ quarter: '20263', date: today, workers: 3 }));
    const output = await emulators.s3.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: content }),
    );
    const body = s3CreatedBody(BUCKET, key, { eTag: output.ETag ?? '', size: content.length });
    const messages = containers.map((container, index) => ({ id: `m-${index + 1}`, container }));
    const allPuts = () => containers.flatMap((container) => container.puts);

    // Act: every container gets its own copy of the event at the same moment.
    const first = await deliverAll(messages, body);

    // Assess, safety first: one GO reached the transfer point, each file went up once (no
    // upload was even attempted twice), and the ledger holds one launched record.
    await simulator.idle();
    expect(simulator.judgements.map((j) => [j.goName, j.accepted])).toEqual([[GO, true]]);
    const uploads = () =>
      allPuts().map((put) => [put.path.slice(put.path.lastIndexOf('/') + 1), put.ok]);
    expect(uploads()).toEqual([
      [FI, true],
      [FS, true],
      [GO, true],
    ]);
    const ledger = containers[0]?.ports.ledger;
    expect(await ledger?.list()).toMatchObject([{ id: SET_ID, state: 'launched' }]);
    expect(count(first, 'launched')).toBe(1);

    // Assess: the containers that found the channel's one slot taken put their message back
    // on the queue (a new message, delayed) rather than fail it.
    const waiting = first.filter((delivery) => delivery.outcomes.includes('waiting'));
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((delivery) => delivery.container.requeued.includes(body))).toBe(true);

    // Act: SQS brings back every message sent back or put back, until none is (bounded). A
    // message comes back to the container that had it; which one gets it does not matter here.
    const unsettled = (deliveries: readonly Delivery[]): Delivery[] =>
      deliveries.filter(
        (delivery) =>
          delivery.response.batchItemFailures.length > 0 || delivery.outcomes.includes('waiting'),
      );
    let failed = unsettled(first);
    const redeliveries: Delivery[] = [];
    for (let round = 1; round <= MAX_REDELIVERIES && failed.length > 0; round += 1) {
      const again = await deliverAll(
        failed.map(({ id, container }) => ({ id, container })),
        body,
      );
      redeliveries.push(...again);
      failed = unsettled(again);
    }

    // Assess: every message settled; the redeliveries found the set sent and uploaded nothing;
    // still one GO and one launched record.
    expect(failed.map((delivery) => delivery.id)).toEqual([]);
    expect(count(redeliveries, 'launched')).toBe(0);
    expect(uploads()).toHaveLength(3);
    await simulator.idle();
    expect(simulator.judgements.map((j) => [j.goName, j.accepted])).toEqual([[GO, true]]);
    expect(await ledger?.list()).toMatchObject([{ id: SET_ID, state: 'launched' }]);
    expect(await ledger?.get(SET_ID)).toMatchObject({
      state: 'launched',
      files: [{ name: FI }, { name: FS }, { name: GO }],
    });

    // Assess: every delivery but the launch ended as done ("nothing to do") or as a retry,
    // never as a refusal: the declaration was not refused, another container was sending it.
    expectConsistent(first);
    expectConsistent(redeliveries);
    const total = (name: string) =>
      containers.reduce((sum, container) => sum + container.metrics.sum(name), 0);
    expect(total(METRIC_NAMES.declarationsRefused)).toBe(0);
    expect(total(METRIC_NAMES.declarationsSent)).toBe(1);
    // One event, launched, on EventBridge and on SNS, over all containers.
    const events = containers.flatMap((container) => readEvents(container.aws.putEvents()));
    expect(events.map((event) => event.type)).toEqual(['declaration.launched']);
    expect(containers.flatMap((container) => container.aws.published())).toHaveLength(1);
  });
});

/**
 * A deployment of two named channels for the functions' work, run locally: each channel its
 * own sender and its own local transfer point (its own account), one ledger, a notifier that
 * keeps the events, an outbox folder whose files stand for the bucket's objects.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import {
  processSendBatch,
  type SendChannel,
  type SendDependencies,
} from '../../../functions/send/process';
import { createMemoryLedger, type Ledger } from '../../../shared/ledger';
import { memoryNotifier } from '../../../shared/notify';
import { openFileSource } from '../../../shared/send';
import { certificateFingerprint } from '../../../shared/signing/fingerprint';
import { startSimulator, type Simulator } from '../../../transfer-point';
import { simulatorConnector } from '../../hostile/helpers/corpus';
import { makeIdentity, scratchDir, type Identity } from '../../helpers/pki';
import {
  recordingLog,
  s3CreatedBody,
  sqsBatch,
  type LogLine,
  type MetricPoint,
} from './emulated-aws';

export const BUCKET = 'onss-channels';
export const OUTBOX = 'outbox/';

/** One channel of the site: its name, sender and transfer point. */
export interface SiteChannel {
  name: string;
  sender: string;
  simulator: Simulator;
}

/** The two channels' site. */
export interface ChannelSite {
  east: SiteChannel;
  west: SiteChannel;
  signer: Identity;
  /** The key both transfer points sign their answers with. */
  answers: Identity;
  /** Where the pulled answers are stored. */
  storeRoot: string;
  ledger: Ledger;
  notifier: ReturnType<typeof memoryNotifier>;
  log: ReturnType<typeof recordingLog>;
  /** Every metric put, with the channel it was put for (undefined: the function's own). */
  metrics: Array<MetricPoint & { channel?: string }>;
  /** Bodies handed to the queue again, with their delay. */
  requeued: Array<{ body: string; delaySeconds: number }>;
  /** Writes an outbox object and returns the body of its S3 event. */
  drop(key: string, content: string): string;
  /** The send function's dependencies over the two channels, with `changes` applied. */
  sendDeps(changes?: Partial<SendDependencies>): SendDependencies;
  /** Runs one message through the send function's work. */
  send(body: string, changes?: Partial<SendDependencies>): Promise<SQSBatchResponse>;
  /** The log lines so far. */
  lines(): LogLine[];
  stop(): Promise<void>;
}

/** Starts the two transfer points (senders 123456 and 654321) and the rest of the site. */
export async function startChannelSite(): Promise<ChannelSite> {
  const signer = await makeIdentity('ec256');
  const answers = await makeIdentity('ec256');
  const start = (sender: string) =>
    startSimulator({
      sender,
      trustedCertificates: [certificateFingerprint(signer.material.certificate)],
      identity: answers.material,
    });
  const [eastPoint, westPoint] = await Promise.all([start('123456'), start('654321')]);
  const east = { name: 'east', sender: '123456', simulator: eastPoint };
  const west = { name: 'west', sender: '654321', simulator: westPoint };
  const scratch = scratchDir('onss-channels-');
  const ledger = createMemoryLedger();
  const notifier = memoryNotifier();
  const log = recordingLog();
  const metrics: ChannelSite['metrics'] = [];
  const requeued: ChannelSite['requeued'] = [];
  const channel = (site: SiteChannel, maxSends = 1): SendChannel => ({
    name: site.name,
    sender: site.sender,
    maxSends,
    signingMaterial: async () => signer.material,
    connector: async () => simulatorConnector(site.simulator),
  });
  const sendDeps = (changes: Partial<SendDependencies> = {}): SendDependencies => ({
    config: { bucket: BUCKET, outboxPrefix: OUTBOX, signTest: false },
    channels: [channel(east), channel(west)],
    ledger,
    notifier,
    openSource: (ref) => openFileSource(join(scratch.dir, ref.key)),
    requeue: async (body, delaySeconds) => {
      requeued.push({ body, delaySeconds });
    },
    metricsFor: (name) => ({
      addMetric: (metric, unit, value) =>
        metrics.push({ name: metric, unit, value, channel: name }),
    }),
    log,
    metrics: {
      addMetric: (name, unit, value) => metrics.push({ name, unit, value }),
    },
    ...changes,
  });
  let messages = 0;
  return {
    east,
    west,
    signer,
    answers,
    storeRoot: join(scratch.dir, 'store'),
    ledger,
    notifier,
    log,
    metrics,
    requeued,
    drop(key, content) {
      const path = join(scratch.dir, key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      return s3CreatedBody(BUCKET, key, { eTag: `"${messages}"`, size: content.length });
    },
    sendDeps,
    send: (body, changes) => {
      messages += 1;
      return processSendBatch(sqsBatch([{ id: `m-${messages}`, body }]), sendDeps(changes));
    },
    lines: () => log.lines,
    async stop() {
      await Promise.all([eastPoint.stop(), westPoint.stop()]);
      scratch.cleanup();
    },
  };
}

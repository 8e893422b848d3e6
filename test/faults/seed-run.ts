/**
 * One seed of the fault runs: random declarations dropped in a local outbox, under the folder
 * of one of the seed's channels (two or three named channels on the local transfer point, each
 * its own account and sender; the one unnamed channel on vsftpd), their S3 events delivered to
 * the send function's work (`processSendBatch`) as SQS would (in any order, some twice, some at
 * the same time, again after each failure or crash, and again after the delay when the send
 * function put one back because its channel's send slots were all taken), an operator's cancel
 * dropped now and then for a set the ledger holds, scheduled pulls of every channel
 * (`runChannelPulls`, or one channel per invocation) in between, with faults on the network (a
 * fault proxy before each account) and crashes in the process (the crash switch) for a few
 * rounds, then rounds without faults until the system is quiet. Every "Lambda instance" is new:
 * its own ledger handle, connectors and crash switch, over the state that outlives it (the
 * ledger's data, the store's folder, the servers).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { runChannelPulls, type PullChannelPorts } from '../../functions/pull/process';
import {
  processSendBatch,
  type SendChannel,
  type SendDependencies,
} from '../../functions/send/process';
import type { Log } from '../../functions/observability';
import { createMemoryLedger, openSqliteLedger, type Ledger } from '../../shared/ledger';
import { todayInBrussels, type Environment } from '../../shared/names';
import { memoryNotifier, type Notifier, type TransferEvent } from '../../shared/notify';
import { openFileSource } from '../../shared/send';
import { sampleDmfaXml } from '../../shared/demo/sample-dmfa';
import type { SigningMaterial } from '../../shared/signing';
import { localFolderStore, type ObjectStore } from '../../shared/store';
import type { Transport, TransportConnector } from '../../shared/transport';
import { crashable, crashSwitch, type CrashSwitch } from './crash-switch';
import { startFaultProxy, type FaultProxy, type ProxyFault } from './fault-proxy';
import { checkInvariants, type CancelFacts, type SourceFacts, type Violation } from './invariants';
import { seededRandom, type Random } from './random';
import type { ChannelSpec, FaultTarget } from './servers';
import { storedCopies } from './store-scan';

const BUCKET = 'fault-runs';
const OUTBOX = 'outbox/';
const ROUND_MS = 6 * 60_000; // beyond the send lease (120 s) and the pull run lease below
const PULL_LEASE_MS = 5 * 60_000;
// A crashed send keeps its channel's slot until this ends: the rounds after get it back.
const SLOT_LEASE_MS = 3 * 60_000;
const FAULTY_ROUNDS = { min: 2, max: 4 };
const MAX_ROUNDS = 16;
const QUICK_RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };
const LIVE_STATES: readonly string[] = ['planned', 'uploading'];

/** What one seed did and found. */
export interface SeedOutcome {
  seed: number;
  server: string;
  channels: number;
  sources: number;
  /** Declarations dropped in a channel's folder with another channel's sender. */
  misplaced: number;
  parts: number;
  deliveries: number;
  duplicatesDelivered: number;
  concurrentDeliveries: number;
  /** Messages the send function put back because their channel's slots were all taken. */
  requeues: number;
  /** Operators' cancels dropped in the outbox. */
  cancels: number;
  pulls: number;
  crashes: string[];
  proxyFaults: string[];
  launched: number;
  failed: number;
  /** Sources whose set was cancelled (never launched). */
  cancelled: number;
  /** Cancels refused (the set launched, failed, unknown, or of another channel). */
  cancelsRefused: number;
  responses: number;
  violations: Violation[];
  /** Log lines of the instances, for a failing seed's report. */
  log: string[];
  durationMs: number;
}

/** The outcome of a seed before anything ran: every count zero. */
export function emptyOutcome(seed: number, server: string, log: string[]): SeedOutcome {
  return {
    seed,
    server,
    channels: 0,
    sources: 0,
    misplaced: 0,
    parts: 0,
    deliveries: 0,
    duplicatesDelivered: 0,
    concurrentDeliveries: 0,
    requeues: 0,
    cancels: 0,
    pulls: 0,
    crashes: [],
    proxyFaults: [],
    launched: 0,
    failed: 0,
    cancelled: 0,
    cancelsRefused: 0,
    responses: 0,
    violations: [],
    log,
    durationMs: 0,
  };
}

/** A queued SQS message: the S3 event of one source, or of one operator's cancel. */
interface Message {
  id: string;
  body: string;
  what: { kind: 'source' | 'cancel'; index: number };
}

/** One account of the seed: the server's side, the proxy before it, where its answers go. */
interface Account {
  target: FaultTarget;
  proxy: FaultProxy;
  /** The store's folder of this channel's answers (`responses/<channel>/`). */
  responsesRoot: string;
}

/** The fake clock every instance shares: rounds move it on, past the leases of crashed runs. */
interface Clock {
  now: () => Date;
  advance(ms: number): void;
}

function clockAtBrusselsMorning(): Clock {
  // 10:00 or 11:00 in Brussels today: sixteen rounds of six minutes stay on the same date.
  const day = todayInBrussels(new Date());
  let at = Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6)), 9);
  return {
    now: () => new Date(at),
    advance(ms) {
      at += ms;
    },
  };
}

function lineLog(lines: string[], instance: string): Log {
  const keys: Record<string, unknown> = {};
  const write =
    (level: string) =>
    (message: string, ...extra: Array<Record<string, unknown>>): void => {
      const all = Object.assign({}, keys, ...extra) as Record<string, unknown>;
      const details = Object.keys(all).length > 0 ? ` ${JSON.stringify(all)}` : '';
      lines.push(`${instance} ${level} ${message}${details}`);
    };
  return {
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    appendKeys: (attributes) => Object.assign(keys, attributes),
    removeKeys: (names) => {
      for (const name of names) delete keys[name];
    },
  };
}

/** The outbox folder of a channel: `outbox/<channel>/`, or `outbox/` for the unnamed one. */
function folderOf(channel: ChannelSpec): string {
  return `${OUTBOX}${channel.name === undefined ? '' : `${channel.name}/`}`;
}

/**
 * The random declarations of the seed, DmfA XML of random size, unique by a comment: one per
 * channel and sometimes a second in one of them (one to three for a single channel); now and
 * then one more dropped in a channel's folder under a name with another channel's sender,
 * which must be refused.
 */
function writeSources(
  rng: Random,
  seed: number,
  outboxRoot: string,
  date: string,
  channels: readonly ChannelSpec[],
): Array<SourceFacts & { key: string; partSize: number }> {
  const sources: Array<SourceFacts & { key: string; partSize: number }> = [];
  const add = (channel: ChannelSpec, sender: string, misplaced: boolean): void => {
    const index = sources.length;
    const env: Environment = rng.pick(['R', 'T', 'T', 'S']);
    const xml = sampleDmfaXml({ quarter: '20263', date, workers: rng.int(1, 250) }).replace(
      '\n',
      `\n<!-- fault run seed ${seed}, declaration ${index} -->\n`,
    );
    const bytes = Buffer.from(xml);
    const nparts = rng.int(1, 4);
    const partSize = Math.ceil(bytes.length / nparts);
    // Both outbox layouts: a name by the rules, or APP/ENV with the sequence from the ledger.
    // A misplaced one has a name by the rules: the other layout takes the folder's sender.
    const key =
      misplaced || rng.chance(0.3)
        ? `${folderOf(channel)}FI.DMFA.${sender}.${date}.${String(90_000 + index)}.${env}.1.1`
        : `${folderOf(channel)}DMFA/${env}/declaration-${index}.xml`;
    const path = join(outboxRoot, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    sources.push({
      index,
      key,
      path,
      object: `s3://${BUCKET}/${key}`,
      bytes,
      partSize,
      env,
      channel: channel.name,
      misplaced,
    });
  };
  if (channels.length === 1) {
    const [only] = channels as [ChannelSpec];
    for (let i = rng.int(1, 3); i > 0; i -= 1) add(only, only.sender, false);
  } else {
    for (const channel of channels) add(channel, channel.sender, false);
    if (rng.chance(0.4)) {
      const channel = rng.pick(channels);
      add(channel, channel.sender, false);
    }
  }
  if (channels.length > 1 && rng.chance(0.25)) {
    const [from, into] = rng.shuffle(channels) as [ChannelSpec, ChannelSpec];
    add(into, from.sender, true);
  }
  return sources;
}

function s3EventBody(key: string, size: number): string {
  const encoded = key
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  return JSON.stringify({
    Records: [
      {
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: BUCKET }, object: { key: encoded, size } },
      },
    ],
  });
}

function sqsEvent(message: Message): SQSEvent {
  return {
    Records: [
      {
        messageId: message.id,
        receiptHandle: randomUUID(),
        body: message.body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: '0',
          SenderId: 'fault-run',
          ApproximateFirstReceiveTimestamp: '0',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:fault-run',
        awsRegion: 'eu-west-1',
      },
    ],
  };
}

/** A few random network faults for the proxy, sized to what is about to flow. */
function proxyFaults(rng: Random, raw: boolean, largestPart: number): ProxyFault[] {
  const menu: Array<() => ProxyFault> = raw
    ? [
        () => ({ kind: 'refuse', connections: rng.int(1, 2) }),
        () => ({
          kind: 'cut',
          channel: 'control',
          direction: rng.pick(['up', 'down'] as const),
          afterBytes: rng.int(0, largestPart + 8_000),
        }),
        () => ({
          kind: 'stall',
          channel: 'control',
          direction: 'up',
          afterBytes: rng.int(0, largestPart + 8_000),
          forMs: 2_000,
        }),
        () => ({ kind: 'slow', bytesPerSecond: rng.int(100_000, 2_000_000), forMs: 800 }),
      ]
    : [
        () => ({ kind: 'refuse', connections: rng.int(1, 2) }),
        () => ({
          kind: 'cut',
          channel: 'control',
          direction: rng.pick(['up', 'down'] as const),
          afterBytes: rng.int(0, 1_500),
        }),
        () => ({
          kind: 'cut',
          channel: 'data',
          direction: 'up',
          afterBytes: rng.int(0, largestPart),
        }),
        () => ({ kind: 'cut', channel: 'data', direction: 'down', afterBytes: rng.int(0, 4_000) }),
        () => ({ kind: 'cut-overlapping' }),
        () => ({
          kind: 'stall',
          channel: rng.pick(['control', 'data'] as const),
          direction: rng.pick(['up', 'down'] as const),
          afterBytes: rng.int(0, 2_000),
          forMs: 2_000,
        }),
        () => ({ kind: 'slow', bytesPerSecond: rng.int(100_000, 2_000_000), forMs: 800 }),
        () => ({
          kind: 'reply',
          command: rng.pick([
            'STOR',
            'RETR',
            'LIST',
            'MLSD',
            'DELE',
            'SIZE',
            'EPSV',
            'RNFR',
            'TYPE',
          ]),
          code: rng.pick([421, 425, 426, 450, 451, 452] as const),
        }),
      ];
  return Array.from({ length: rng.int(0, 2) }, () => rng.pick(menu)());
}

/** The state that outlives instances: the ledger's data, the store's folder. */
interface Durable {
  /** A ledger handle for a new instance, and how to let go of it. */
  openLedger(): { ledger: Ledger; release: () => Promise<void> };
  storeRoot: string;
  events: TransferEvent[];
}

function durableState(
  rng: Random,
  root: string,
  clock: Clock,
): Durable & { close(): Promise<void> } {
  const events: TransferEvent[] = [];
  const storeRoot = join(root, 'store');
  mkdirSync(storeRoot);
  if (rng.chance(0.35)) {
    // A ledger file each instance opens on its own, as processes sharing it would.
    const path = join(root, 'ledger.sqlite');
    return {
      storeRoot,
      events,
      openLedger() {
        const ledger = openSqliteLedger(path, { now: clock.now });
        return { ledger, release: () => ledger.close() };
      },
      close: async () => undefined,
    };
  }
  // One in-memory ledger shared by every instance, as they share a DynamoDB table.
  const shared = createMemoryLedger({ now: clock.now });
  return {
    storeRoot,
    events,
    openLedger: () => ({ ledger: shared, release: async () => undefined }),
    close: () => shared.close(),
  };
}

/** The ports of one instance, every call a crash point; a connector per account. */
function instancePorts(
  durable: Durable,
  accounts: readonly Account[],
  crash: CrashSwitch,
  guard: (transport: Transport, account: Account) => Transport,
): {
  ledger: Ledger;
  notifier: Notifier;
  store: ObjectStore;
  connectors: TransportConnector[];
  release: () => Promise<void>;
} {
  const { ledger, release } = durable.openLedger();
  const notifier = memoryNotifier();
  const connectors = accounts.map((account) => {
    const at = account.target.channel.name === undefined ? '' : `@${account.target.channel.name}`;
    return crashable(account.target.connector(account.proxy.port), `connector${at}`, crash, {
      plain: ['describe'],
      wrapResult: {
        connect: (transport) =>
          crashable(guard(transport as Transport, account), `transport${at}`, crash, {
            always: ['close'],
          }),
      },
    });
  });
  return {
    ledger: crashable(ledger, 'ledger', crash, { always: ['close'] }),
    notifier: crashable(
      {
        notify: async (event: TransferEvent) => {
          await notifier.notify(event);
          durable.events.push(event);
        },
      },
      'notifier',
      crash,
    ),
    store: crashable(localFolderStore(durable.storeRoot), 'store', crash, { plain: ['locate'] }),
    connectors,
    release,
  };
}

/** Runs one seed against `targets` (one account per channel) and checks the invariants; never throws for a violation. */
export async function runSeed(
  seed: number,
  targets: readonly FaultTarget[],
  material: SigningMaterial,
  /** Where the instances log, line by line (the caller keeps it, to show a seed that hangs). */
  log: string[] = [],
): Promise<SeedOutcome> {
  const started = Date.now();
  const rng = seededRandom(seed);
  const root = mkdtempSync(
    join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `onss-faults-${seed}-`),
  );
  const clock = clockAtBrusselsMorning();
  const date = todayInBrussels(clock.now());
  const durable = durableState(rng, root, clock);
  const kind = targets[0]?.kind ?? 'simulator-ftp';
  const raw = kind === 'simulator-sftp';
  const accounts: Account[] = [];
  for (const target of targets) {
    accounts.push({
      target,
      proxy: await startFaultProxy({ targetPort: target.port, ftp: !raw }),
      responsesRoot: join(durable.storeRoot, 'responses', target.channel.name ?? ''),
    });
  }
  const channels = targets.map((target) => target.channel);
  const accountOf = (channel: string | undefined): Account =>
    accounts.find((account) => account.target.channel.name === channel) ?? (accounts[0] as Account);
  const sources = writeSources(rng, seed, root, date, channels);
  const cancels: CancelFacts[] = [];
  let cancelBudget = rng.chance(0.5) ? rng.int(1, 2) : 0;
  const largestPart = Math.max(...sources.map((source) => source.partSize));
  const outcome: SeedOutcome = {
    ...emptyOutcome(seed, kind, log),
    channels: channels.length,
    sources: sources.length,
    misplaced: sources.filter((source) => source.misplaced).length,
    parts: sources.reduce((sum, s) => sum + Math.ceil(s.bytes.length / s.partSize), 0),
  };
  // "A response is never deleted from the server before it is stored": checked at each DELE.
  const guard = (transport: Transport, account: Account): Transport =>
    guardDeletes(transport, account, outcome.violations);
  let instances = 0;
  // The queue of the next round: at first, the S3 event of every source.
  let queueNext: Message[] = sources.map((source) => ({
    id: randomUUID(),
    body: s3EventBody(source.key, source.bytes.length),
    what: { kind: 'source', index: source.index },
  }));
  // Messages the send function put back on the queue during the batch being delivered.
  let requeued: Message[] = [];

  const deliver = async (message: Message, crashAt: number | undefined): Promise<boolean> => {
    instances += 1;
    const name = `send#${instances}`;
    const crash = crashSwitch(crashAt);
    const ports = instancePorts(durable, accounts, crash, guard);
    const source = message.what.kind === 'source' ? sources[message.what.index] : undefined;
    // SQS SendMessage with a delay: the body comes back as a new message.
    const queue = crashable(
      {
        requeue: async (body: string): Promise<void> => {
          outcome.requeues += 1;
          requeued.push({ ...message, id: randomUUID(), body });
        },
      },
      'queue',
      crash,
    );
    const sendChannels: SendChannel[] = channels.map((channel, i) => ({
      ...(channel.name === undefined ? {} : { name: channel.name }),
      sender: channel.sender,
      maxSends: channel.maxSends,
      signingMaterial: async () => material,
      connector: async () => ports.connectors[i] as TransportConnector,
    }));
    const deps: SendDependencies = {
      config: { bucket: BUCKET, outboxPrefix: OUTBOX, signTest: true },
      channels: sendChannels,
      ledger: ports.ledger,
      notifier: ports.notifier,
      openSource: (ref) => openFileSource(join(root, ref.key)),
      requeue: (body) => queue.requeue(body),
      slotLeaseMs: SLOT_LEASE_MS,
      log: lineLog(log, name),
      metrics: { addMetric: () => undefined },
      metricsFor: () => ({ addMetric: () => undefined }),
      now: clock.now,
      tuning: { ...(source ? { partSize: source.partSize } : {}), retry: QUICK_RETRY },
    };
    outcome.deliveries += 1;
    try {
      const { batchItemFailures } = await processSendBatch(sqsEvent(message), deps);
      if (crash.crashedAt !== undefined) {
        outcome.crashes.push(`${name}: ${crash.crashedAt}`);
        log.push(`${name} crashed at ${crash.crashedAt}`);
        return false; // killed: no answer reaches the queue, the message comes back
      }
      return batchItemFailures.length === 0;
    } catch (error) {
      if (crash.crashedAt !== undefined) outcome.crashes.push(`${name}: ${crash.crashedAt}`);
      log.push(`${name} threw ${(error as Error).message}`);
      return false;
    } finally {
      await ports.release().catch(() => undefined);
    }
  };

  /** One pull invocation: every channel, or `only` that one. */
  const pull = async (
    crashAt: number | undefined,
    only: ChannelSpec | undefined,
  ): Promise<{ found: number }> => {
    instances += 1;
    const name = `pull#${instances}`;
    const crash = crashSwitch(crashAt);
    const ports = instancePorts(durable, accounts, crash, guard);
    const pullChannels: PullChannelPorts[] = channels.map((channel, i) => ({
      ...(channel.name === undefined ? {} : { name: channel.name }),
      connector: async () => ports.connectors[i] as TransportConnector,
      signingMaterial: async () => material,
    }));
    outcome.pulls += 1;
    try {
      const results = await runChannelPulls(
        {
          environments: ['R', 'T', 'S'],
          ledger: ports.ledger,
          store: ports.store,
          notifier: ports.notifier,
          log: lineLog(log, name),
          metrics: { addMetric: () => undefined },
          countAnswer: () => undefined,
          owner: name,
          leaseMs: PULL_LEASE_MS,
          now: clock.now,
        },
        pullChannels,
        {
          ...(only?.name === undefined ? {} : { only: only.name }),
          metricsFor: () => ({ addMetric: () => undefined }),
        },
      );
      if (crash.crashedAt !== undefined) throw new Error(`crashed at ${crash.crashedAt}`);
      let found = 0;
      for (const result of results) {
        if (result.status === 'pulled') {
          const { report } = result;
          found +=
            report.sets.length +
            report.failed.length +
            report.incomplete.length +
            report.foreign.length;
        } else found += 1;
      }
      return { found };
    } catch (error) {
      if (crash.crashedAt !== undefined) outcome.crashes.push(`${name}: ${crash.crashedAt}`);
      log.push(`${name} ended: ${(error as Error).message}`);
      return { found: 1 };
    } finally {
      await ports.release().catch(() => undefined);
    }
  };

  /**
   * An operator's cancel, now and then: for a set the ledger holds, mostly one not launched
   * yet (planned, or uploading after a crash), sometimes any (a launched one must be refused),
   * dropped in the set's channel folder or, rarely, another channel's (refused: that account
   * must not touch the set). Its message joins this round or the next.
   */
  const maybeCancel = async (pending: Message[]): Promise<void> => {
    if (cancelBudget === 0) return;
    const inspector = durable.openLedger();
    let records;
    try {
      records = await inspector.ledger.list();
    } finally {
      await inspector.release();
    }
    const live = records.filter((record) => LIVE_STATES.includes(record.state));
    const record =
      live.length > 0 && rng.chance(0.75)
        ? rng.pick(live)
        : records.length > 0 && rng.chance(0.08)
          ? rng.pick(records)
          : undefined;
    if (record === undefined) return;
    cancelBudget -= 1;
    const others = channels.filter((channel) => channel.name !== record.channel);
    const wrongChannel = others.length > 0 && rng.chance(0.15);
    const folder = wrongChannel ? rng.pick(others) : accountOf(record.channel).target.channel;
    const key = `${folderOf(folder)}cancel/${record.id}`;
    mkdirSync(dirname(join(root, key)), { recursive: true });
    writeFileSync(join(root, key), '');
    const index = cancels.length;
    cancels.push({
      index,
      key,
      object: `s3://${BUCKET}/${key}`,
      declaration: record.id,
      stateWhenDropped: record.state,
      channel: folder.name,
      wrongChannel,
    });
    outcome.cancels += 1;
    log.push(
      `cancel ${index}: ${key} (the set is ${record.state}${wrongChannel ? ", in another channel's folder" : ''})`,
    );
    const message: Message = {
      id: randomUUID(),
      body: s3EventBody(key, 0),
      what: { kind: 'cancel', index },
    };
    if (rng.chance(0.5)) pending.splice(rng.int(0, pending.length), 0, message);
    else queueNext.push(message);
  };

  const channelOf = (message: Message): string | undefined =>
    message.what.kind === 'source'
      ? sources[message.what.index]?.channel
      : cancels[message.what.index]?.channel;

  try {
    const faultyRounds = rng.int(FAULTY_ROUNDS.min, FAULTY_ROUNDS.max);
    let quiet = false;
    for (let round = 0; round < MAX_ROUNDS && !quiet; round += 1) {
      const faulty = round < faultyRounds;
      const pending = rng.shuffle(queueNext);
      queueNext = [];
      // A body put back once this round comes back in the next: the slot it waits for may be
      // held by a crashed send until the clock moves on.
      const backThisRound = new Set<string>();
      while (pending.length > 0) {
        const together =
          faulty && pending.length >= 2 && rng.chance(0.4)
            ? rng.int(2, Math.min(3, pending.length))
            : 1;
        const batch = pending.splice(0, together);
        // S3 may notify twice: a copy of a message joins the queue, now or later.
        if (faulty && rng.chance(0.25)) {
          const copy = { ...(batch[0] as Message), id: randomUUID() };
          outcome.duplicatesDelivered += 1;
          if (rng.chance(0.5)) batch.push(copy);
          else queueNext.push(copy);
        }
        if (batch.length > 1) outcome.concurrentDeliveries += batch.length;
        if (faulty) {
          // Each fault before the account of one of the batch's channels.
          const hit = batch.map((message) => accountOf(channelOf(message)));
          for (const fault of proxyFaults(rng, raw, largestPart)) rng.pick(hit).proxy.arm(fault);
        }
        requeued = [];
        const results = await Promise.all(
          batch.map((message) =>
            deliver(message, faulty && rng.chance(0.35) ? rng.int(1, 70) : undefined),
          ),
        );
        batch.forEach((message, i) => {
          if (!results[i]) queueNext.push(message);
        });
        for (const message of requeued) {
          if (!backThisRound.has(message.body) && rng.chance(0.5)) {
            backThisRound.add(message.body);
            pending.splice(rng.int(0, pending.length), 0, message);
          } else queueNext.push(message);
        }
        for (const account of accounts) account.proxy.clear();
        log.push(`round ${round}: settling after ${batch.length} deliveries`);
        await settleAll(accounts);
        if (round <= faultyRounds) await maybeCancel(pending);
      }
      // Each channel pulled: by one invocation for all, or one invocation per channel.
      const invocations: Array<ChannelSpec | undefined> =
        channels.length > 1 && rng.chance(0.3) ? rng.shuffle(channels) : [undefined];
      if (faulty) {
        for (const fault of proxyFaults(rng, raw, 4_000)) rng.pick(accounts).proxy.arm(fault);
      }
      let found = 0;
      for (const only of invocations) {
        const crashAt = faulty && rng.chance(0.35) ? rng.int(1, 50) : undefined;
        const armed = accounts.map((account) => account.proxy.pending());
        log.push(
          `round ${round}: pulling ${only?.name ?? 'every channel'} (faults ${JSON.stringify(armed)}, crash at step ${crashAt})`,
        );
        found += (await pull(crashAt, only)).found;
      }
      for (const account of accounts) account.proxy.clear();
      log.push(`round ${round}: settling after the pull`);
      await settleAll(accounts);
      clock.advance(ROUND_MS);
      quiet =
        !faulty &&
        queueNext.length === 0 &&
        found === 0 &&
        accounts.every(({ target }) => {
          const left = target.leftovers();
          return left.responses.length === 0 && left.uploads.length === 0;
        });
    }
    outcome.proxyFaults = accounts.flatMap(({ target, proxy }) =>
      proxy.stats.fired.map((fault) =>
        target.channel.name === undefined ? fault : `${target.channel.name}: ${fault}`,
      ),
    );
    const inspector = durable.openLedger();
    try {
      const found = await checkInvariants({
        sources,
        cancels,
        accounts: accounts.map(({ target, responsesRoot }) => ({ target, responsesRoot })),
        ledger: inspector.ledger,
        events: durable.events,
        quiet,
        queueLeft: queueNext.length,
      });
      outcome.violations.push(...found.violations);
      outcome.launched = found.launched;
      outcome.failed = found.failed;
      outcome.cancelled = found.cancelled;
      outcome.cancelsRefused = found.cancelsRefused;
      outcome.responses = found.responses;
    } finally {
      await inspector.release();
    }
  } finally {
    for (const account of accounts) await account.proxy.close();
    await durable.close();
    rmSync(root, { recursive: true, force: true });
    outcome.durationMs = Date.now() - started;
  }
  return outcome;
}

/** Lets every account's server finish its work. */
async function settleAll(accounts: readonly Account[]): Promise<void> {
  for (const account of accounts) await account.target.settle();
}

/**
 * Checks, before each DELE of an answer file, that the store holds it with the same bytes
 * under the folder of the account's channel.
 */
function guardDeletes(transport: Transport, account: Account, violations: Violation[]): Transport {
  return {
    put: (source, path) => transport.put(source, path),
    size: (path) => transport.size(path),
    list: (folder) => transport.list(folder),
    get: (path, destination) => transport.get(path, destination),
    rename: (from, to) => transport.rename(from, to),
    close: () => transport.close(),
    async delete(path) {
      const name = basename(path);
      const folder = dirname(path).replace(/^\//, '');
      const answer = account.target.responses().find((r) => r.folder === folder && r.name === name);
      if (answer !== undefined && storedCopies(account.responsesRoot, name, answer.sha256) === 0) {
        violations.push({
          invariant: 'stored-before-deleted',
          detail: `${account.target.user}: ${path} was deleted from the server before the store held it`,
        });
      }
      return transport.delete(path);
    },
  };
}

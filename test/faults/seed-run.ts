/**
 * One seed of the fault runs: random declarations dropped in a local outbox, their S3 events
 * delivered to the send function's work (`processSendBatch`) as SQS would (in any order, some
 * twice, some at the same time, again after each failure or crash), scheduled pulls
 * (`runScheduledPull`) in between, with faults on the network (the fault proxy) and crashes in
 * the process (the crash switch) for a few rounds, then rounds without faults until the system
 * is quiet. Every "Lambda instance" is new: its own ledger handle, connector and crash switch,
 * over the state that outlives it (the ledger's data, the store's folder, the server).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { runScheduledPull } from '../../functions/pull/process';
import { processSendBatch, type SendDependencies } from '../../functions/send/process';
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
import { checkInvariants, type SourceFacts, type Violation } from './invariants';
import { seededRandom, type Random } from './random';
import { SENDER, type FaultTarget } from './servers';
import { storedCopies } from './store-scan';

const BUCKET = 'fault-runs';
const OUTBOX = 'outbox/';
const ROUND_MS = 6 * 60_000; // beyond the send lease (120 s) and the pull run lease below
const PULL_LEASE_MS = 5 * 60_000;
const FAULTY_ROUNDS = { min: 2, max: 4 };
const MAX_ROUNDS = 16;
const QUICK_RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };

/** What one seed did and found. */
export interface SeedOutcome {
  seed: number;
  server: string;
  sources: number;
  parts: number;
  deliveries: number;
  duplicatesDelivered: number;
  concurrentDeliveries: number;
  pulls: number;
  crashes: string[];
  proxyFaults: string[];
  launched: number;
  failed: number;
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
    sources: 0,
    parts: 0,
    deliveries: 0,
    duplicatesDelivered: 0,
    concurrentDeliveries: 0,
    pulls: 0,
    crashes: [],
    proxyFaults: [],
    launched: 0,
    failed: 0,
    responses: 0,
    violations: [],
    log,
    durationMs: 0,
  };
}

/** A queued SQS message: the S3 event of one source. */
interface Message {
  id: string;
  body: string;
  source: number;
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
  const write =
    (level: string) =>
    (message: string, ...extra: Array<Record<string, unknown>>): void => {
      const details = extra.length > 0 ? ` ${JSON.stringify(Object.assign({}, ...extra))}` : '';
      lines.push(`${instance} ${level} ${message}${details}`);
    };
  return {
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    appendKeys: () => undefined,
    removeKeys: () => undefined,
  };
}

/** A random declaration of the seed: DmfA XML of random size, unique by a comment. */
function writeSources(
  rng: Random,
  seed: number,
  outboxRoot: string,
  date: string,
): Array<SourceFacts & { key: string; partSize: number }> {
  const count = rng.int(1, 3);
  return Array.from({ length: count }, (_, index) => {
    const env: Environment = rng.pick(['R', 'T', 'T', 'S']);
    const xml = sampleDmfaXml({ quarter: '20263', date, workers: rng.int(1, 250) }).replace(
      '\n',
      `\n<!-- fault run seed ${seed}, declaration ${index} -->\n`,
    );
    const bytes = Buffer.from(xml);
    const nparts = rng.int(1, 4);
    const partSize = Math.ceil(bytes.length / nparts);
    // Both outbox layouts: a name by the rules, or APP/ENV with the sequence from the ledger.
    const key = rng.chance(0.3)
      ? `${OUTBOX}FI.DMFA.${SENDER}.${date}.${String(90_000 + index)}.${env}.1.1`
      : `${OUTBOX}DMFA/${env}/declaration-${index}.xml`;
    const path = join(outboxRoot, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    return { index, key, path, bytes, partSize, env };
  });
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

/** The ports of one instance, every call a crash point. */
function instancePorts(
  durable: Durable,
  target: FaultTarget,
  proxy: FaultProxy,
  crash: CrashSwitch,
  guard: (transport: Transport) => Transport,
): {
  ledger: Ledger;
  notifier: Notifier;
  store: ObjectStore;
  connector: () => Promise<TransportConnector>;
  release: () => Promise<void>;
} {
  const { ledger, release } = durable.openLedger();
  const notifier = memoryNotifier();
  const connector = crashable(target.connector(proxy.port), 'connector', crash, {
    plain: ['describe'],
    wrapResult: {
      connect: (transport) =>
        crashable(guard(transport as Transport), 'transport', crash, { always: ['close'] }),
    },
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
    connector: async () => connector,
    release,
  };
}

/** Runs one seed against `target` and checks the invariants; never throws for a violation. */
export async function runSeed(
  seed: number,
  target: FaultTarget,
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
  const raw = target.kind === 'simulator-sftp';
  const proxy = await startFaultProxy({ targetPort: target.port, ftp: !raw });
  const sources = writeSources(rng, seed, root, date);
  const largestPart = Math.max(...sources.map((source) => source.partSize));
  const outcome: SeedOutcome = {
    ...emptyOutcome(seed, target.kind, log),
    sources: sources.length,
    parts: sources.reduce((sum, s) => sum + Math.ceil(s.bytes.length / s.partSize), 0),
  };
  // "A response is never deleted from the server before it is stored": checked at each DELE.
  const guard = (transport: Transport): Transport =>
    guardDeletes(transport, target, durable.storeRoot, outcome.violations);
  let instances = 0;

  const deliver = async (message: Message, crashAt: number | undefined): Promise<boolean> => {
    instances += 1;
    const name = `send#${instances}`;
    const crash = crashSwitch(crashAt);
    const ports = instancePorts(durable, target, proxy, crash, guard);
    const source = sources[message.source];
    const deps: SendDependencies = {
      config: { bucket: BUCKET, outboxPrefix: OUTBOX, signTest: true },
      channels: [
        {
          sender: SENDER,
          maxSends: 1,
          signingMaterial: async () => material,
          connector: ports.connector,
        },
      ],
      ledger: ports.ledger,
      notifier: ports.notifier,
      openSource: (ref) => openFileSource(join(root, ref.key)),
      log: lineLog(log, name),
      metrics: { addMetric: () => undefined },
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

  const pull = async (crashAt: number | undefined): Promise<{ found: number }> => {
    instances += 1;
    const name = `pull#${instances}`;
    const crash = crashSwitch(crashAt);
    const ports = instancePorts(durable, target, proxy, crash, guard);
    outcome.pulls += 1;
    try {
      const result = await runScheduledPull({
        environments: ['R', 'T', 'S'],
        ledger: ports.ledger,
        store: ports.store,
        notifier: ports.notifier,
        connector: ports.connector,
        signingMaterial: async () => material,
        log: lineLog(log, name),
        metrics: { addMetric: () => undefined },
        countAnswer: () => undefined,
        owner: name,
        leaseMs: PULL_LEASE_MS,
        now: clock.now,
      });
      if (crash.crashedAt !== undefined) throw new Error(`crashed at ${crash.crashedAt}`);
      if (result.status === 'skipped') return { found: 1 };
      const { report } = result;
      return {
        found:
          report.sets.length +
          report.failed.length +
          report.incomplete.length +
          report.foreign.length,
      };
    } catch (error) {
      if (crash.crashedAt !== undefined) outcome.crashes.push(`${name}: ${crash.crashedAt}`);
      log.push(`${name} ended: ${(error as Error).message}`);
      return { found: 1 };
    } finally {
      await ports.release().catch(() => undefined);
    }
  };

  try {
    let queue: Message[] = sources.map((source) => ({
      id: randomUUID(),
      body: s3EventBody(source.key, source.bytes.length),
      source: source.index,
    }));
    const faultyRounds = rng.int(FAULTY_ROUNDS.min, FAULTY_ROUNDS.max);
    let quiet = false;
    for (let round = 0; round < MAX_ROUNDS && !quiet; round += 1) {
      const faulty = round < faultyRounds;
      const pending = rng.shuffle(queue);
      queue = [];
      while (pending.length > 0) {
        const together = faulty && pending.length >= 2 && rng.chance(0.3) ? 2 : 1;
        const batch = pending.splice(0, together);
        // S3 may notify twice: a copy of a message joins the queue, now or later.
        if (faulty && rng.chance(0.25)) {
          const copy = { ...(batch[0] as Message), id: randomUUID() };
          outcome.duplicatesDelivered += 1;
          if (rng.chance(0.5)) batch.push(copy);
          else queue.push(copy);
        }
        if (batch.length > 1) outcome.concurrentDeliveries += batch.length;
        if (faulty) for (const fault of proxyFaults(rng, raw, largestPart)) proxy.arm(fault);
        const results = await Promise.all(
          batch.map((message) =>
            deliver(message, faulty && rng.chance(0.35) ? rng.int(1, 70) : undefined),
          ),
        );
        batch.forEach((message, i) => {
          if (!results[i]) queue.push(message);
        });
        proxy.clear();
        log.push(`round ${round}: settling after ${batch.length} deliveries`);
        await target.settle();
      }
      if (faulty) for (const fault of proxyFaults(rng, raw, 4_000)) proxy.arm(fault);
      const crashAt = faulty && rng.chance(0.35) ? rng.int(1, 50) : undefined;
      log.push(
        `round ${round}: pulling (faults ${JSON.stringify(proxy.pending())}, crash at step ${crashAt})`,
      );
      const pulled = await pull(crashAt);
      proxy.clear();
      log.push(`round ${round}: settling after the pull`);
      await target.settle();
      clock.advance(ROUND_MS);
      const left = target.leftovers();
      quiet =
        !faulty &&
        queue.length === 0 &&
        pulled.found === 0 &&
        left.responses.length === 0 &&
        left.uploads.length === 0;
    }
    outcome.proxyFaults = [...proxy.stats.fired];
    const inspector = durable.openLedger();
    try {
      const found = await checkInvariants({
        sources,
        target,
        ledger: inspector.ledger,
        storeRoot: durable.storeRoot,
        quiet,
        queueLeft: queue.length,
      });
      outcome.violations.push(...found.violations);
      outcome.launched = found.launched;
      outcome.failed = found.failed;
      outcome.responses = found.responses;
    } finally {
      await inspector.release();
    }
  } finally {
    await proxy.close();
    await durable.close();
    rmSync(root, { recursive: true, force: true });
    outcome.durationMs = Date.now() - started;
  }
  return outcome;
}

/** Checks, before each DELE of an answer file, that the store holds it with the same bytes. */
function guardDeletes(
  transport: Transport,
  target: FaultTarget,
  storeRoot: string,
  violations: Violation[],
): Transport {
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
      const answer = target.responses().find((r) => r.folder === folder && r.name === name);
      if (answer !== undefined && storedCopies(storeRoot, name, answer.sha256) === 0) {
        violations.push({
          invariant: 'stored-before-deleted',
          detail: `${path} was deleted from the server before the store held it`,
        });
      }
      return transport.delete(path);
    },
  };
}

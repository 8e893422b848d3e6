/**
 * The emulator tier of the functions' tests: the send and pull work run in-process with the
 * real wiring (`commonPorts`) on SDK clients pointed at an S3 emulator (s3rver) and a DynamoDB
 * emulator (dynalite behind the TransactWriteItems front), with the three services that have
 * no emulator here (Secrets Manager, EventBridge, SNS) stubbed per client instance by
 * aws-sdk-client-mock. Everything listens on loopback only.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { S3EventRecord, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createLedgerTable } from '../../../functions/aws/ledger-table';
import {
  readPullConfig,
  readSendConfig,
  type PullConfig,
  type SendConfig,
} from '../../../functions/config/environment';
import { ENV_NAMES } from '../../../functions/config/names';
import type { Log, MetricSink, MetricUnitValue } from '../../../functions/observability';
import type { PullDependencies } from '../../../functions/pull/process';
import {
  commonPorts,
  pullPorts,
  sendPorts,
  type AwsClients,
  type CommonPorts,
  type PullPorts,
} from '../../../functions/runtime';
import type { SendDependencies } from '../../../functions/send/process';
import { formatSigningSecret } from '../../../shared/secrets';
import type { Simulator } from '../../../transfer-point';
import type { Transport, TransportConnector } from '../../../shared/transport';
import { startLocalDynamoDb, type LocalDynamoDb } from '../aws/helpers/local-dynamodb';
import { startLocalS3, type LocalS3 } from '../aws/helpers/local-s3';
import type { Identity } from '../../helpers/pki';

/** The sender number of the channel in these tests. */
export const SENDER = '123456';

const REGION = 'eu-west-1';
const DUMMY_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
// Where the stubbed services would go if a call slipped past the stub: a closed loopback port.
const NOWHERE = 'http://127.0.0.1:9';

/** Secret ids, bus and topic the function environments name. */
export const AWS_NAMES = {
  signingSecretId: 'onss-transfer/signing',
  serverSecretId: 'onss-transfer/server',
  eventBus: 'onss-transfer-events',
  topicArn: 'arn:aws:sns:eu-west-1:123456789012:onss-transfer',
} as const;

/** The two emulators of a test file. */
export interface Emulators {
  s3: LocalS3;
  dynamo: LocalDynamoDb;
  /** A new, empty ledger table; resolves with its name. */
  freshTable(): Promise<string>;
  /** PutObject commands the shared S3 client sent since the last reset (s3ObjectStore's puts). */
  s3Puts(): string[];
  resetS3Puts(): void;
  close(): Promise<void>;
}

/** Starts s3rver with `bucket` and dynalite, each on a random loopback port. */
export async function startEmulators(bucket: string): Promise<Emulators> {
  const [s3, dynamo] = await Promise.all([startLocalS3(bucket), startLocalDynamoDb()]);
  const admin = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: REGION,
    credentials: DUMMY_CREDENTIALS,
  });
  let puts: string[] = [];
  s3.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === PutObjectCommand.name) {
        puts.push(String((args.input as { Key?: unknown }).Key));
      }
      return next(args);
    },
    { step: 'initialize', name: 'countPutObject' },
  );
  let tables = 0;
  return {
    s3,
    dynamo,
    async freshTable() {
      tables += 1;
      const name = `ledger-${tables}`;
      await createLedgerTable(admin, name);
      return name;
    },
    s3Puts: () => [...puts],
    resetS3Puts: () => {
      puts = [];
    },
    async close() {
      admin.destroy();
      await Promise.all([s3.close(), dynamo.close()]);
    },
  };
}

/** The environment the stack gives a function, for `readSendConfig` / `readPullConfig`. */
export function functionEnvironment(args: {
  bucket: string;
  table: string;
  simulator: Simulator;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    [ENV_NAMES.bucket]: args.bucket,
    [ENV_NAMES.ledgerTable]: args.table,
    [ENV_NAMES.sender]: SENDER,
    [ENV_NAMES.host]: args.simulator.host,
    [ENV_NAMES.port]: String(args.simulator.port),
    [ENV_NAMES.protocol]: 'ftp',
    [ENV_NAMES.serverSecretId]: AWS_NAMES.serverSecretId,
    [ENV_NAMES.signingSecretId]: AWS_NAMES.signingSecretId,
    [ENV_NAMES.secretTtlSeconds]: '300',
    [ENV_NAMES.eventBus]: AWS_NAMES.eventBus,
    [ENV_NAMES.topicArn]: AWS_NAMES.topicArn,
    [ENV_NAMES.sendQueueUrl]: SEND_QUEUE_URL,
    ...args.extra,
  };
}

/** The send queue's URL in the functions' environment (nothing listens there). */
export const SEND_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/onss-transfer-send';

/** The SDK clients of one function container, and what its stubbed services were asked. */
export interface EmulatedClients {
  clients: AwsClients;
  /** Entries of every PutEvents call, in order. */
  putEvents(): PutEventsRequestEntry[];
  /** Inputs of every SNS Publish call, in order. */
  published(): PublishCommandInput[];
  /** Secret ids read from Secrets Manager, in order. */
  secretReads(): string[];
  close(): void;
}

/** The two secret values a function container reads, as Secrets Manager returns them. */
export interface FunctionSecrets {
  signing: string;
  server: string;
}

/**
 * Clients as `createAwsClients` makes them, but S3 and DynamoDB on the emulators, and Secrets
 * Manager, EventBridge and SNS pointed nowhere and stubbed: the signing secret holds the
 * identity as PEM, the server secret the simulator's user and password (or the values given).
 */
export function emulatedClients(
  emulators: Emulators,
  given: { identity: Identity; simulator: Simulator } | FunctionSecrets,
): EmulatedClients {
  const secrets: FunctionSecrets =
    'signing' in given
      ? given
      : {
          signing: formatSigningSecret({
            format: 'pem',
            privateKeyPem: given.identity.keyPem,
            certificatePem: given.identity.certPem,
          }),
          server: JSON.stringify({
            user: given.simulator.user,
            password: given.simulator.password,
          }),
        };
  const nowhere = { endpoint: NOWHERE, region: REGION, credentials: DUMMY_CREDENTIALS };
  const clients: AwsClients = {
    s3: emulators.s3.client,
    dynamodb: new DynamoDBClient({
      endpoint: emulators.dynamo.endpoint,
      region: REGION,
      credentials: DUMMY_CREDENTIALS,
    }),
    secrets: new SecretsManagerClient(nowhere),
    eventBridge: new EventBridgeClient(nowhere),
    sns: new SNSClient(nowhere),
    sqs: new SQSClient(nowhere),
  };
  const secretsMock = mockClient(clients.secrets);
  // Both secrets were last changed a day ago (the pull reports the server secret's age).
  secretsMock
    .on(DescribeSecretCommand)
    .resolves({ LastChangedDate: new Date(Date.now() - 86_400_000) });
  secretsMock.on(GetSecretValueCommand).rejects(
    Object.assign(new Error('Secrets Manager cannot find the specified secret.'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    }),
  );
  secretsMock
    .on(GetSecretValueCommand, { SecretId: AWS_NAMES.signingSecretId })
    .resolves({ SecretString: secrets.signing });
  secretsMock
    .on(GetSecretValueCommand, { SecretId: AWS_NAMES.serverSecretId })
    .resolves({ SecretString: secrets.server });
  const eventsMock = mockClient(clients.eventBridge);
  eventsMock
    .on(PutEventsCommand)
    .callsFake(() => ({ FailedEntryCount: 0, Entries: [{ EventId: randomUUID() }] }));
  const snsMock = mockClient(clients.sns);
  snsMock.on(PublishCommand).callsFake(() => ({ MessageId: randomUUID() }));
  return {
    clients,
    putEvents: () =>
      eventsMock.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []),
    published: () => snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input),
    secretReads: () =>
      secretsMock
        .commandCalls(GetSecretValueCommand)
        .map((call) => String(call.args[0].input.SecretId)),
    close() {
      secretsMock.restore();
      eventsMock.restore();
      snsMock.restore();
      clients.dynamodb.destroy();
      clients.secrets.destroy();
      clients.eventBridge.destroy();
      clients.sns.destroy();
      clients.sqs.destroy();
    },
  };
}

/** An event put to EventBridge, read back: its detail-type and its detail. */
export interface PutEvent {
  type: string | undefined;
  source: string | undefined;
  bus: string | undefined;
  detail: Record<string, unknown>;
}

/** The entries of PutEvents calls as `{ type, detail }`. */
export function readEvents(entries: PutEventsRequestEntry[]): PutEvent[] {
  return entries.map((entry) => ({
    type: entry.DetailType,
    source: entry.Source,
    bus: entry.EventBusName,
    detail: JSON.parse(entry.Detail ?? '{}') as Record<string, unknown>,
  }));
}

/** One line the function logged. */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  extra: Record<string, unknown>;
  keys: Record<string, unknown>;
}

/** A Log that keeps every line with the keys appended at the time. */
export function recordingLog(): Log & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  let keys: Record<string, unknown> = {};
  const write =
    (level: LogLine['level']) =>
    (message: string, ...extra: Array<Record<string, unknown>>): void => {
      lines.push({ level, message, extra: Object.assign({}, ...extra), keys: { ...keys } });
    };
  return {
    lines,
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    appendKeys(attributes) {
      keys = { ...keys, ...attributes };
    },
    removeKeys(names) {
      keys = Object.fromEntries(Object.entries(keys).filter(([name]) => !names.includes(name)));
    },
  };
}

/** One metric the function added. */
export interface MetricPoint {
  name: string;
  unit: MetricUnitValue;
  value: number;
}

/** A MetricSink that keeps every point. */
export function recordingMetrics(): MetricSink & {
  points: MetricPoint[];
  sum(name: string): number;
} {
  const points: MetricPoint[] = [];
  return {
    points,
    addMetric(name, unit, value) {
      points.push({ name, unit, value });
    },
    sum: (name) =>
      points.filter((point) => point.name === name).reduce((total, p) => total + p.value, 0),
  };
}

/** S3 notifications encode keys as an HTML form does: each segment escaped, spaces as `+`. */
export function notificationKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment)
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
        .replace(/%20/g, '+'),
    )
    .join('/');
}

/** The body S3 sends to the queue when an object is created (one record). */
export function s3CreatedBody(
  bucket: string,
  key: string,
  object: { eTag: string; size: number },
): string {
  const record: S3EventRecord = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: REGION,
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'outbox-created',
      bucket: {
        name: bucket,
        ownerIdentity: { principalId: 'EXAMPLE' },
        arn: `arn:aws:s3:::${bucket}`,
      },
      object: {
        key: notificationKey(key),
        size: object.size,
        eTag: object.eTag.replace(/"/g, ''),
        sequencer: Date.now().toString(16).toUpperCase(),
      },
    },
  };
  return JSON.stringify({ Records: [record] });
}

/** An SQS batch as the Lambda event source mapping delivers it. */
export function sqsBatch(messages: ReadonlyArray<{ id: string; body: string }>): SQSEvent {
  const now = String(Date.now());
  return {
    Records: messages.map(({ id, body }): SQSRecord => ({
      messageId: id,
      receiptHandle: `receipt-${id}-${randomUUID()}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: now,
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: now,
      },
      messageAttributes: {},
      md5OfBody: 'not-checked',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:onss-transfer-send',
      awsRegion: REGION,
    })),
  };
}

/** What an observed connector saw: each put by path, and whether it went through. */
export interface PutRecord {
  path: string;
  ok: boolean;
}

/**
 * Wraps the connector the wiring built, to watch the uploads without changing them: every put
 * is recorded with its outcome, and `beforePut` runs before each one (to snapshot the upload
 * folder before a GO, or to script the simulator for the next upload).
 */
export function observedConnector(
  inner: () => Promise<TransportConnector>,
  beforePut: (path: string) => void | Promise<void> = () => undefined,
): { connector: () => Promise<TransportConnector>; puts: PutRecord[] } {
  const puts: PutRecord[] = [];
  const wrap = (connector: TransportConnector): TransportConnector => ({
    describe: () => connector.describe(),
    async connect(): Promise<Transport> {
      const transport = await connector.connect();
      return {
        async put(source: Readable, path: string) {
          await beforePut(path);
          try {
            const bytes = await transport.put(source, path);
            puts.push({ path, ok: true });
            return bytes;
          } catch (error) {
            puts.push({ path, ok: false });
            throw error;
          }
        },
        size: (path) => transport.size(path),
        list: (folder) => transport.list(folder),
        get: (path, destination) => transport.get(path, destination),
        delete: (path) => transport.delete(path),
        rename: (from, to) => transport.rename(from, to),
        close: () => transport.close(),
      };
    },
  });
  return { connector: async () => wrap(await inner()), puts };
}

/** What every wired function has: its clients, ports and what it logged and counted. */
interface WiredFunction {
  aws: EmulatedClients;
  ports: CommonPorts;
  log: ReturnType<typeof recordingLog>;
  metrics: ReturnType<typeof recordingMetrics>;
}

/** Where a function runs: the emulators, its table and bucket, the transfer point, the signer. */
export interface FunctionSite {
  emulators: Emulators;
  bucket: string;
  table: string;
  simulator: Simulator;
  identity: Identity;
}

/** A send function container, wired as `functions/send/handler.ts` wires it. */
export interface WiredSend extends WiredFunction {
  config: SendConfig;
  deps: SendDependencies;
  /** Every upload the send made, by path, with its outcome. */
  puts: PutRecord[];
  /** The bodies put back on the queue (their channel had no free send slot), in order. */
  requeued: string[];
}

/**
 * The send function's dependencies as its handler builds them (configuration read from the
 * environment, `commonPorts`, `openS3Source`), with the connector observed.
 */
export function wireSend(
  site: FunctionSite,
  options: { outboxPrefix: string; beforePut?: (path: string) => void | Promise<void> },
): WiredSend {
  const config = readSendConfig(
    functionEnvironment({
      bucket: site.bucket,
      table: site.table,
      simulator: site.simulator,
      extra: { [ENV_NAMES.outboxPrefix]: options.outboxPrefix },
    }),
  );
  const aws = emulatedClients(site.emulators, site);
  const ports = commonPorts(config, aws.clients);
  const [channel] = ports.channels;
  if (channel === undefined) throw new Error('no channel configured');
  const observed = observedConnector(channel.connector, options.beforePut);
  const log = recordingLog();
  const metrics = recordingMetrics();
  const wired = sendPorts(config, aws.clients, ports);
  const requeued: string[] = [];
  const deps: SendDependencies = {
    ...wired,
    // The queue, recorded: a test delivers these bodies again when it means to.
    requeue: async (body) => {
      requeued.push(body);
    },
    channels: wired.channels.map((one) => ({ ...one, connector: observed.connector })),
    log,
    metrics,
  };
  return { config, aws, ports, deps, log, metrics, puts: observed.puts, requeued };
}

/** A pull function container, wired as `functions/pull/handler.ts` wires it. */
export interface WiredPull extends WiredFunction {
  config: PullConfig;
  deps: PullDependencies;
  /** The results `countAnswer` was given, in order. */
  answers: string[];
}

/**
 * The pull function's dependencies as its handler builds them: configuration from the
 * environment, `commonPorts`, the S3 store under the responses prefix; `owner` stands for the
 * Lambda request id.
 */
export function wirePull(
  site: FunctionSite,
  options: { responsesPrefix: string; environments: string; owner: string; leaseMs?: number },
): WiredPull {
  const config = readPullConfig(
    functionEnvironment({
      bucket: site.bucket,
      table: site.table,
      simulator: site.simulator,
      extra: {
        [ENV_NAMES.responsesPrefix]: options.responsesPrefix,
        [ENV_NAMES.environments]: options.environments,
      },
    }),
  );
  const aws = emulatedClients(site.emulators, site);
  const ports = commonPorts(config, aws.clients);
  const log = recordingLog();
  const metrics = recordingMetrics();
  const answers: string[] = [];
  const deps: PullDependencies = {
    ...onlyChannel(pullPorts(config, aws.clients, ports)),
    log,
    metrics,
    countAnswer: (result) => answers.push(result),
    owner: options.owner,
    leaseMs: options.leaseMs ?? 20 * 60_000,
  };
  return { config, aws, ports, deps, log, metrics, answers };
}

/**
 * The pull dependencies of a deployment's only channel, as `runChannelPulls` gives them to
 * `runScheduledPull`.
 */
export function onlyChannel(
  ports: PullPorts,
): Omit<PullDependencies, 'log' | 'metrics' | 'countAnswer' | 'owner' | 'leaseMs'> {
  const [channel, ...others] = ports.channels;
  if (channel === undefined || others.length > 0) throw new Error('not one channel');
  const { name, ...channelPorts } = channel;
  return { ...ports.base, ...channelPorts, ...(name === undefined ? {} : { channel: name }) };
}

/**
 * The functions' wiring for the leak test: SDK clients on the emulators (S3, DynamoDB) with
 * Secrets Manager holding the secret values a test chooses, and EventBridge and SNS stubbed and
 * recorded; the send and pull work wired as their handlers wire it, with Powertools' real logger
 * and metrics (not the recording ones of the other emulator tests).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { readPullConfig, readSendConfig } from '../../../functions/config/environment';
import { ENV_NAMES, METRIC_NAMES } from '../../../functions/config/names';
import { createLogger, createMetrics, MetricUnit } from '../../../functions/observability';
import type { PullDependencies } from '../../../functions/pull/process';
import { commonPorts, pullPorts, sendPorts, type AwsClients } from '../../../functions/runtime';
import type { SendDependencies } from '../../../functions/send/process';
import type { Simulator } from '../../../shared/simulator';
import {
  AWS_NAMES,
  functionEnvironment,
  type Emulators,
} from '../../functions/helpers/emulated-aws';

const REGION = 'eu-west-1';
const DUMMY_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const NOWHERE = 'http://127.0.0.1:9';

/** The two secret values a function container reads, as Secrets Manager would return them. */
export interface FunctionSecrets {
  signing: string;
  server: string;
}

/** A function container's clients and what its stubbed services were given. */
export interface StubbedAws {
  clients: AwsClients;
  /** Every PutEvents call's input, as JSON text. */
  putEventsText(): string;
  /** Every SNS Publish call's input, as JSON text. */
  publishedText(): string;
  /** How many events were put. */
  eventCount(): number;
  close(): void;
}

/** Clients on the emulators, with Secrets Manager answering `secrets` and the rest recorded. */
export function stubbedAws(emulators: Emulators, secrets: FunctionSecrets): StubbedAws {
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
  };
  const secretsMock = mockClient(clients.secrets);
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
  const putEvents = () =>
    eventsMock.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
  return {
    clients,
    putEventsText: () => JSON.stringify(putEvents()),
    publishedText: () =>
      JSON.stringify(snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input)),
    eventCount: () => putEvents().length,
    close() {
      secretsMock.restore();
      eventsMock.restore();
      snsMock.restore();
      clients.dynamodb.destroy();
      clients.secrets.destroy();
      clients.eventBridge.destroy();
      clients.sns.destroy();
    },
  };
}

/** Where a function runs: the emulators, its bucket and table, and the transfer point. */
export interface LeakSite {
  emulators: Emulators;
  bucket: string;
  table: string;
  simulator: Simulator;
  protocol: 'ftp' | 'sftp';
}

/** A wired function: its dependencies, its stubs, and the Powertools metrics to flush. */
export interface LeakFunction<D> {
  deps: D;
  aws: StubbedAws;
  /** Writes the stored metrics (EMF JSON on stdout), as the handler does after each run. */
  flushMetrics(): void;
}

function environment(site: LeakSite, extra: Record<string, string>): Record<string, string> {
  return functionEnvironment({
    bucket: site.bucket,
    table: site.table,
    simulator: site.simulator,
    extra: { [ENV_NAMES.protocol]: site.protocol, ...extra },
  });
}

/**
 * The send function's dependencies as `functions/send/handler.ts` builds them, with
 * Powertools' logger and metrics: its output goes to stdout, to be captured.
 */
export function leakSend(
  site: LeakSite,
  secrets: FunctionSecrets,
  outboxPrefix: string,
): LeakFunction<SendDependencies> {
  const config = readSendConfig(environment(site, { [ENV_NAMES.outboxPrefix]: outboxPrefix }));
  const aws = stubbedAws(site.emulators, secrets);
  const metrics = createMetrics();
  return {
    deps: { ...sendPorts(config, aws.clients), log: createLogger(), metrics },
    aws,
    flushMetrics: () => metrics.publishStoredMetrics(),
  };
}

/** The pull function's dependencies as `functions/pull/handler.ts` builds them. */
export function leakPull(
  site: LeakSite,
  secrets: FunctionSecrets,
  options: { responsesPrefix: string; environments: string; owner: string },
): LeakFunction<PullDependencies> {
  const config = readPullConfig(
    environment(site, {
      [ENV_NAMES.responsesPrefix]: options.responsesPrefix,
      [ENV_NAMES.environments]: options.environments,
    }),
  );
  const aws = stubbedAws(site.emulators, secrets);
  const metrics = createMetrics();
  const ports = commonPorts(config, aws.clients);
  return {
    deps: {
      ...pullPorts(config, aws.clients, ports),
      log: createLogger(),
      metrics,
      countAnswer: (result) => {
        const single = metrics.singleMetric();
        single.addDimension('result', result);
        single.addMetric(METRIC_NAMES.answers, MetricUnit.Count, 1);
      },
      owner: options.owner,
      leaseMs: 20 * 60_000,
    },
    aws,
    flushMetrics: () => metrics.publishStoredMetrics(),
  };
}

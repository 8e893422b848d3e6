/**
 * The functions' wiring for the leak test: SDK clients on the emulators (S3, DynamoDB) with
 * Secrets Manager holding the secret values a test chooses, and EventBridge and SNS stubbed and
 * recorded; the send and pull work wired as their handlers wire it, with Powertools' real logger
 * and metrics (not the recording ones of the other emulator tests).
 */
import { readPullConfig, readSendConfig } from '../../../functions/config/environment';
import { ENV_NAMES, METRIC_NAMES } from '../../../functions/config/names';
import { createLogger, createMetrics, MetricUnit } from '../../../functions/observability';
import type { PullDependencies } from '../../../functions/pull/process';
import { commonPorts, pullPorts, sendPorts, type AwsClients } from '../../../functions/runtime';
import type { SendDependencies } from '../../../functions/send/process';
export type { FunctionSecrets } from '../../functions/helpers/emulated-aws';
import type { Simulator } from '../../../transfer-point';
import {
  emulatedClients,
  functionEnvironment,
  onlyChannel,
  type Emulators,
  type FunctionSecrets,
} from '../../functions/helpers/emulated-aws';

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
  const aws = emulatedClients(emulators, secrets);
  return {
    clients: aws.clients,
    putEventsText: () => JSON.stringify(aws.putEvents()),
    publishedText: () => JSON.stringify(aws.published()),
    eventCount: () => aws.putEvents().length,
    close: () => aws.close(),
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
      ...onlyChannel(pullPorts(config, aws.clients, ports)),
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

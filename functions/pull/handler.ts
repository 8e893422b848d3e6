/**
 * The pull function: run by an EventBridge schedule, it pulls the configured response folders
 * into S3 under the run lease, ties the answers to their declarations and raises the events.
 * Thin: configuration and ports are built once per container, the work is `runScheduledPull`.
 */
import type { Context } from 'aws-lambda';
import { readPullConfig } from '../config/environment';
import { METRIC_NAMES } from '../config/names';
import { s3ObjectStore } from '../aws/s3-store';
import { createLogger, createMetrics, MetricUnit } from '../observability';
import { commonPorts, createAwsClients } from '../runtime';
import { runScheduledPull, type PullDependencies, type PullOutcome } from './process';
import { underResponsesPrefix } from './response-store';

const logger = createLogger();
const metrics = createMetrics();
let dependencies:
  Omit<PullDependencies, 'log' | 'metrics' | 'countAnswer' | 'owner' | 'leaseMs'> | undefined;

// A run lease outlasting the longest run: the Lambda timeout (15 min at most) plus a margin.
const PULL_LEASE_MS = 20 * 60_000;

function ready(): NonNullable<typeof dependencies> {
  if (dependencies === undefined) {
    const config = readPullConfig(process.env);
    const clients = createAwsClients();
    const ports = commonPorts(config, clients);
    dependencies = {
      environments: config.environments,
      ledger: ports.ledger,
      notifier: ports.notifier,
      connector: ports.connector,
      signingMaterial: ports.signingMaterial,
      store: underResponsesPrefix(
        s3ObjectStore({ client: clients.s3, bucket: config.bucket }),
        config.responsesPrefix,
      ),
    };
  }
  return dependencies;
}

/** The Lambda entry point. */
export async function handler(_event: unknown, context: Context): Promise<PullOutcome> {
  logger.addContext(context);
  try {
    return await runScheduledPull({
      ...ready(),
      log: logger,
      metrics,
      owner: context.awsRequestId,
      leaseMs: PULL_LEASE_MS,
      countAnswer: (result) => {
        const single = metrics.singleMetric();
        single.addDimension('result', result);
        single.addMetric(METRIC_NAMES.answers, MetricUnit.Count, 1);
      },
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}

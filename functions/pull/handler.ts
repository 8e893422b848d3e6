/**
 * The pull function: run by an EventBridge schedule, it pulls the configured response folders
 * into S3 under the run lease, ties the answers to their declarations and raises the events.
 * Thin: configuration and ports are built once per container, the work is `runScheduledPull`.
 */
import type { Context } from 'aws-lambda';
import { readPullConfig } from '../config/environment';
import { METRIC_NAMES } from '../config/names';
import { createLogger, createMetrics, MetricUnit } from '../observability';
import { createAwsClients, pullPorts, type PullPorts } from '../runtime';
import { runScheduledPull, type PullOutcome } from './process';

const logger = createLogger();
const metrics = createMetrics();
let ports: PullPorts | undefined;

/** A run lease outlasting the longest run: the Lambda timeout (15 min at most) and a margin. */
export const PULL_LEASE_MS = 20 * 60_000;

/** The Lambda entry point. */
export async function handler(_event: unknown, context: Context): Promise<PullOutcome> {
  logger.addContext(context);
  try {
    ports ??= pullPorts(readPullConfig(process.env), createAwsClients());
    return await runScheduledPull({
      ...ports,
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

/**
 * The pull function: run by an EventBridge schedule, it pulls the configured response folders
 * into S3 under the run lease, ties the answers to their declarations and raises the events.
 * A deployment of named channels has one schedule per channel, whose event names it
 * (`{ "channel": "east" }`): each channel is pulled by its own invocation, so one failing or
 * slow channel never stops another's. An event naming none pulls every channel in turn.
 * Thin: configuration and ports are built once per container, the work is `runChannelPulls`.
 */
import type { Context } from 'aws-lambda';
import { ConfigurationError, readPullConfig } from '../config/environment';
import { METRIC_NAMES } from '../config/names';
import { channelMetrics, createLogger, createMetrics, MetricUnit } from '../observability';
import { createAwsClients, pullPorts, type PullPorts } from '../runtime';
import { runChannelPulls, type ChannelPullOutcome } from './process';

const logger = createLogger();
const metrics = createMetrics();
let ports: PullPorts | undefined;

/** A run lease outlasting the longest run: the Lambda timeout (15 min at most) and a margin. */
export const PULL_LEASE_MS = 20 * 60_000;

/**
 * The channel a scheduled event names, if any (the rule's input `{ "channel": NAME }`). An event
 * whose `channel` is not a name is refused rather than read as "every channel".
 */
function channelOfEvent(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || !('channel' in event)) return undefined;
  const { channel } = event as { channel: unknown };
  if (typeof channel !== 'string') {
    throw new ConfigurationError([
      `the scheduled event's "channel" must be a channel name, not ${JSON.stringify(channel)}`,
    ]);
  }
  return channel;
}

/** The Lambda entry point. */
export async function handler(event: unknown, context: Context): Promise<ChannelPullOutcome[]> {
  logger.addContext(context);
  try {
    ports ??= pullPorts(readPullConfig(process.env), createAwsClients());
    const only = channelOfEvent(event);
    return await runChannelPulls(
      {
        ...ports.base,
        log: logger,
        metrics,
        owner: context.awsRequestId,
        leaseMs: PULL_LEASE_MS,
        countAnswer: (result) => {
          const single = metrics.singleMetric();
          single.addDimension('result', result);
          single.addMetric(METRIC_NAMES.answers, MetricUnit.Count, 1);
        },
      },
      ports.channels,
      {
        ...(only === undefined ? {} : { only }),
        metricsFor: (channel) => channelMetrics(metrics, channel),
      },
    );
  } finally {
    metrics.publishStoredMetrics();
  }
}

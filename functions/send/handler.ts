/**
 * The send function: an SQS batch of S3 "object created" events for the outbox, each
 * declaration sent once (the ledger on DynamoDB makes it so), through the channel its key
 * names, in one of that channel's send slots. Thin: configuration and ports are built once per
 * container, the work is `processSendBatch`.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readSendConfig } from '../config/environment';
import { channelMetrics, createLogger, createMetrics } from '../observability';
import { createAwsClients, sendPorts, type SendPorts } from '../runtime';
import { processSendBatch } from './process';

const logger = createLogger();
const metrics = createMetrics();
let ports: SendPorts | undefined;

/** The Lambda entry point. */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  try {
    // Built at the first invocation rather than at import, so a configuration error is logged
    // with the request it failed and the function's errors alarm sees it.
    ports ??= sendPorts(readSendConfig(process.env), createAwsClients());
    return await processSendBatch(event, {
      ...ports,
      log: logger,
      metrics,
      metricsFor: (channel) => channelMetrics(metrics, channel),
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}

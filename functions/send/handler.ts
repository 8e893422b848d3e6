/**
 * The send function: an SQS batch of S3 "object created" events for the outbox, each
 * declaration sent once (the ledger on DynamoDB makes it so). Thin: configuration and ports are
 * built once per container, the work is `processSendBatch`.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readSendConfig } from '../config/environment';
import { openS3Source } from '../aws/s3-source';
import { createLogger, createMetrics } from '../observability';
import { commonPorts, createAwsClients } from '../runtime';
import { processSendBatch, type SendDependencies } from './process';

const logger = createLogger();
const metrics = createMetrics();
let dependencies: Omit<SendDependencies, 'log' | 'metrics'> | undefined;

// Read at the first invocation rather than at import, so a configuration error is logged with
// the request it failed and the function's errors alarm sees it.
function ready(): Omit<SendDependencies, 'log' | 'metrics'> {
  if (dependencies === undefined) {
    const config = readSendConfig(process.env);
    const clients = createAwsClients();
    const ports = commonPorts(config, clients);
    dependencies = {
      config,
      ledger: ports.ledger,
      notifier: ports.notifier,
      signingMaterial: ports.signingMaterial,
      connector: ports.connector,
      openSource: (ref) => openS3Source({ client: clients.s3, ...ref }),
    };
  }
  return dependencies;
}

/** The Lambda entry point. */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  try {
    return await processSendBatch(event, { ...ready(), log: logger, metrics });
  } finally {
    metrics.publishStoredMetrics();
  }
}

/**
 * The send function's work for one SQS batch: each message names S3 objects in the outbox; each
 * is sent through the core's pipeline (`sendDeclaration`) with the ledger making it once only,
 * however often the message arrives. What a failure means is the core's decision
 * (`classifySendFailure`): a refused declaration raises `declaration.failed` and is not tried
 * again; one that may succeed later goes back to the queue (and, after a few tries, to the
 * dead-letter queue).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Ledger } from '../../shared/ledger';
import type { Notifier } from '../../shared/notify';
import {
  classifySendFailure,
  declarationFromOutboxKey,
  failedEvent,
  launchedEvent,
  notifyQuietly,
  sendDeclaration,
  type DeclarationSource,
  type SendEvent,
} from '../../shared/send';
import { operationOfOutboxKey } from '../../shared/operations';
import type { SigningMaterial } from '../../shared/signing';
import { summarizeCertificate } from '../../shared/signing/material';
import type { RetryOptions, TransportConnector } from '../../shared/transport';
import type { SendConfig } from '../config/environment';
import { METRIC_NAMES } from '../config/names';
import { describeError, MetricUnit, type Log, type MetricSink } from '../observability';
import { cancelFromOutbox, resendOrderFor } from './operations';
import { objectsOfMessage, type ObjectRef } from './s3-event';

/** The ports and settings the send function runs with. */
export interface SendDependencies {
  config: Pick<SendConfig, 'bucket' | 'outboxPrefix' | 'sender' | 'signTest'>;
  ledger: Ledger;
  notifier: Notifier;
  openSource(ref: ObjectRef): Promise<DeclarationSource>;
  signingMaterial(): Promise<SigningMaterial>;
  connector(): Promise<TransportConnector>;
  log: Log;
  metrics: MetricSink;
  now?: () => Date;
  /**
   * The part size and the upload retries, when not the transfer point's defaults: for tests
   * and the fault runs, which cut small declarations into several parts and wait little.
   */
  tuning?: { partSize?: number; retry?: Partial<RetryOptions> };
}

/**
 * Sends what each message of the batch names, one message after the other (reserved
 * concurrency, not the batch, sets how many sends reach the transfer point at once). Returns
 * the messages to try again, for SQS partial batch responses.
 */
export async function processSendBatch(
  event: SQSEvent,
  deps: SendDependencies,
): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const message of event.Records) {
    if (!(await processMessage(message.body, deps))) {
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures };
}

/** Sends every object a message names; false when the message must come back. */
async function processMessage(body: string, deps: SendDependencies): Promise<boolean> {
  let refs: ObjectRef[];
  try {
    refs = objectsOfMessage(body);
  } catch (error) {
    // A message that is not an S3 event never will be: keep it for a person (DLQ).
    deps.log.error('unreadable send queue message', describeError(error));
    return false;
  }
  let done = true;
  for (const ref of refs) done = (await sendObject(ref, deps)) && done;
  return done;
}

/** Sends one object; false when it must be tried again. */
async function sendObject(ref: ObjectRef, deps: SendDependencies): Promise<boolean> {
  const now = deps.now ?? (() => new Date());
  const object = `s3://${ref.bucket}/${ref.key}`;
  // What the run reported before it failed: its set, and whether it recorded that set failed.
  const run: RunReport = { abandoned: false };
  deps.log.appendKeys({ object, ...(ref.versionId ? { versionId: ref.versionId } : {}) });
  try {
    if (ref.bucket !== deps.config.bucket) {
      deps.log.warn('ignored: object of another bucket', { bucket: ref.bucket });
      return true;
    }
    const operation = operationOfOutboxKey(ref.key, deps.config.outboxPrefix);
    if (operation?.kind === 'cancel') return await cancelFromOutbox(object, operation, deps, now());
    const declaration =
      operation === undefined
        ? declarationFromOutboxKey(ref.key, {
            prefix: deps.config.outboxPrefix,
            sender: deps.config.sender,
          })
        : undefined;
    if (operation === undefined && declaration === undefined) {
      deps.log.info('ignored: not a declaration (a folder key)');
      return true;
    }
    const source = await deps.openSource(ref);
    // A resend (`resend/<set>/<file>`): the first set's naming and the link, or refused.
    const order =
      operation === undefined
        ? undefined
        : await resendOrderFor(object, operation, source.identity, deps, now());
    const naming = order?.declaration ?? declaration;
    if (naming === undefined) return true;
    const material = await deps.signingMaterial();
    const { daysLeft } = summarizeCertificate(material.certificate, now());
    deps.metrics.addMetric(METRIC_NAMES.certificateDaysLeft, MetricUnit.Count, daysLeft);
    const result = await sendDeclaration(
      {
        source,
        declaration: naming,
        ...(order === undefined ? {} : { resendOf: order.resendOf }),
        plan: {
          ...(deps.config.signTest ? { signFor: { T: true, S: true } } : {}),
          ...(deps.tuning?.partSize === undefined ? {} : { partSize: deps.tuning.partSize }),
        },
        // A repeated delivery of a source whose set failed is not a request to send it again.
        refuseAfterFailure: true,
      },
      {
        ledger: deps.ledger,
        connector: await deps.connector(),
        material,
        now,
        onEvent: (sent) => {
          if (sent.type === 'planned') run.setId = sent.plan.setId;
          if (sent.type === 'abandoned') run.abandoned = true;
          logSendEvent(sent, deps.log);
        },
        ...(deps.tuning?.retry === undefined ? {} : { retry: deps.tuning.retry }),
      },
    );
    deps.log.info('launched', {
      declaration: result.record.id,
      parts: result.plan.nparts,
      bytes: result.plan.size,
      resumed: result.resumed,
      durationMs: result.durationMs,
    });
    deps.metrics.addMetric(METRIC_NAMES.declarationsSent, MetricUnit.Count, 1);
    deps.metrics.addMetric(METRIC_NAMES.bytesSent, MetricUnit.Bytes, result.plan.size);
    deps.metrics.addMetric(METRIC_NAMES.partsSent, MetricUnit.Count, result.plan.nparts);
    deps.metrics.addMetric(METRIC_NAMES.sendDuration, MetricUnit.Milliseconds, result.durationMs);
    await notifyQuietly(deps.notifier, launchedEvent(result, now()), (error) =>
      deps.log.error('the launched event was not raised', describeError(error)),
    );
    return true;
  } catch (error) {
    return handleFailure(object, error, deps, now(), run);
  } finally {
    deps.log.removeKeys(['object', 'versionId', 'declaration']);
  }
}

/** What a send reported before it failed. */
interface RunReport {
  /** Its set id, once claimed. */
  setId?: string;
  /** Whether it recorded its set failed: final, never retried under a new name. */
  abandoned: boolean;
}

async function handleFailure(
  object: string,
  error: unknown,
  deps: SendDependencies,
  at: Date,
  run: RunReport,
): Promise<boolean> {
  const kind = classifySendFailure(error, { abandoned: run.abandoned });
  if (kind === 'done') {
    deps.log.info(
      'nothing to do: already sent, or being sent by another run',
      describeError(error),
    );
    return true;
  }
  if (kind === 'refused') {
    deps.log.warn('refused: not sent', describeError(error));
    deps.metrics.addMetric(METRIC_NAMES.declarationsRefused, MetricUnit.Count, 1);
    await notifyQuietly(deps.notifier, failedEvent(object, error, at, run.setId), (notifyError) =>
      deps.log.error('the failed event was not raised', describeError(notifyError)),
    );
    return true;
  }
  deps.log.error('send failed: the message will be tried again', describeError(error));
  return false;
}

function logSendEvent(event: SendEvent, log: Log): void {
  if (event.type === 'retry') {
    log.warn('retrying', { file: event.name, attempt: event.attempt, reason: event.reason });
  } else if (event.type === 'cleanup') {
    log.info('removed from the server', { file: event.name });
  } else if (event.type === 'abandoned') {
    log.warn('recorded failed: never launched', { code: event.code });
  } else if (event.type === 'planned') {
    // Every later line of this send names its declaration.
    log.appendKeys({ declaration: event.plan.setId });
    log.info('planned', { resumed: event.resumed });
  }
}

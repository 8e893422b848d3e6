/**
 * The send function's work for one SQS batch: each message names S3 objects in the outbox; each
 * is sent through the core's pipeline (`sendDeclaration`) with the ledger making it once only,
 * however often the message arrives. What a failure means is the core's decision
 * (`classifySendFailure`): a refused declaration raises `declaration.failed` and is not tried
 * again; one that may succeed later goes back to the queue (and, after a few tries, to the
 * dead-letter queue).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { DeclarationState, Ledger } from '../../shared/ledger';
import type { Notifier } from '../../shared/notify';
import {
  classifySendFailure,
  declarationFromOutboxKey,
  failedEvent,
  launchedEvent,
  notifyQuietly,
  sendDeclaration,
  withSendSlot,
  type DeclarationParams,
  type DeclarationSource,
  type SendEvent,
} from '../../shared/send';
import { operationOfOutboxKey, type OutboxOperation } from '../../shared/operations';
import type { SigningMaterial } from '../../shared/signing';
import { summarizeCertificate } from '../../shared/signing/material';
import type { RetryOptions, TransportConnector } from '../../shared/transport';
import type { SendConfig } from '../config/environment';
import { METRIC_NAMES } from '../config/names';
import { describeError, MetricUnit, type Log, type MetricSink } from '../observability';
import { reportServerIdentity } from '../server-identity';
import { cancelFromOutbox, resendOrderFor } from './operations';
import { routeOutboxKey, UnknownChannelError, type RoutedKey } from './outbox-route';
import { objectsOfMessage, type ObjectRef } from './s3-event';

/** One channel as the send function uses it: its sender, its limit and its two secrets. */
export interface SendChannel {
  /** Its name; undefined for the one unnamed channel of a deployment without channels. */
  name?: string;
  /** The sender number it files for. */
  sender: string;
  /** Sends at once through it, at most (its ledger slots). */
  maxSends: number;
  /** Its server as events name it (`ftps://host:port`), never a secret; default: its name. */
  server?: string;
  signingMaterial(): Promise<SigningMaterial>;
  connector(): Promise<TransportConnector>;
}

/** A send slot lease outlasting the send function's longest run (15 minutes) by a margin. */
export const SEND_SLOT_LEASE_MS = 20 * 60_000;

/** How long a message whose channel has no free slot waits before it comes back. */
export const BUSY_DELAY_SECONDS = 60;

/** The ports and settings the send function runs with. */
export interface SendDependencies {
  config: Pick<SendConfig, 'bucket' | 'outboxPrefix' | 'signTest'>;
  /**
   * One unnamed channel (objects straight under the outbox prefix), or named channels (objects
   * under `<outbox>/<channel>/`).
   */
  channels: readonly SendChannel[];
  ledger: Ledger;
  notifier: Notifier;
  openSource(ref: ObjectRef): Promise<DeclarationSource>;
  /**
   * Puts a message body back on the send queue, to come again after `delaySeconds`: what a
   * message whose channel has no free send slot does. Absent: such a message is returned as a
   * batch item failure, to come back after the queue's visibility timeout.
   */
  requeue?(body: string, delaySeconds: number): Promise<void>;
  /** How long a send slot is held at most; default SEND_SLOT_LEASE_MS. */
  slotLeaseMs?: number;
  /** The metrics of one named channel (with its dimension); absent: `metrics`. */
  metricsFor?(channel: string): MetricSink;
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
    const outcome = await processMessage(message.body, deps);
    if (outcome === 'busy' && (await requeued(message.body, deps))) continue;
    if (outcome !== 'done') batchItemFailures.push({ itemIdentifier: message.messageId });
  }
  return { batchItemFailures };
}

/** What became of a message: done, to come back, or waiting for a free send slot. */
type MessageOutcome = 'done' | 'retry' | 'busy';

/**
 * Puts a message whose channel was busy back on the queue, delayed. A new message starts its
 * receive count again, so waiting for a slot never sends it to the dead-letter queue. False
 * when there is no requeue port or it failed: the message then comes back as a failure.
 */
async function requeued(body: string, deps: SendDependencies): Promise<boolean> {
  if (deps.requeue === undefined) return false;
  try {
    await deps.requeue(body, BUSY_DELAY_SECONDS);
    return true;
  } catch (error) {
    deps.log.error('a busy message could not be put back: it comes back as a failure', {
      ...describeError(error),
    });
    return false;
  }
}

/** Sends every object a message names. */
async function processMessage(body: string, deps: SendDependencies): Promise<MessageOutcome> {
  let refs: ObjectRef[];
  try {
    refs = objectsOfMessage(body);
  } catch (error) {
    // A message that is not an S3 event never will be: keep it for a person (DLQ).
    deps.log.error('unreadable send queue message', describeError(error));
    return 'retry';
  }
  let outcome: MessageOutcome = 'done';
  for (const ref of refs) {
    const sent = await sendObject(ref, deps);
    // A retry wins over busy: the whole message comes back either way, a retry counts.
    if (sent === 'retry' || (sent === 'busy' && outcome === 'done')) outcome = sent;
  }
  return outcome;
}

/** Sends one object, in one of its channel's send slots. */
async function sendObject(ref: ObjectRef, deps: SendDependencies): Promise<MessageOutcome> {
  const object = `s3://${ref.bucket}/${ref.key}`;
  deps.log.appendKeys({ object, ...(ref.versionId ? { versionId: ref.versionId } : {}) });
  try {
    if (ref.bucket !== deps.config.bucket) {
      deps.log.warn('ignored: object of another bucket', { bucket: ref.bucket });
      return 'done';
    }
    const routed = routeOutboxKey(ref.key, deps.config.outboxPrefix, deps.channels);
    if (routed.kind === 'ignored') {
      deps.log.info('ignored: not a declaration (a folder key)');
      return 'done';
    }
    if (routed.kind === 'unknown') {
      const error = new UnknownChannelError(ref.key, routed.name, deps.channels);
      deps.log.warn('refused: not sent', describeError(error));
      await notifyQuietly(deps.notifier, failedEvent(object, error, nowOf(deps)), (notifyError) =>
        deps.log.error('the failed event was not raised', describeError(notifyError)),
      );
      return 'done';
    }
    const { channel } = routed;
    if (channel.name !== undefined) deps.log.appendKeys({ channel: channel.name });
    // The key is read before a slot is taken: a refused name never waits for one.
    let request: KeyRequest;
    try {
      request = requestOfKey(ref.key, routed);
    } catch (error) {
      return (await handleFailure(object, error, deps, nowOf(deps), { abandoned: false }))
        ? 'done'
        : 'retry';
    }
    if (request.operation === undefined && request.declaration === undefined) {
      deps.log.info('ignored: not a declaration (a folder key)');
      return 'done';
    }
    let source: DeclarationSource | undefined;
    if (request.operation?.kind !== 'cancel') {
      try {
        source = await deps.openSource(ref);
      } catch (error) {
        const done = await handleFailure(object, error, deps, nowOf(deps), { abandoned: false });
        return done ? 'done' : 'retry';
      }
    }
    const send = async (): Promise<MessageOutcome> =>
      (await sendInChannel(ref, object, routed, request, source, deps)) ? 'done' : 'retry';
    // A repeated delivery of a source already launched touches no server: it is settled at
    // once rather than wait behind the channel's sends.
    const earlier = source && (await deps.ledger.findBySource(source.identity));
    if (earlier !== undefined && SETTLED.has(earlier.state)) return await send();
    const slot = await withSendSlot(
      deps.ledger,
      {
        ...(channel.name === undefined ? {} : { channel: channel.name }),
        maxSends: channel.maxSends,
        leaseMs: deps.slotLeaseMs ?? SEND_SLOT_LEASE_MS,
      },
      send,
    );
    if (slot.ran) return slot.value;
    deps.log.info(`channel busy: its ${channel.maxSends} send slot(s) are taken; waiting`);
    metricsOf(channel, deps).addMetric(METRIC_NAMES.sendsDeferred, MetricUnit.Count, 1);
    return 'busy';
  } catch (error) {
    deps.log.error('send failed: the message will be tried again', describeError(error));
    return 'retry';
  } finally {
    deps.log.removeKeys(['object', 'versionId', 'declaration', 'channel']);
  }
}

/**
 * States in which a source's set is done with the server: launched, then answered. Its repeated
 * delivery is refused by the ledger's claim before any connection (and its earlier versions
 * were retired before it was launched). Not `launching` (its GO may still have to be put), and
 * not `failed` or `cancelled`: those are refused too, but they wait for a slot like any other
 * delivery rather than rest on that.
 */
const SETTLED: ReadonlySet<DeclarationState> = new Set<DeclarationState>([
  'launched',
  'acknowledged',
  'rejected',
  'notified',
  'refused',
]);

const nowOf = (deps: SendDependencies): Date => (deps.now ?? (() => new Date()))();

/** A channel's metrics: with its dimension when it has a name. */
export function metricsOf(channel: { name?: string }, deps: SendDependencies): MetricSink {
  return channel.name === undefined || deps.metricsFor === undefined
    ? deps.metrics
    : deps.metricsFor(channel.name);
}

/** What an outbox key asks for: an operator's request, or a declaration to send. */
interface KeyRequest {
  operation: OutboxOperation | undefined;
  /** The declaration's naming when the key is one; undefined for a request or a folder. */
  declaration: DeclarationParams | undefined;
}

/** Reads an outbox key in its channel's layout; throws the layout's or the name rules' error. */
function requestOfKey(key: string, { channel, prefix }: RoutedKey): KeyRequest {
  const operation = operationOfOutboxKey(key, prefix);
  const declaration =
    operation === undefined
      ? declarationFromOutboxKey(key, { prefix, sender: channel.sender })
      : undefined;
  return { operation, declaration };
}

/** Sends one object through its channel; false when it must be tried again. */
async function sendInChannel(
  ref: ObjectRef,
  object: string,
  { channel }: Pick<RoutedKey, 'channel'>,
  { operation, declaration }: KeyRequest,
  opened: DeclarationSource | undefined,
  deps: SendDependencies,
): Promise<boolean> {
  const now = deps.now ?? (() => new Date());
  const metrics = metricsOf(channel, deps);
  // What the run reported before it failed: its set, and whether it recorded that set failed.
  const run: RunReport = { abandoned: false };
  try {
    if (operation?.kind === 'cancel') {
      return await cancelFromOutbox(object, operation, channel, deps, now());
    }
    const source = opened ?? (await deps.openSource(ref));
    // A resend (`resend/<set>/<file>`): the first set's naming and the link, or refused.
    const order =
      operation === undefined
        ? undefined
        : await resendOrderFor(object, operation, source.identity, channel, deps, now());
    const naming = order?.declaration ?? declaration;
    if (naming === undefined) return true;
    const material = await channel.signingMaterial();
    const { daysLeft } = summarizeCertificate(material.certificate, now());
    metrics.addMetric(METRIC_NAMES.certificateDaysLeft, MetricUnit.Count, daysLeft);
    const result = await sendDeclaration(
      {
        source,
        declaration: naming,
        ...(channel.name === undefined
          ? {}
          : { channel: { name: channel.name, sender: channel.sender } }),
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
        connector: await channel.connector(),
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
    metrics.addMetric(METRIC_NAMES.declarationsSent, MetricUnit.Count, 1);
    deps.metrics.addMetric(METRIC_NAMES.bytesSent, MetricUnit.Bytes, result.plan.size);
    deps.metrics.addMetric(METRIC_NAMES.partsSent, MetricUnit.Count, result.plan.nparts);
    deps.metrics.addMetric(METRIC_NAMES.sendDuration, MetricUnit.Milliseconds, result.durationMs);
    await notifyQuietly(deps.notifier, launchedEvent(result, now()), (error) =>
      deps.log.error('the launched event was not raised', describeError(error)),
    );
    return true;
  } catch (error) {
    await reportServerIdentity(
      error,
      {
        ...(channel.name === undefined ? {} : { channel: channel.name }),
        server: channel.server ?? channel.name ?? 'the transfer point',
        at: now(),
      },
      { notifier: deps.notifier, metrics, log: deps.log },
    );
    return handleFailure(object, error, deps, now(), run);
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

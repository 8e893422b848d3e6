/**
 * The send function's part for an operator's request put in the outbox (see
 * shared/operations/outbox-operations.ts): a cancel, or the content of a resend. A refused
 * request raises `operation.refused` with the reason and is not tried again; one that may work
 * later (a run still holding the set, the network) comes back with the message.
 */
import { OnssTransferError } from '../../shared/errors';
import {
  DeclarationNotFoundError,
  SendInProgressError,
  type SourceIdentity,
} from '../../shared/ledger';
import { EVENT_TYPES, type TransferEvent } from '../../shared/notify';
import {
  cancelDeclaration,
  checkResendable,
  checkResendChannel,
  OperationRefusedError,
  type OutboxOperation,
} from '../../shared/operations';
import { ChannelSenderError, notifyQuietly, type DeclarationParams } from '../../shared/send';
import { METRIC_NAMES } from '../config/names';
import { describeError, MetricUnit } from '../observability';
import { metricsOf, type SendChannel, type SendDependencies } from './process';

/** What the send function sends for a resend: the first set's naming, and the link. */
export interface ResendOrder {
  declaration: DeclarationParams;
  resendOf: string;
}

function refusedEvent(
  object: string,
  declaration: string,
  error: unknown,
  at: Date,
): TransferEvent {
  const code = error instanceof OnssTransferError ? error.code : 'UNKNOWN';
  return {
    type: EVENT_TYPES.operationRefused,
    at: at.toISOString(),
    declaration,
    files: [object],
    message: `${object}: ${(error as Error).message} [${code}]; nothing sent`,
  };
}

/** Whether an operator's request failed for good (raise it) rather than for now (retry). */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof OperationRefusedError ||
    error instanceof DeclarationNotFoundError ||
    error instanceof ChannelSenderError
  );
}

async function refuse(
  object: string,
  operation: OutboxOperation,
  error: unknown,
  deps: SendDependencies,
  at: Date,
): Promise<true> {
  deps.log.warn(`${operation.kind} refused`, describeError(error));
  await notifyQuietly(
    deps.notifier,
    refusedEvent(object, operation.declaration, error, at),
    (notifyError) => deps.log.error('the refused event was not raised', describeError(notifyError)),
  );
  return true;
}

/** Refuses a request about a set of another sender: the channel's account must not touch it. */
function checkSender(id: string, channel: SendChannel): void {
  const sender = id.split('.')[1] ?? '';
  if (sender !== channel.sender) throw new ChannelSenderError(sender, channel);
}

/**
 * Cancels the set a `cancel/` object names. Resolves true when the message is done (cancelled,
 * or refused and reported), false when it must come back (a run still holds the set, or the
 * TD could not be put: the set stays cancelled and the next delivery puts it).
 */
export async function cancelFromOutbox(
  object: string,
  operation: OutboxOperation,
  channel: SendChannel,
  deps: SendDependencies,
  at: Date,
): Promise<boolean> {
  try {
    checkSender(operation.declaration, channel);
    const result = await cancelDeclaration(operation.declaration, {
      ledger: deps.ledger,
      connector: await channel.connector(),
      ...(channel.name === undefined ? {} : { channel: channel.name }),
    });
    deps.log.info('cancelled', {
      declaration: result.record.id,
      td: result.td,
      repeated: result.repeated,
    });
    metricsOf(channel, deps).addMetric(METRIC_NAMES.declarationsCancelled, MetricUnit.Count, 1);
    await notifyQuietly(
      deps.notifier,
      {
        type: EVENT_TYPES.cancelled,
        at: at.toISOString(),
        declaration: result.record.id,
        state: result.record.state,
        files: [object, ...(result.td ? [result.td] : [])],
        message:
          `${result.record.id} cancelled by ${object}: ` +
          `${result.td ? `${result.td} sent` : 'nothing of it was uploaded'}; it will never be launched`,
      },
      (error) => deps.log.error('the cancelled event was not raised', describeError(error)),
    );
    return true;
  } catch (error) {
    if (isRefusal(error)) return refuse(object, operation, error, deps, at);
    const why = error instanceof SendInProgressError ? 'a run still holds the set' : 'failed';
    deps.log.error(`cancel ${why}: the message will be tried again`, describeError(error));
    return false;
  }
}

/**
 * The naming and link a `resend/` object is sent under, or undefined when the request is
 * refused (reported here, the message done). A repeated delivery of a resend already claimed is
 * sent as a plain delivery of its source (`findBySource`), which the ledger resumes or refuses
 * as a duplicate: the link check would call it "already resent".
 */
export async function resendOrderFor(
  object: string,
  operation: OutboxOperation,
  identity: SourceIdentity,
  channel: SendChannel,
  deps: SendDependencies,
  at: Date,
): Promise<ResendOrder | undefined> {
  const earlier = await deps.ledger.findBySource(identity);
  if (earlier?.resendOf !== undefined) {
    const { app, sender, env } = earlier.key;
    return { declaration: { app, sender, env }, resendOf: earlier.resendOf };
  }
  try {
    checkSender(operation.declaration, channel);
    const first = await checkResendable(deps.ledger, operation.declaration);
    checkResendChannel(first, channel.name);
    const { app, sender, env } = first.key;
    return { declaration: { app, sender, env }, resendOf: first.id };
  } catch (error) {
    if (!isRefusal(error)) throw error;
    await refuse(object, operation, error, deps, at);
    return undefined;
  }
}

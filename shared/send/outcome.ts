/**
 * What a queue-driven sender does with a failed send: try again later, drop the message because
 * the declaration itself is refused (and say so), or drop it because the work is already done
 * or in other hands. One pure decision, so the Lambda handler holds no rule of its own.
 */
import { ContentRuleError } from '../content/errors';
import { OnssTransferError } from '../errors';
import { DuplicateSourceError, LeaseLostError, NameAlreadySentError } from '../ledger/errors';
import { SequenceExhaustedError } from '../ledger/errors';
import { FileRuleError, NameRuleError, SetRuleError } from '../names/errors';
import type { Notifier, TransferEvent } from '../notify/events';
import { EVENT_TYPES } from '../notify/events';
import {
  ChannelSenderError,
  DuplicateContentError,
  EarlierFailureError,
  SetCancelledError,
} from './errors';
import { OutboxOperationKeyError } from '../operations/outbox-operations';
import { OutboxKeyError } from './outbox-key';
import type { SendResult } from './send-types';
import { SourceChangedError } from './source';

/**
 * - `done`: the source was already launched, another run holds it, its set already failed
 *   and was reported then (EarlierFailureError), or an operator cancelled it during the run
 *   (SetCancelledError): nothing to do.
 * - `refused`: the declaration breaks a rule (name, content, size, duplicate content, a name
 *   already sent, a source replaced while sending), or the run recorded its set failed (a
 *   permanent server reply mid-upload: the set's files are removed and it will never be
 *   launched): sending it again cannot succeed or would need a new name; raise
 *   `declaration.failed` once.
 * - `retry`: anything else (network, ledger contention, a set in progress, missing or wrong
 *   configuration or secrets, unknown failures): try again later; after a few tries the queue
 *   moves the message to its dead-letter queue for an operator to redrive once fixed.
 */
export type SendFailureKind = 'done' | 'refused' | 'retry';

const REFUSALS = [
  NameRuleError,
  SetRuleError,
  FileRuleError,
  ContentRuleError,
  DuplicateContentError,
  NameAlreadySentError,
  SequenceExhaustedError,
  SourceChangedError,
  OutboxKeyError,
  OutboxOperationKeyError,
  ChannelSenderError,
];

/** What the failed run itself reported, beside its error. */
export interface SendFailureContext {
  /** The run recorded its set failed (SendEvent `abandoned`). */
  abandoned?: boolean;
}

/** Decides what a failed send means for the message that asked for it. */
export function classifySendFailure(
  error: unknown,
  context: SendFailureContext = {},
): SendFailureKind {
  if (
    error instanceof DuplicateSourceError ||
    error instanceof LeaseLostError ||
    error instanceof EarlierFailureError ||
    error instanceof SetCancelledError
  ) {
    return 'done';
  }
  if (context.abandoned) return 'refused';
  if (REFUSALS.some((type) => error instanceof type)) return 'refused';
  return 'retry';
}

/** The `declaration.launched` event of a send that launched its set. */
export function launchedEvent(result: SendResult, at: Date): TransferEvent {
  const { record, plan } = result;
  return {
    type: EVENT_TYPES.launched,
    at: at.toISOString(),
    declaration: record.id,
    state: record.state,
    files: record.files.map((file) => file.name),
    message:
      `${record.id} launched: ${plan.nparts} part${plan.nparts === 1 ? '' : 's'}, ` +
      `${plan.size} bytes${result.resumed ? ' (resumed)' : ''}`,
  };
}

/**
 * The `declaration.failed` event of a refused declaration, naming the rule it broke and, when
 * the run got as far as claiming one, its set id.
 */
export function failedEvent(
  source: string,
  error: unknown,
  at: Date,
  setId?: string,
): TransferEvent {
  const code = error instanceof OnssTransferError ? error.code : 'UNKNOWN';
  const reason = error instanceof Error ? error.message : String(error);
  return {
    type: EVENT_TYPES.failed,
    at: at.toISOString(),
    ...(setId === undefined ? {} : { declaration: setId }),
    state: 'failed',
    errors: [{ id: code, label: reason }],
    files: [source],
    message: `${source} was not sent: ${reason}`,
  };
}

/** Raises an event without letting a notifier failure hide the outcome it reports. */
export async function notifyQuietly(
  notifier: Notifier,
  event: TransferEvent,
  onError: (error: unknown) => void,
): Promise<void> {
  try {
    await notifier.notify(event);
  } catch (error) {
    onError(error);
  }
}

/** State changes of a set: the call check, the move by the table, and the answer it records. */
import { LedgerRequestError, SendInProgressError, StateConflictError } from '../errors';
import { DECLARATION_STATES } from '../types';
import type {
  Acknowledgement,
  DeclarationRecord,
  DeclarationState,
  NotificationOutcome,
  TransitionOptions,
  TransitionPatch,
} from '../types';
import { isRefusal, validateAcknowledgement, validateNotification } from './answers';
import { validateFiles } from './declarations';
import { checkLeaseHolder, isLeaseRunning, validateOwner, withoutLease } from './leases';
import { ALLOWED_TRANSITIONS, isDeclarationState, stageOf } from './states';
import { normalizeIso, normalizeSha256 } from './values';

/**
 * Checks the states of a transition call before anything is read: `from` is one or more known
 * states, `to` is known, and every `from` state may move to `to` by the table. A call that
 * breaks the table fails whatever the current state, so the bug shows on the first run.
 * Returns `from` as an array.
 */
export function checkTransitionCall(
  from: DeclarationState | readonly DeclarationState[],
  to: DeclarationState,
): readonly DeclarationState[] {
  const expected: readonly DeclarationState[] = typeof from === 'string' ? [from] : from;
  if (!Array.isArray(expected as unknown) || expected.length === 0) {
    throw new LedgerRequestError('transition needs at least one expected state');
  }
  for (const state of [...expected, to]) {
    if (!isDeclarationState(state)) {
      throw new LedgerRequestError(`${JSON.stringify(state)} is not a declaration state`);
    }
  }
  return expected;
}

/**
 * Applies a transition to the current record: throws StateConflictError when a `from` state may
 * not move to `to` or when the record is not in one of the `expected` states, and
 * LedgerRequestError for a bad patch. Returns the record to write, conditional on its state
 * still being `current.state` (SQLite: same transaction; DynamoDB: a condition expression on the
 * state and `updatedAt`, so two notifications appended at once cannot overwrite each other).
 *
 * An answer (acknowledgement or notification) whose response id is already recorded on the set
 * makes the call a replay, the receive path re-running after a crash: it returns `current`
 * itself, whatever state the set has reached since, and the adapter writes nothing.
 *
 * A move to `cancelled` records `cancelledAt`, and is refused with SendInProgressError while a
 * run other than `options.owner` holds a running lease on the set.
 *
 * With `options.owner`, a set still live must be held by that owner (checkLeaseHolder), else
 * LeaseLostError; a set past the live stages has no lease and only `expected` guards it. A
 * move to a committed or failed state removes the lease (owner, leaseUntil): nobody sends the
 * set any more, and no later run should see one.
 */
export function applyTransition(
  current: DeclarationRecord,
  expected: readonly DeclarationState[],
  to: DeclarationState,
  patch: TransitionPatch | undefined,
  now: string,
  options?: TransitionOptions,
): DeclarationRecord {
  const owner = options?.owner === undefined ? undefined : validateOwner(options.owner);
  const allowed = (state: DeclarationState): boolean =>
    (ALLOWED_TRANSITIONS[state] as readonly DeclarationState[]).includes(to);
  const notAllowedFrom = expected.find((state) => !allowed(state));
  if (notAllowedFrom !== undefined) {
    throw new StateConflictError({
      id: current.id,
      expected,
      actual: current.state,
      to,
      notAllowedFrom,
    });
  }
  const changes: TransitionPatch = patch ?? {};
  // Checked before the state, so a malformed answer fails the same way on every run.
  const answer = checkAnswer(current.id, to, changes);
  if (answer !== undefined && isAnswerRecorded(current, answer.response)) return current;
  // Before the state: a run that lost the set learns that, not that someone moved it.
  if (owner !== undefined && stageOf(current.state) === 'live') {
    checkLeaseHolder(current, owner);
  }
  if (!expected.includes(current.state)) {
    throw new StateConflictError({ id: current.id, expected, actual: current.state, to });
  }
  // A cancel does not take a set from a run that is sending it: it waits for the run to stop
  // or its lease to end. Once cancelled, that run's next move fails, so it never sends the GO.
  if (
    to === DECLARATION_STATES.cancelled &&
    current.leaseUntil !== undefined &&
    current.owner !== owner &&
    isLeaseRunning(current, now)
  ) {
    throw new SendInProgressError(current, current.leaseUntil);
  }

  const next: DeclarationRecord =
    stageOf(to) === 'live'
      ? { ...current, state: to, updatedAt: now }
      : withoutLease({ ...current, state: to, updatedAt: now });
  if (changes.sourceSha256 !== undefined) next.sourceSha256 = normalizeSha256(changes.sourceSha256);
  if (changes.sourceSize !== undefined) {
    if (!Number.isSafeInteger(changes.sourceSize) || changes.sourceSize < 0) {
      throw new LedgerRequestError(`sourceSize ${String(changes.sourceSize)} is not a byte count`);
    }
    next.sourceSize = changes.sourceSize;
  }
  if (changes.files !== undefined) {
    next.files = validateFiles(current.id, current.nparts, changes.files);
  }
  if (to === DECLARATION_STATES.failed) {
    const failure = changes.failure;
    if (!failure || typeof failure.code !== 'string' || typeof failure.message !== 'string') {
      throw new LedgerRequestError(`${current.id}: a move to failed needs failure {code, message}`);
    }
    next.failure = { code: failure.code, message: failure.message };
  } else if (changes.failure !== undefined) {
    throw new LedgerRequestError(`${current.id}: a failure is recorded only with a move to failed`);
  }
  if (to === DECLARATION_STATES.launched) {
    next.launchedAt =
      changes.launchedAt === undefined ? now : normalizeIso(changes.launchedAt, 'launchedAt');
  } else if (changes.launchedAt !== undefined) {
    throw new LedgerRequestError(
      `${current.id}: launchedAt is recorded only with a move to launched`,
    );
  }
  if (to === DECLARATION_STATES.cancelled) next.cancelledAt = now;
  if (answer?.kind === 'acknowledgement') {
    next.acknowledgement = answer.value;
    next.tickets = withTicket(current.tickets, answer.value.ticket);
  } else if (answer?.kind === 'notification') {
    next.notifications = [...(current.notifications ?? []), answer.value];
    next.tickets = withTicket(current.tickets, answer.value.ticket);
  }
  if (next.tickets === undefined) delete next.tickets;
  return next;
}

/** Whether a response set id is already recorded on a set, as its ACRF or a notification. */
export function isAnswerRecorded(record: DeclarationRecord, response: string): boolean {
  return (
    record.acknowledgement?.response === response ||
    (record.notifications ?? []).some((notification) => notification.response === response)
  );
}

type CheckedAnswer =
  | { kind: 'acknowledgement'; response: string; value: Acknowledgement }
  | { kind: 'notification'; response: string; value: NotificationOutcome };

// The answer a move records: an ACRF decides acknowledged (accepted) or rejected (refused), a
// notification decides refused (result 0) or notified (any other). Required with those moves and refused with any other, so a
// state never claims an answer the record does not hold.
function checkAnswer(
  id: string,
  to: DeclarationState,
  changes: TransitionPatch,
): CheckedAnswer | undefined {
  const acknowledging =
    to === DECLARATION_STATES.acknowledged || to === DECLARATION_STATES.rejected;
  if (!acknowledging && changes.acknowledgement !== undefined) {
    throw new LedgerRequestError(
      `${id}: an acknowledgement is recorded only with a move to acknowledged or rejected`,
    );
  }
  const notifying = to === DECLARATION_STATES.notified || to === DECLARATION_STATES.refused;
  if (!notifying && changes.notification !== undefined) {
    throw new LedgerRequestError(
      `${id}: a notification is recorded only with a move to notified or refused`,
    );
  }
  if (acknowledging) {
    if (changes.acknowledgement === undefined) {
      throw new LedgerRequestError(`${id}: a move to ${to} needs the acknowledgement`);
    }
    const value = validateAcknowledgement(id, changes.acknowledgement);
    if (value.accepted !== (to === DECLARATION_STATES.acknowledged)) {
      throw new LedgerRequestError(
        `${id}: an acknowledgement with accepted ${String(value.accepted)} cannot move the set ` +
          `to ${to}`,
      );
    }
    return { kind: 'acknowledgement', response: value.response, value };
  }
  if (notifying) {
    if (changes.notification === undefined) {
      throw new LedgerRequestError(`${id}: a move to ${to} needs the notification`);
    }
    const value = validateNotification(id, changes.notification);
    if (isRefusal(value) !== (to === DECLARATION_STATES.refused)) {
      throw new LedgerRequestError(
        `${id}: a notification with result ${value.result} cannot move the set to ${to}`,
      );
    }
    return { kind: 'notification', response: value.response, value };
  }
  return undefined;
}

function withTicket(
  tickets: string[] | undefined,
  ticket: string | undefined,
): string[] | undefined {
  if (ticket === undefined || tickets?.includes(ticket)) return tickets;
  return [...(tickets ?? []), ticket];
}

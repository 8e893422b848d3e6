/**
 * The scheduled watchdog: after a pull, finds the declarations whose answer is late (the rule
 * of `findOverdue`) and raises `declaration.overdue` for each wait once. The ledger's
 * `markOverdue` decides "once": the event goes out only when this run made the mark, so two
 * runs (or a run and a retry) never raise the same wait twice.
 *
 * The mark is made before the event is sent: a wait is raised at most once. An event that then
 * fails to go out is not raised again; it is reported in `failed` with `marked` true, so the
 * caller can count it (the alarm) and log it, and `status` still shows the declaration late.
 */
import type {
  DeclarationRecord,
  DeclarationState,
  Ledger,
  MarkOverdueResult,
  OverdueWait,
} from '../ledger';
import { EVENT_TYPES, type Notifier, type TransferEvent } from '../notify';
import { DEFAULT_OVERDUE_RULES, findOverdue, type Overdue, type OverdueRules } from './overdue';

/** The states in which a declaration may wait for an answer (what `findOverdue` judges). */
export const WAITING_STATES: readonly DeclarationState[] = [
  'launching',
  'launched',
  'acknowledged',
];

/** How one watchdog run judges. */
export interface RaiseOverdueOptions {
  /** The time lateness is judged at; default the current time. */
  now?: Date;
  /** The allowed waits; default DEFAULT_OVERDUE_RULES. */
  rules?: OverdueRules;
  /**
   * Only the declarations of this channel (those whose answers the run just read); absent,
   * those of no named channel. Another channel's "no ACRF" may be an answer its own pull has
   * not read yet.
   */
  channel?: string;
}

/** One `declaration.overdue` this run raised. */
export interface RaisedOverdue {
  declaration: string;
  state: DeclarationState;
  waitingFor: OverdueWait;
  /** When the wait started (the GO, or the ACRF), ISO 8601 UTC. */
  since: string;
  lateByMinutes: number;
  /** When the ledger marked the wait: the event's time. */
  at: string;
}

/** One overdue wait this run could not mark or raise. */
export interface OverdueFailure {
  declaration: string;
  waitingFor: OverdueWait;
  /**
   * True when the ledger holds the mark but the event did not go out: it will not be raised
   * again. False when the mark itself failed: the next run tries again.
   */
  marked: boolean;
  code: string;
  message: string;
}

/** What one watchdog run found and did. */
export interface OverdueRun {
  /** Every wait overdue at `now`: raised by this run, by an earlier one, or failed. */
  overdue: number;
  /** The events this run raised, in the ledger's order. */
  raised: RaisedOverdue[];
  /** Overdue waits an earlier run already raised (nothing sent again). */
  alreadyRaised: number;
  /** The waits that could not be marked or raised; the others went on regardless. */
  failed: OverdueFailure[];
}

/**
 * The number of waits this run marked as overdue, whether or not their event went out: what
 * the `DeclarationsOverdue` alarm counts, so that a lost event still alarms.
 */
export function newlyOverdue(run: OverdueRun): number {
  return run.raised.length + run.failed.filter((failure) => failure.marked).length;
}

/**
 * Runs the watchdog once: lists the declarations that may wait (launching, launched,
 * acknowledged), judges them with `findOverdue` at `options.now`, and for each overdue wait not
 * marked yet calls `ledger.markOverdue`, then raises `declaration.overdue` on `notifier` only
 * when this call made the mark. A failure on one declaration is collected in `failed` and the
 * others go on. Throws only when the ledger cannot be listed.
 *
 * @param ledger - the ledger to judge and mark
 * @param notifier - where the events go
 * @param options - the time to judge at and the allowed waits
 */
export async function raiseOverdue(
  ledger: Ledger,
  notifier: Notifier,
  options: RaiseOverdueOptions = {},
): Promise<OverdueRun> {
  const now = options.now ?? new Date();
  const rules = options.rules ?? DEFAULT_OVERDUE_RULES;
  const records = (await ledger.list({ state: WAITING_STATES })).filter(
    (record) => record.channel === options.channel,
  );
  const found = findOverdue(records, now, rules);
  const run: OverdueRun = { overdue: found.length, raised: [], alreadyRaised: 0, failed: [] };
  for (const late of found) {
    // A mark is never removed: one the listing shows needs no write to know it is there.
    if (isMarked(late.record, late.waitingFor)) {
      run.alreadyRaised += 1;
      continue;
    }
    let marked: MarkOverdueResult;
    try {
      marked = await ledger.markOverdue(late.record.id, late.waitingFor);
    } catch (error) {
      run.failed.push(failureOf(late, false, error));
      continue;
    }
    if (!marked.marked) {
      run.alreadyRaised += 1; // another run marked it between our listing and our mark
      continue;
    }
    const at = markTime(marked.record, late.waitingFor) ?? now.toISOString();
    try {
      await notifier.notify(overdueEvent(late, at, rules));
    } catch (error) {
      run.failed.push(failureOf(late, true, error));
      continue;
    }
    run.raised.push({
      declaration: late.record.id,
      state: late.record.state,
      waitingFor: late.waitingFor,
      since: late.since,
      lateByMinutes: late.lateByMinutes,
      at,
    });
  }
  return run;
}

/**
 * The `declaration.overdue` event of a late wait: the set id, its state, what it waits for,
 * since when and how late, the ACRF's ticket when it waits for its notification, and a sentence.
 */
export function overdueEvent(late: Overdue, at: string, rules: OverdueRules): TransferEvent {
  const ticket = late.record.acknowledgement?.ticket;
  return {
    type: EVENT_TYPES.overdue,
    at,
    declaration: late.record.id,
    state: late.record.state,
    waitingFor: late.waitingFor,
    since: late.since,
    lateByMinutes: late.lateByMinutes,
    ...(late.waitingFor === 'notification' && ticket ? { ticket } : {}),
    message: describeLate(late, rules),
  };
}

function describeLate(late: Overdue, rules: OverdueRules): string {
  if (late.waitingFor === 'acknowledgement') {
    const waited = rules.acknowledgementMinutes + late.lateByMinutes;
    return (
      `${late.record.id} has no ACRF ${count(waited, 'minute')} after its GO (${late.since}); ` +
      `an ACRF is expected within ${count(rules.acknowledgementMinutes, 'minute')}`
    );
  }
  const waited = rules.notificationHours * 60 + late.lateByMinutes;
  return (
    `${late.record.id} has no notification ${hoursAndMinutes(waited)} after its ACRF ` +
    `(${late.since}); a ${late.record.key.app} notification is expected within ` +
    `${count(rules.notificationHours, 'hour')}`
  );
}

function hoursAndMinutes(minutes: number): string {
  const hours = count(Math.floor(minutes / 60), 'hour');
  const rest = minutes % 60;
  return rest === 0 ? hours : `${hours} ${count(rest, 'minute')}`;
}

function count(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function isMarked(record: DeclarationRecord, wait: OverdueWait): boolean {
  return (record.overdue ?? []).some((mark) => mark.waitingFor === wait);
}

function markTime(record: DeclarationRecord, wait: OverdueWait): string | undefined {
  return record.overdue?.find((mark) => mark.waitingFor === wait)?.at;
}

function failureOf(late: Overdue, marked: boolean, error: unknown): OverdueFailure {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    declaration: late.record.id,
    waitingFor: late.waitingFor,
    marked,
    code: typeof code === 'string' ? code : 'WATCHDOG_FAILED',
    message: typeof message === 'string' ? message : String(error),
  };
}

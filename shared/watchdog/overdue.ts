/**
 * The watchdog's rule: which declarations wait longer than they should for an answer. A set
 * whose GO went out and that has no ACRF after `acknowledgementMinutes`, or an acknowledged set
 * of an application that normally notifies with no NOTIFICATION after `notificationHours`.
 * Pure: the CLI's `status --overdue` reads it today; the scheduled watchdog will raise its
 * events from the same rule.
 */
import type { DeclarationRecord } from '../ledger';

/** How long an answer may take before its declaration is overdue. */
export interface OverdueRules {
  /** Minutes after the GO within which the ACRF should come. */
  acknowledgementMinutes: number;
  /** Hours after the ACRF within which a notifying application's NOTIFICATION should come. */
  notificationHours: number;
  /** The applications that normally notify after their ACRF (field APP of the name). */
  notifyingApplications: readonly string[];
}

/**
 * Defaults: the 60 minutes for an ACRF; 24 hours for the notification of a DmfA, the
 * one application our sources show notifying (the samples are DmfA notifications).
 */
export const DEFAULT_OVERDUE_RULES: OverdueRules = {
  acknowledgementMinutes: 60,
  notificationHours: 24,
  notifyingApplications: ['DMFA'],
};

/** One overdue declaration: what it waits for, since when, and how late it is. */
export interface Overdue {
  record: DeclarationRecord;
  waitingFor: 'acknowledgement' | 'notification';
  /** When the wait started (the GO, or the ACRF), ISO 8601 UTC. */
  since: string;
  /** Whole minutes past the allowed wait. */
  lateByMinutes: number;
}

const MINUTE_MS = 60_000;

/**
 * The declarations of `records` that are overdue at `now`, in the order given. A set still
 * `launching` counts from its last update (its GO may have gone out then).
 *
 * @param records - declarations, e.g. from `Ledger.list`
 * @param now - the time to judge at
 * @param rules - the allowed waits; default DEFAULT_OVERDUE_RULES
 */
export function findOverdue(
  records: readonly DeclarationRecord[],
  now: Date,
  rules: OverdueRules = DEFAULT_OVERDUE_RULES,
): Overdue[] {
  const found: Overdue[] = [];
  for (const record of records) {
    const wait = waitOf(record, rules);
    if (wait === undefined) continue;
    const late = now.getTime() - Date.parse(wait.since) - wait.allowedMs;
    if (late > 0) {
      found.push({
        record,
        waitingFor: wait.waitingFor,
        since: wait.since,
        lateByMinutes: Math.floor(late / MINUTE_MS),
      });
    }
  }
  return found;
}

function waitOf(
  record: DeclarationRecord,
  rules: OverdueRules,
): { waitingFor: Overdue['waitingFor']; since: string; allowedMs: number } | undefined {
  if (record.state === 'launched' || record.state === 'launching') {
    return {
      waitingFor: 'acknowledgement',
      since: record.launchedAt ?? record.updatedAt,
      allowedMs: rules.acknowledgementMinutes * MINUTE_MS,
    };
  }
  const notifies = rules.notifyingApplications.includes(record.key.app);
  if (record.state === 'acknowledged' && notifies && record.acknowledgement !== undefined) {
    return {
      waitingFor: 'notification',
      since: record.acknowledgement.at,
      allowedMs: rules.notificationHours * 60 * MINUTE_MS,
    };
  }
  return undefined;
}

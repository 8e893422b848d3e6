/**
 * The watchdog's waits as `status` and `pull` take them (`--ack-within <minutes>`,
 * `--notification-within <hours>`): one parser, so both commands read the same flags the same
 * way.
 */
import { DEFAULT_OVERDUE_RULES, type OverdueRules } from '../../shared/watchdog';
import { UsageError } from '../io';

/** The two flags as commander hands them over. */
export interface OverdueFlags {
  ackWithin?: string;
  notificationWithin?: string;
}

/** Whether either flag was given. */
export function overdueFlagsGiven(flags: OverdueFlags): boolean {
  return flags.ackWithin !== undefined || flags.notificationWithin !== undefined;
}

/**
 * The allowed waits: DEFAULT_OVERDUE_RULES, with the minutes and hours the flags give. Throws
 * UsageError for a value that is not a whole number of at least 1.
 */
export function overdueRulesFrom(flags: OverdueFlags): OverdueRules {
  return {
    ...DEFAULT_OVERDUE_RULES,
    ...(flags.ackWithin === undefined
      ? {}
      : { acknowledgementMinutes: wholeNumber('--ack-within', flags.ackWithin) }),
    ...(flags.notificationWithin === undefined
      ? {}
      : { notificationHours: wholeNumber('--notification-within', flags.notificationWithin) }),
  };
}

function wholeNumber(flag: string, value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new UsageError(`${flag} takes a whole number of at least 1, not "${value}"`);
  }
  return number;
}

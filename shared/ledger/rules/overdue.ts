/** The watchdog's marks on a set: each wait raised as overdue once. */
import { LedgerRequestError } from '../errors';
import type { DeclarationRecord, OverdueWait } from '../types';

const WAITS: ReadonlySet<string> = new Set<OverdueWait>(['acknowledgement', 'notification']);

/**
 * Marks `wait` as raised on `current` at `now`. Returns `current` itself when that wait is
 * already marked (the adapter writes nothing: the event was raised by an earlier run), else
 * the record to write, conditional as a transition's. `updatedAt` is left alone: a mark is the
 * watchdog's note, not a change of the declaration, and the wait it judges counts from it for a
 * set still `launching`. Throws LedgerRequestError for an unknown wait.
 */
export function applyOverdueMark(
  current: DeclarationRecord,
  wait: OverdueWait,
  now: string,
): DeclarationRecord {
  if (!WAITS.has(wait)) {
    throw new LedgerRequestError(`${JSON.stringify(wait)} is not a wait the watchdog marks`);
  }
  if ((current.overdue ?? []).some((mark) => mark.waitingFor === wait)) return current;
  return { ...current, overdue: [...(current.overdue ?? []), { waitingFor: wait, at: now }] };
}

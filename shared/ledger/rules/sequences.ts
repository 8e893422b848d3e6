/** Sequences: the scope a sequence is counted in, its five digits, and the next free one. */
import { ENVIRONMENTS, isRealDate } from '../../names';
import type { Environment } from '../../names';
import { LedgerRequestError, SequenceExhaustedError } from '../errors';

/** Highest sequence the ledger allocates: five digits. */
export const MAX_SEQUENCE = 99_999;

const SEQUENCE_DIGITS = 5;
const SENDER = /^\d{6}$/;

/** A sequence number written as the five digits of a name: 7 -> `00007`. */
export function formatSequence(n: number): string {
  return String(n).padStart(SEQUENCE_DIGITS, '0');
}

/**
 * Checks the scope of a sequence (6-digit sender, real YYYYMMDD date, R/T/S) and throws a
 * LedgerRequestError naming the bad value.
 */
export function validateSequenceScope(sender: string, date: string, env: Environment): void {
  if (typeof sender !== 'string' || !SENDER.test(sender)) {
    throw new LedgerRequestError(`sender ${JSON.stringify(sender)} is not 6 digits`);
  }
  if (typeof date !== 'string' || !isRealDate(date)) {
    throw new LedgerRequestError(`date ${JSON.stringify(date)} is not a real YYYYMMDD date`);
  }
  if (!Object.prototype.hasOwnProperty.call(ENVIRONMENTS, env)) {
    throw new LedgerRequestError(`environment ${JSON.stringify(env)} is not R, T or S`);
  }
}

/**
 * The next free sequence after the counter `last`: the first number above it that no recorded
 * declaration of the scope uses (`isUsed`), so a sequence given explicitly earlier is skipped.
 * Returns the sequence and the new counter value; throws SequenceExhaustedError past 99999.
 */
export function allocateSequence(
  scope: { sender: string; date: string; env: Environment },
  last: number,
  isUsed: (seq: string) => boolean,
): { seq: string; last: number } {
  for (let candidate = Math.max(0, last) + 1; candidate <= MAX_SEQUENCE; candidate += 1) {
    const seq = formatSequence(candidate);
    if (!isUsed(seq)) return { seq, last: candidate };
  }
  throw new SequenceExhaustedError(scope.sender, scope.date, scope.env);
}

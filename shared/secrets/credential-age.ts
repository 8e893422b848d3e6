/**
 * How old a credential is: the server password's or SSH key's age, from the date its secret
 * last changed (a rotation, or a value put by hand). Pure: the date comes from the secret
 * store's adapter (Secrets Manager's DescribeSecret on AWS).
 */

const DAY_MS = 86_400_000;

/**
 * The whole days from `changedAt` to `now`, rounded down: 0 until a full day has passed, 1
 * from 24 hours on. A change dated after `now` (clocks that disagree) counts as 0, never as a
 * negative age. Throws RangeError for an invalid date.
 *
 * @param changedAt - when the credential last changed
 * @param now - the time of the measure
 */
export function credentialAgeDays(changedAt: Date, now: Date): number {
  const changed = changedAt.getTime();
  const at = now.getTime();
  if (Number.isNaN(changed) || Number.isNaN(at)) {
    throw new RangeError(
      `credentialAgeDays needs valid dates, got ${Number.isNaN(changed) ? 'an invalid change date' : 'an invalid "now"'}`,
    );
  }
  return Math.max(0, Math.floor((at - changed) / DAY_MS));
}

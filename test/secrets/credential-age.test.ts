import { credentialAgeDays } from '../../shared/secrets';

describe('credentialAgeDays', () => {
  const changed = new Date('2026-01-10T12:00:00.000Z');
  const after = (ms: number) => new Date(changed.getTime() + ms);
  const DAY = 86_400_000;

  it.each([
    { title: 'the same instant', now: after(0), expected: 0 },
    { title: 'a second short of a day', now: after(DAY - 1000), expected: 0 },
    { title: 'a full day', now: after(DAY), expected: 1 },
    { title: 'ninety days and a half', now: after(90.5 * DAY), expected: 90 },
    { title: 'a change dated in the future (clock skew)', now: after(-5 * DAY), expected: 0 },
  ])('counts whole days, rounded down: $title -> $expected', ({ now, expected }) => {
    expect(credentialAgeDays(changed, now)).toBe(expected);
  });

  it('counts calendar years as days', () => {
    expect(
      credentialAgeDays(new Date('2025-03-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z')),
    ).toBe(365);
  });

  it('refuses an invalid date', () => {
    expect(() => credentialAgeDays(new Date('nope'), changed)).toThrow(RangeError);
    expect(() => credentialAgeDays(changed, new Date(Number.NaN))).toThrow(/invalid "now"/);
  });
});

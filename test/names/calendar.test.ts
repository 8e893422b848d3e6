import { daysBetween, isRealDate, todayInBrussels } from '../../shared/names';

describe('todayInBrussels', () => {
  it.each([
    {
      title: 'summer evening in UTC is next day in Brussels (UTC+2)',
      input: '2026-06-30T22:30:00Z',
      expected: '20260701',
    },
    {
      title: 'one minute before Brussels midnight in summer',
      input: '2026-06-30T21:59:00Z',
      expected: '20260630',
    },
    {
      title: 'winter: new year in Brussels (UTC+1)',
      input: '2026-12-31T23:30:00Z',
      expected: '20270101',
    },
    { title: 'winter: still the old year', input: '2026-12-31T22:59:59Z', expected: '20261231' },
    { title: 'the day summer time starts', input: '2026-03-29T01:30:00Z', expected: '20260329' },
    { title: 'the night summer time ends', input: '2026-10-24T22:30:00Z', expected: '20261025' },
    { title: 'a leap day', input: '2028-02-28T23:00:00Z', expected: '20280229' },
    { title: 'noon UTC', input: '2026-07-15T12:00:00Z', expected: '20260715' },
  ])('$title', ({ input, expected }) => {
    expect(todayInBrussels(new Date(input))).toBe(expected);
  });

  it('does not depend on the machine time zone', () => {
    // Assess: the same instant gives the same day whatever TZ the process was started with.
    const instant = new Date('2026-06-30T22:30:00Z');
    expect(todayInBrussels(instant)).toBe('20260701');
    expect(instant.getUTCDate()).toBe(30);
  });

  it('reads the real clock by default', () => {
    expect(todayInBrussels()).toMatch(/^\d{8}$/);
    expect(isRealDate(todayInBrussels())).toBe(true);
  });

  it('refuses an invalid Date', () => {
    expect(() => todayInBrussels(new Date('not a date'))).toThrow(RangeError);
  });
});

describe('isRealDate', () => {
  it.each([
    { title: 'an ordinary day', input: '20260715', expected: true },
    { title: '29 February of a leap year', input: '20240229', expected: true },
    { title: '29 February 2000 (divisible by 400)', input: '20000229', expected: true },
    { title: '29 February 1900 (divisible by 100)', input: '19000229', expected: false },
    { title: '29 February of a common year', input: '20230229', expected: false },
    { title: '31 April', input: '20260431', expected: false },
    { title: '31 December', input: '20261231', expected: true },
    { title: 'day 32', input: '20100932', expected: false },
    { title: 'month 0', input: '20260015', expected: false },
    { title: 'month 13', input: '20261301', expected: false },
    { title: 'day 0', input: '20260700', expected: false },
    { title: '7 digits', input: '2026071', expected: false },
    { title: 'dashes', input: '2026-07-15', expected: false },
    { title: 'empty', input: '', expected: false },
  ])('$title', ({ input, expected }) => {
    expect(isRealDate(input)).toBe(expected);
  });
});

describe('daysBetween', () => {
  it.each([
    { title: 'the same day', input: ['20260715', '20260715'], expected: 0 },
    { title: 'the next day', input: ['20260715', '20260716'], expected: 1 },
    { title: 'backwards', input: ['20260716', '20260715'], expected: -1 },
    { title: 'across summer time', input: ['20260328', '20260330'], expected: 2 },
    { title: 'across winter time', input: ['20261024', '20261026'], expected: 2 },
    { title: 'across a leap day', input: ['20280228', '20280301'], expected: 2 },
    { title: '90 days', input: ['20260416', '20260715'], expected: 90 },
    { title: 'a year', input: ['20250715', '20260715'], expected: 365 },
    { title: 'years below 100 stay themselves', input: ['00010101', '00020101'], expected: 365 },
  ])('$title', ({ input, expected }) => {
    const [from = '', to = ''] = input;
    expect(daysBetween(from, to)).toBe(expected);
  });

  it('refuses a date that is not real', () => {
    expect(() => daysBetween('20260230', '20260301')).toThrow(RangeError);
  });
});

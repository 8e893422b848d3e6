/**
 * Calendar days as the transfer point sees them. Names carry `YYYYMMDD` dates judged against
 * the day in Brussels, so nothing here may depend on the machine's own time zone.
 */
import { TRANSFER_POINT_TIME_ZONE } from './constants';

const YMD = /^(\d{4})(\d{2})(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/**
 * Options of an Intl.DateTimeFormat for a calendar day in Brussels: the Gregorian calendar
 * and Latin digits are pinned so a locale default cannot change them. Add the time fields for
 * a time of day.
 */
export const BRUSSELS_DAY_OPTIONS: Readonly<Intl.DateTimeFormatOptions> = {
  timeZone: TRANSFER_POINT_TIME_ZONE,
  calendar: 'gregory',
  numberingSystem: 'latn',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
};

// One formatter for the process: building an Intl.DateTimeFormat is slow (about 14 ms, so it
// is built on first use, not when a command that never reads a date starts) and it is
// immutable.
let brusselsDay: Intl.DateTimeFormat | undefined;
function brusselsDayFormat(): Intl.DateTimeFormat {
  brusselsDay ??= new Intl.DateTimeFormat('en-GB', BRUSSELS_DAY_OPTIONS);
  return brusselsDay;
}

/**
 * The current day in Brussels as `YYYYMMDD`. A Lambda or CI machine runs on UTC, which is one
 * or two hours behind Brussels: between 22:00 and midnight UTC it would still see yesterday
 * and refuse a name dated today as "in the future" (111) from the transfer point's point of
 * view, or the other way round. Throws a RangeError for an invalid `now`.
 */
export function todayInBrussels(now: Date = new Date()): string {
  if (Number.isNaN(now.getTime())) {
    throw new RangeError('todayInBrussels needs a valid Date');
  }
  const parts = brusselsDayFormat().formatToParts(now);
  const pick = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((part) => part.type === type)?.value ?? '';
  return `${pick('year').padStart(4, '0')}${pick('month')}${pick('day')}`;
}

/**
 * Whether `value` is 8 digits naming a day that exists in the proleptic Gregorian calendar
 * (so `20240229` is real and `20230229` or `20100932` are not). Years are not bounded here:
 * how old a date may be is the caller's rule, not the calendar's.
 */
export function isRealDate(value: string): boolean {
  const match = YMD.exec(value);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * Number of days from `from` to `to`, both real `YYYYMMDD` dates: positive when `to` is later.
 * Counted on UTC midnights so that daylight-saving changes never make a day 23 or 25 hours
 * long. Throws a RangeError when either date is not real, since a silent NaN would pass every
 * comparison.
 */
export function daysBetween(from: string, to: string): number {
  return (utcMidnight(to) - utcMidnight(from)) / MS_PER_DAY;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function utcMidnight(value: string): number {
  const match = YMD.exec(value);
  if (!match || !isRealDate(value)) {
    throw new RangeError('expected a real YYYYMMDD date');
  }
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  date.setUTCFullYear(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return date.getTime();
}

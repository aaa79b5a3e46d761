// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01).

export const DAY_MS = 86_400_000;
/** Monday is 0, as in the order of BYDAY's two-letter names. */
export const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;

export interface CivilDate {
  year: number;
  /** 1 to 12. */
  month: number;
  day: number;
}

const floorDiv = (a: number, b: number) => Math.floor(a / b);
export const mod = (a: number, b: number) => ((a % b) + b) % b;

// Howard Hinnant's days_from_civil / civil_from_days, exact for every year, including 0 and below.
export function dayNumber(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = floorDiv(153 * (month + (month > 2 ? -3 : 9)) + 2, 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + floorDiv(yearOfEra, 4) - floorDiv(yearOfEra, 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

export function civil(dayNum: number): CivilDate {
  const z = dayNum + 719_468;
  const era = floorDiv(z, 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = floorDiv(dayOfEra - floorDiv(dayOfEra, 1460) + floorDiv(dayOfEra, 36_524) - floorDiv(dayOfEra, 146_096), 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + floorDiv(yearOfEra, 4) - floorDiv(yearOfEra, 100));
  const mp = floorDiv(5 * dayOfYear + 2, 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day: dayOfYear - floorDiv(153 * mp + 2, 5) + 1 };
}

/** 0 (Monday) to 6 (Sunday); day 0 was a Thursday. */
export const weekday = (dayNum: number) => mod(dayNum + 3, 7);

export const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Months counted from year 0, so consecutive months are consecutive numbers. */
export const monthNumber = (year: number, month: number) => year * 12 + month - 1;
export const monthOf = (monthNum: number) => ({ year: floorDiv(monthNum, 12), month: mod(monthNum, 12) + 1 });

/** The same day of the month `months` later, or the month's last day when it is shorter (Jan 31 + 1 month = Feb 28). */
export function addMonthsClamped(dayNum: number, months: number): number {
  const date = civil(dayNum);
  const target = monthOf(monthNumber(date.year, date.month) + months);
  return dayNumber(target.year, target.month, Math.min(date.day, daysInMonth(target.year, target.month)));
}

// The days on which an RRULE occurs, from any day on, without walking the series' past.
import { Budget } from "./budget.ts";
import { type CivilDate, civil, dayNumber, daysInMonth, isLeapYear, mod, monthNumber, monthOf, weekday } from "./calendar.ts";
import type { ByDay, Rule } from "./rule.ts";

// RFC 5545 expansion of FREQ and the BY... parts, with DTSTART's day filling in what the rule
// leaves out, on local calendar days (the time of day is next.ts's business). The work is bounded
// by the periods looked at, never by the series' age:
// - a month's allowed dates are a 31-bit mask, cached by the month's layout, so a period costs a
//   few integer operations whatever the rule;
// - a whole year's count depends only on its layout and its phase on the INTERVAL grid, so
//   counting (for COUNT) and skipping empty years cost a lookup per year;
// - scanning starts at the period holding the first day asked for, not at DTSTART;
// - every period, candidate day and year looked at spends a step of the request's Budget, so a
//   request that asks for too much stops (budget.ts) instead of running on.

/** The Gregorian calendar repeats every 400 years. */
const DAYS_IN_400_YEARS = 146_097;
/** Day 4 (1970-01-05) was a Monday: weeks starting on WKST are counted from it. */
const FIRST_MONDAY = 4;
/** Bit d - 1 stands for day d of a month. */
const allDays = (length: number) => 2 ** length - 1;
/** Every 7th bit from bit `offset`: one weekday's dates in a month whose 1st is `offset` days after it. */
const WEEKDAY_BITS = Array.from({ length: 7 }, (_, offset) => {
  let bits = 0;
  for (let bit = offset; bit < 31; bit += 7) bits |= 1 << bit;
  return bits;
});

/** The rule with DTSTART's defaults filled in, as RFC 5545 (and python-dateutil) read it. */
export interface Pattern {
  rule: Rule;
  /** Dtstart's local day: periods count from its period, and only days after it occur. */
  start: number;
  startDate: CivilDate;
  /** Allowed months, indexed 1 to 12; null: all. */
  months: readonly boolean[] | null;
  /** BYMONTHDAY as a mask for each month length (28 to 31); null: no such limit. */
  monthDayMasks: readonly number[] | null;
  /** BYDAY's weekdays without ordinal, bit w for weekday w. */
  plainDays: number;
  ordinals: readonly ByDay[];
  /** YEARLY without BYMONTH: BYDAY's ordinals count within the year, not the month. */
  yearOrdinals: boolean;
  /** WEEKLY's weekdays, in week order from WKST. */
  weekDays: readonly number[];
  /** monthMask's results: a month's mask depends only on its length and weekdays. */
  masks: number[];
  /** yearCount's results, by the year's layout and its place on the grid. */
  yearCounts: number[];
  /** The request's budget, spent as days are generated. */
  budget: Budget;
}

/** The rule read with dtstart's local day (a day number), ready to generate days within `budget`. */
export function pattern(rule: Rule, start: number, budget: Budget): Pattern {
  const date = civil(start);
  let months = rule.byMonth.length > 0 ? rule.byMonth : null;
  let monthDays = rule.byMonthDay.length > 0 ? rule.byMonthDay : null;
  // Without BYDAY and BYMONTHDAY, MONTHLY and YEARLY fall on dtstart's day of the month, and
  // YEARLY without BYMONTH in dtstart's month too; a month without that day is skipped (from
  // Jan 31: no February), as RFC 5545 ignores invalid dates.
  if (rule.byDay.length === 0 && monthDays === null && (rule.freq === "MONTHLY" || rule.freq === "YEARLY")) {
    monthDays = [date.day];
    if (rule.freq === "YEARLY" && months === null) months = [date.month];
  }
  const allowed = months;
  const dates = monthDays;
  const weekDays = rule.byDay.length > 0 ? rule.byDay.map((day) => day.weekday) : [weekday(start)];
  return {
    rule,
    start,
    startDate: date,
    months: allowed === null ? null : Array.from({ length: 13 }, (_, month) => allowed.includes(month)),
    monthDayMasks:
      dates === null
        ? null
        : Array.from({ length: 32 }, (_, length) =>
            dates.reduce((mask, d) => {
              const date = d > 0 ? d : length + 1 + d;
              return date >= 1 && date <= length ? mask | (1 << (date - 1)) : mask;
            }, 0),
          ),
    plainDays: rule.byDay.reduce((bits, day) => (day.ordinal === 0 ? bits | (1 << day.weekday) : bits), 0),
    ordinals: rule.byDay.filter((day) => day.ordinal !== 0),
    yearOrdinals: rule.freq === "YEARLY" && rule.byMonth.length === 0,
    weekDays: [...new Set(weekDays)].sort((a, b) => mod(a - rule.wkst, 7) - mod(b - rule.wkst, 7)),
    masks: [],
    yearCounts: [],
    budget,
  };
}

/** The nth (negative: from the end) day with the weekday among `length` days from `first`; null when there is none. */
function nthWeekday(entry: ByDay, first: number, length: number): number | null {
  const last = first + length - 1;
  const day =
    entry.ordinal > 0
      ? first + mod(entry.weekday - weekday(first), 7) + 7 * (entry.ordinal - 1)
      : last - mod(weekday(last) - entry.weekday, 7) - 7 * (-entry.ordinal - 1);
  return day >= first && day <= last ? day : null;
}

/** The dates of a month that BYMONTHDAY and BYDAY allow, as a mask (bit d - 1 for day d). */
function monthMask(p: Pattern, year: number, month: number, first: number, length: number): number {
  // The mask depends on the month's length and the weekday of its 1st, and with ordinals counted
  // in the year on the year's own length and first weekday: a key that repeats, so cache it.
  const jan1 = p.yearOrdinals ? dayNumber(year, 1, 1) : 0;
  const key = p.yearOrdinals ? ((isLeapYear(year) ? 7 : 0) + weekday(jan1)) * 13 + month : 200 + length * 7 + weekday(first);
  const cached = p.masks[key];
  if (cached !== undefined) return cached;
  let mask = p.monthDayMasks?.[length] ?? allDays(length);
  if (p.rule.byDay.length > 0) {
    let byDay = 0;
    for (let w = 0; w < 7; w++) if (p.plainDays & (1 << w)) byDay |= WEEKDAY_BITS[mod(w - weekday(first), 7)] ?? 0;
    for (const entry of p.ordinals) {
      const day = p.yearOrdinals ? nthWeekday(entry, jan1, isLeapYear(year) ? 366 : 365) : nthWeekday(entry, first, length);
      if (day !== null && day >= first && day < first + length) byDay |= 1 << (day - first);
    }
    mask &= byDay & allDays(length);
  }
  p.masks[key] = mask;
  return mask;
}

/**
 * Whether the pattern has a day in any month at all. A month's dates depend only on its length
 * and the weekday it starts on (with ordinals counted in the year, on the year's length and first
 * weekday), and 2000 to 2027 hold every such layout. False for February 30, or for a 5th Friday
 * that is a 13th: such a rule never occurs, whatever its grid. Stops at the first month with a
 * day, so a rule that occurs costs a lookup or two.
 */
export function canOccur(p: Pattern): boolean {
  for (let year = 2000; year < 2028; year++) {
    for (let month = 1; month <= 12; month++) {
      if (p.months !== null && !p.months[month]) continue;
      if (monthMask(p, year, month, dayNumber(year, month, 1), daysInMonth(year, month)) !== 0) return true;
    }
  }
  return false;
}

/**
 * Whether the rule can occur for some DTSTART at all. DTSTART here is 1 January 1970: where the
 * rule leaves the day of the month to DTSTART, the 1st is in every month, so only BYMONTH,
 * BYMONTHDAY and BYDAY that no month can satisfy together make this false.
 */
export const canEverOccur = (rule: Rule) => canOccur(pattern(rule, 0, new Budget()));

/** The lowest day of a mask (bit d - 1: day d) from the month's first day. */
const lowestDay = (mask: number, first: number) => first + 31 - Math.clz32(mask & -mask);

function nextAllowedMonthStart(p: Pattern, year: number, month: number): number {
  for (let m = monthNumber(year, month) + 1; ; m++) {
    const next = monthOf(m);
    if (p.months === null || p.months[next.month]) return dayNumber(next.year, next.month, 1);
  }
}

/** The first period on the grid (period0 + k * interval, k >= 0) at or after `period`. */
const gridAtOrAfter = (period: number, period0: number, interval: number) =>
  period0 + Math.max(0, Math.ceil((period - period0) / interval)) * interval;

/** The rule's days after the start day, ascending, from `from` to `to` inclusive, period by period. */
function* periodDays(p: Pattern, from: number, to: number): Generator<number> {
  const { rule, start } = p;
  const first = Math.max(from, start + 1);
  const past = (day: number) => day > to;
  const interval = rule.interval;
  switch (rule.freq) {
    case "DAILY": {
      if (interval > 31) {
        // At most one day of a month is on the grid: look at each.
        for (let day = first + mod(start - first, interval); !past(day); day += interval) {
          p.budget.spend();
          const date = civil(day);
          if (p.months !== null && !p.months[date.month]) continue;
          const mask = monthMask(p, date.year, date.month, day - date.day + 1, daysInMonth(date.year, date.month));
          if (mask & (1 << (date.day - 1))) yield day;
        }
        return;
      }
      // Month by month: a month BYMONTH leaves out costs one step.
      let { year, month } = civil(first);
      for (;;) {
        p.budget.spend();
        const monthStart = dayNumber(year, month, 1);
        const length = daysInMonth(year, month);
        const from = Math.max(first, monthStart);
        const gridDay = from + mod(start - from, interval);
        if (past(gridDay)) return;
        if (p.months === null || p.months[month]) {
          // The month's days on the grid, from gridDay on.
          let grid = 0;
          if (interval === 1) grid = allDays(length) & ~allDays(gridDay - monthStart);
          else for (let day = gridDay; day < monthStart + length; day += interval) grid |= 1 << (day - monthStart);
          for (let mask = monthMask(p, year, month, monthStart, length) & grid; mask !== 0; mask &= mask - 1) {
            p.budget.spend();
            const day = lowestDay(mask, monthStart);
            if (past(day)) return;
            yield day;
          }
        }
        if (month === 12) year++;
        month = (month % 12) + 1;
      }
    }
    case "WEEKLY": {
      const base = FIRST_MONDAY + rule.wkst;
      const weekOf = (day: number) => Math.floor((day - base) / 7);
      const week0 = weekOf(start);
      for (let week = gridAtOrAfter(weekOf(first), week0, interval); ; ) {
        const weekStart = week * 7 + base;
        if (past(weekStart)) return;
        p.budget.spend();
        let found = false;
        for (const wd of p.weekDays) {
          p.budget.spend();
          const day = weekStart + mod(wd - rule.wkst, 7);
          if (day < first) continue;
          if (past(day)) return;
          if (p.months === null || p.months[civil(day).month]) {
            found = true;
            yield day;
          }
        }
        let next = week + interval;
        if (!found && p.months !== null) {
          // Jump over the weeks that lie wholly in months BYMONTH leaves out.
          const { year, month } = civil(weekStart);
          next = Math.max(next, gridAtOrAfter(weekOf(nextAllowedMonthStart(p, year, month)), week0, interval));
        }
        week = next;
      }
    }
    case "MONTHLY":
    case "YEARLY": {
      // Periods as month numbers: a MONTHLY period is one month, a YEARLY one twelve from January.
      const span = rule.freq === "MONTHLY" ? 1 : 12;
      const periodOf = (day: number) => {
        const date = civil(day);
        return span === 1 ? monthNumber(date.year, date.month) : date.year;
      };
      for (let period = gridAtOrAfter(periodOf(first), periodOf(start), interval); ; period += interval) {
        const year = span === 1 ? Math.floor(period / 12) : period;
        const firstMonth = span === 1 ? period - year * 12 + 1 : 1;
        if (past(dayNumber(year, firstMonth, 1))) return;
        for (let month = firstMonth; month < firstMonth + span; month++) {
          p.budget.spend();
          if (p.months !== null && !p.months[month]) continue;
          const monthStart = dayNumber(year, month, 1);
          for (let mask = monthMask(p, year, month, monthStart, daysInMonth(year, month)); mask !== 0; mask &= mask - 1) {
            p.budget.spend();
            const day = lowestDay(mask, monthStart);
            if (day < first) continue;
            if (past(day)) return;
            yield day;
          }
        }
      }
    }
  }
}

/**
 * How many of the rule's days fall in a year (all after the start day). It depends only on the
 * year's layout (leap or not, weekday of January 1) and where the year starts on the rule's grid
 * of periods, so it is computed once per such combination: a year then costs a lookup.
 */
function yearCount(p: Pattern, year: number, jan1: number, length: number): number {
  const { rule, start, startDate } = p;
  const week = (day: number) => Math.floor((day - FIRST_MONDAY - rule.wkst) / 7);
  const offset =
    rule.freq === "DAILY"
      ? jan1 - start
      : rule.freq === "WEEKLY"
        ? week(jan1) - week(start)
        : rule.freq === "MONTHLY"
          ? 12 * (year - startDate.year) - startDate.month + 1
          : year - startDate.year;
  const key = (mod(offset, rule.interval) * 2 + length - 365) * 7 + weekday(jan1);
  let count = p.yearCounts[key];
  if (count === undefined) {
    count = 0;
    for (const _ of periodDays(p, jan1, jan1 + length - 1)) count++;
    p.yearCounts[key] = count;
  }
  return count;
}

interface Stretch {
  first: number;
  last: number;
  /** Set when the stretch is a whole year after the start day: yearCount stands in for it. */
  year?: { year: number; jan1: number; length: number };
}

/**
 * Years are looked up for INTERVAL up to this: 14 layouts times INTERVAL grid phases makes at most
 * about 2,000 distinct years to compute. A longer INTERVAL has few periods a year to look at.
 */
const MAX_LOOKUP_INTERVAL = 146;

/** [from, to] cut into stretches to scan: whole years (for yearCount), or the range as one stretch for a long INTERVAL. */
function* stretches(p: Pattern, from: number, to: number): Generator<Stretch> {
  if (from > to) return;
  if (p.rule.interval > MAX_LOOKUP_INTERVAL) {
    yield { first: from, last: to };
    return;
  }
  let year = civil(from).year;
  for (let jan1 = dayNumber(year, 1, 1); jan1 <= to; year++) {
    p.budget.spend();
    const length = isLeapYear(year) ? 366 : 365;
    const first = Math.max(from, jan1);
    const last = Math.min(to, jan1 + length - 1);
    yield first === jan1 && last === jan1 + length - 1 && p.start < jan1 ? { first, last, year: { year, jan1, length } } : { first, last };
    jan1 += length;
  }
}

/** How many of the rule's days (after the start day) fall in [from, to]; counting stops at `enough`. */
export function countDays(p: Pattern, from: number, to: number, enough = Number.POSITIVE_INFINITY): number {
  let count = 0;
  for (const stretch of stretches(p, Math.max(from, p.start + 1), to)) {
    if (stretch.year !== undefined) count += yearCount(p, stretch.year.year, stretch.year.jan1, stretch.year.length);
    else for (const _ of periodDays(p, stretch.first, stretch.last)) if (++count >= enough) break;
    if (count >= enough) break;
  }
  return count;
}

/**
 * The rule's days after the start day, ascending, from `from` to `to` inclusive, skipping empty
 * years by lookup. It gives up once it has looked `maxGap` days past the last day it yielded (or
 * past `from`) without finding one: that bounds the work for a rule that never occurs again (or,
 * with a long INTERVAL, not for centuries).
 */
export function* ruleDays(p: Pattern, from: number, to: number, maxGap = DAYS_IN_400_YEARS): Generator<number> {
  let last = Math.max(from, p.start + 1);
  for (const stretch of stretches(p, last, to)) {
    if (stretch.first > last + maxGap) return;
    if (stretch.year !== undefined && yearCount(p, stretch.year.year, stretch.year.jan1, stretch.year.length) === 0) continue;
    // Scanned only up to maxGap past the last day found: a long INTERVAL's one stretch, whose
    // grid may never meet the rule again, stops there instead of running on to year 9999.
    for (let first = stretch.first; first <= stretch.last; ) {
      const end = Math.min(stretch.last, last + maxGap);
      if (first > end) return;
      for (const day of periodDays(p, first, end)) {
        last = day;
        yield day;
      }
      first = end + 1;
    }
  }
}

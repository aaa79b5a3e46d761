// When a recurring task is next due (nextDue) and the next few due dates (upcoming).
import { Budget, OFFSET_STEPS } from "./budget.ts";
import { addMonthsClamped, DAY_MS } from "./calendar.ts";
import { canOccur, countDays, pattern, ruleDays } from "./expand.ts";
import type { Rule } from "./rule.ts";
import type { ParsedRecurrence } from "./schema.ts";
import { instantOf, localOf } from "./zone.ts";

/** A task's place in its series: the recurrence, and when the series (or its last rule edit) started. */
export interface Series extends ParsedRecurrence {
  /** The series' first occurrence: the due date of its first task, or of the task whose rule was last edited. */
  dtstart: Date;
  /** This task's 1-based number in the series since dtstart. */
  index: number;
}

export const MAX_UPCOMING = 100;
/** The last instant the API stores (9999-12-31T23:59:59.999Z): a series ends there. */
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
// An occurrence on a local day this many days before an instant's own local day is before the
// instant whatever the offsets (they differ by at most 26 hours): scans start there.
const SAFE_DAYS = 3;

/**
 * The due date that completing the task now would give its successor; null when the series is
 * used up. Spends from `budget` (the request's); throws BudgetExceeded when it runs out.
 */
export function nextDue(series: Series, due: Date, now: Date, budget = new Budget()): Date | null {
  return upcoming(series, due, now, 1, budget)[0] ?? null;
}

/** The series' next `limit` (1 to 100) due dates after both `due` and `now`; the first is nextDue's. */
export function upcoming(series: Series, due: Date, now: Date, limit: number, budget = new Budget()): Date[] {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_UPCOMING)
    throw new RangeError(`limit must be an integer from 1 to ${MAX_UPCOMING}`);
  const zone = zoneReader(series.time_zone, budget);
  const dues =
    series.anchor === "completion"
      ? fromCompletion(series, zone, due, now, limit)
      : fromDue(series, zone, budget, Math.max(due.getTime(), now.getTime()), limit);
  return dues.map((ms) => new Date(ms));
}

/** localOf and instantOf in one zone, each paid for in steps (an offset read is an Intl call). */
interface ZoneReader {
  localOf(ms: number): { day: number; msOfDay: number };
  instantOf(local: number): number;
}

function zoneReader(zone: string, budget: Budget): ZoneReader {
  return {
    localOf: (ms) => {
      budget.spend(OFFSET_STEPS);
      return localOf(zone, ms);
    },
    instantOf: (local) => {
      // Three or four offset reads (zone.ts).
      budget.spend(4 * OFFSET_STEPS);
      return instantOf(zone, local);
    },
  };
}

function withinUntil(rule: Rule, day: number, ms: number): boolean {
  if (rule.until === null) return true;
  return rule.until.kind === "date" ? day <= rule.until.day : ms <= rule.until.ms;
}

/**
 * Anchor "due": the occurrence set is dtstart, then the rule's occurrences on later days at
 * dtstart's local time of day. The scan starts a few days before `after`, whatever the series'
 * age; COUNT needs the number of elements before it, which countDays gives by whole years.
 */
function fromDue(series: Series, zone: ZoneReader, budget: Budget, after: number, limit: number): number[] {
  const { rule } = series;
  const dtstart = series.dtstart.getTime();
  const result: number[] = [];
  if (dtstart > after) result.push(dtstart);
  const { day: startDay, msOfDay } = zone.localOf(dtstart);
  const days = pattern(rule, startDay, budget);
  // A rule no month can hold (February 30, stored before validation refused it) has dtstart alone.
  if (!canOccur(days)) return result;
  const afterDay = zone.localOf(after).day;
  const lastDay = Math.min(
    zone.localOf(LATEST).day,
    rule.until === null ? Number.POSITIVE_INFINITY : rule.until.kind === "date" ? rule.until.day : zone.localOf(rule.until.ms).day + 1,
  );
  const from = Math.max(startDay + 1, afterDay - SAFE_DAYS);
  // With COUNT, the set's elements before `from` are counted (whole years by lookup), not listed.
  let position = 1 + (rule.count === null ? 0 : countDays(days, startDay + 1, Math.min(from - 1, lastDay), rule.count));
  for (const day of ruleDays(days, from, lastDay)) {
    if (result.length >= limit) break;
    position++;
    if (rule.count !== null && position > rule.count) break;
    // An offset is less than a day, so a local time a day before `after` is before it: counted
    // (above), but not worth the offset reads. Later days decide UNTIL and LATEST alike.
    if (day * DAY_MS + msOfDay + DAY_MS <= after) continue;
    const ms = zone.instantOf(day * DAY_MS + msOfDay);
    if (ms > LATEST || !withinUntil(rule, day, ms)) break;
    if (ms > after) result.push(ms);
  }
  return result.slice(0, limit);
}

/** Anchor "completion": now's local date plus INTERVAL units, at the completed task's local time of day; then again from each. */
function fromCompletion(series: Series, zone: ZoneReader, due: Date, now: Date, limit: number): number[] {
  const { rule } = series;
  const { msOfDay } = zone.localOf(due.getTime());
  let day = zone.localOf(now.getTime()).day;
  const result: number[] = [];
  for (let index = series.index + 1; result.length < limit; index++) {
    if (rule.count !== null && index > rule.count) break;
    day = advance(rule, day);
    const ms = zone.instantOf(day * DAY_MS + msOfDay);
    if (ms > LATEST || !withinUntil(rule, day, ms)) break;
    result.push(ms);
  }
  return result;
}

function advance(rule: Rule, day: number): number {
  switch (rule.freq) {
    case "DAILY":
      return day + rule.interval;
    case "WEEKLY":
      return day + 7 * rule.interval;
    case "MONTHLY":
      return addMonthsClamped(day, rule.interval);
    case "YEARLY":
      return addMonthsClamped(day, 12 * rule.interval);
  }
}

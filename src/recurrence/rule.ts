// RFC 5545 RRULE text (the subset the API accepts) parsed once into the data the occurrence math reads.
import { DAY_MS, dayNumber, daysInMonth, WEEKDAYS } from "./calendar.ts";

export const FREQUENCIES = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"] as const;
export type Frequency = (typeof FREQUENCIES)[number];
export const MAX_RULE_LENGTH = 200;
export const MAX_INTERVAL = 1000;
/** More than the days in years 1 to 9999, so no series is cut short; the cap keeps the number exact. */
export const MAX_COUNT = 10_000_000;

/** A BYDAY entry: a weekday (0 = Monday), every one (ordinal 0) or the nth (1 to 53, or -53 to -1 from the end). */
export interface ByDay {
  weekday: number;
  ordinal: number;
}

/** UNTIL as a DATE bounds local calendar days (inclusive); as a UTC DATE-TIME it bounds instants. */
export type Until = { kind: "date"; day: number } | { kind: "instant"; ms: number };

export interface Rule {
  freq: Frequency;
  interval: number;
  byDay: readonly ByDay[];
  byMonthDay: readonly number[];
  byMonth: readonly number[];
  count: number | null;
  until: Until | null;
  /** 0 (Monday) to 6 (Sunday). */
  wkst: number;
}

export type RuleResult = { ok: true; rule: Rule } | { ok: false; message: string };

export const FREQ_MESSAGE = "must be an RFC 5545 RRULE with FREQ DAILY, WEEKLY, MONTHLY or YEARLY";
const PREFIX_MESSAGE = "must not start with RRULE: (send only the rule, such as FREQ=WEEKLY;BYDAY=MO)";
const PARTS_MESSAGE = "must be NAME=VALUE parts separated by semicolons, such as FREQ=WEEKLY;BYDAY=MO,TH";
const ASCII = /^[\x21-\x7e]*$/;
const SUPPORTED = new Set(["FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL", "WKST"]);
const UNSUPPORTED = new Set(["BYSECOND", "BYMINUTE", "BYHOUR", "BYYEARDAY", "BYWEEKNO", "BYSETPOS", "RSCALE", "SKIP"]);
const PART = /^([A-Z][A-Z-]*)=([A-Z0-9,+-]+)$/;
const BYDAY_ITEM = /^([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/;
const SIGNED = /^[+-]?\d{1,2}$/;
const UNSIGNED = /^\d{1,8}$/;
const UNTIL = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/;

class RuleError extends Error {}
const fail = (message: string): never => {
  throw new RuleError(message);
};

function integer(text: string, min: number, max: number, message: string): number {
  const value = UNSIGNED.test(text) ? Number(text) : Number.NaN;
  return value >= min && value <= max ? value : fail(message);
}

function list<T>(text: string, item: (token: string) => T | undefined, message: string): T[] {
  return text.split(",").map((token) => item(token) ?? fail(message));
}

function weekdayIndex(token: string): number | undefined {
  const index = WEEKDAYS.indexOf(token as (typeof WEEKDAYS)[number]);
  return index < 0 ? undefined : index;
}

function byDayItem(token: string): ByDay | undefined {
  const m = BYDAY_ITEM.exec(token);
  const weekday = weekdayIndex(m?.[3] ?? "");
  if (!m || weekday === undefined) return undefined;
  // A sign needs a number ("+MO" is not RFC 5545); the ordinal is 1 to 53 either way.
  if (m[2] === undefined) return m[1] === "" ? { weekday, ordinal: 0 } : undefined;
  const ordinal = Number(m[2]) * (m[1] === "-" ? -1 : 1);
  return ordinal !== 0 && Math.abs(ordinal) <= 53 ? { weekday, ordinal } : undefined;
}

function signedItem(limit: number) {
  return (token: string): number | undefined => {
    const value = SIGNED.test(token) ? Number(token) : 0;
    return value !== 0 && Math.abs(value) <= limit ? value : undefined;
  };
}

function monthItem(token: string): number | undefined {
  const value = /^\d{1,2}$/.test(token) ? Number(token) : 0;
  return value >= 1 && value <= 12 ? value : undefined;
}

function until(text: string): Until {
  const message = "UNTIL must be a date (YYYYMMDD) or a UTC date-time (YYYYMMDDTHHMMSSZ)";
  const m = UNTIL.exec(text) ?? fail(message);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) fail(message);
  const date = dayNumber(year, month, day);
  if (m[4] === undefined) return { kind: "date", day: date };
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (hour > 23 || minute > 59 || second > 59) fail(message);
  return { kind: "instant", ms: date * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 };
}

const sortedUnique = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);

function parse(text: string): Rule {
  if (text.length > MAX_RULE_LENGTH) fail(`must be at most ${MAX_RULE_LENGTH} characters`);
  // Names and values are case-insensitive in RFC 5545 (ASCII only: "ı".toUpperCase() is "I").
  const upper = text.toUpperCase();
  if (upper.startsWith("RRULE:")) fail(PREFIX_MESSAGE);
  if (upper === "") fail(FREQ_MESSAGE);
  if (!ASCII.test(text)) fail(PARTS_MESSAGE);
  const parts = new Map<string, string>();
  for (const part of upper.split(";")) {
    const m = PART.exec(part) ?? fail(PARTS_MESSAGE);
    const [, name = "", value = ""] = m;
    if (UNSUPPORTED.has(name)) fail(`${name} is not supported`);
    if (!SUPPORTED.has(name)) fail(`${name} is not an RRULE part the API accepts`);
    if (parts.has(name)) fail(`must not have ${name} more than once`);
    parts.set(name, value);
  }
  const freq = parts.get("FREQ");
  if (freq === undefined || !(FREQUENCIES as readonly string[]).includes(freq)) return fail(FREQ_MESSAGE);
  const interval = parts.get("INTERVAL");
  const count = parts.get("COUNT");
  const untilText = parts.get("UNTIL");
  const byDayText = parts.get("BYDAY");
  const byMonthDayText = parts.get("BYMONTHDAY");
  const byMonthText = parts.get("BYMONTH");
  const wkst = parts.get("WKST");
  const rule: Rule = {
    freq: freq as Frequency,
    interval: interval === undefined ? 1 : integer(interval, 1, MAX_INTERVAL, `INTERVAL must be an integer from 1 to ${MAX_INTERVAL}`),
    byDay:
      byDayText === undefined
        ? []
        : list(byDayText, byDayItem, "BYDAY must be weekdays (MO to SU), each with an optional ordinal such as 2MO or -1FR"),
    byMonthDay:
      byMonthDayText === undefined
        ? []
        : sortedUnique(list(byMonthDayText, signedItem(31), "BYMONTHDAY must be days from 1 to 31 or -31 to -1")),
    byMonth: byMonthText === undefined ? [] : sortedUnique(list(byMonthText, monthItem, "BYMONTH must be months from 1 to 12")),
    count: count === undefined ? null : integer(count, 1, MAX_COUNT, `COUNT must be an integer from 1 to ${MAX_COUNT}`),
    until: untilText === undefined ? null : until(untilText),
    wkst: wkst === undefined ? 0 : (weekdayIndex(wkst) ?? fail("WKST must be a weekday: MO, TU, WE, TH, FR, SA or SU")),
  };
  if (rule.count !== null && rule.until !== null) fail("must not have both COUNT and UNTIL");
  if ((rule.freq === "DAILY" || rule.freq === "WEEKLY") && rule.byDay.some((day) => day.ordinal !== 0)) {
    fail("BYDAY ordinals such as 2MO or -1FR are only allowed with FREQ=MONTHLY or YEARLY");
  }
  // RFC 5545: "The BYMONTHDAY rule part MUST NOT be specified when the FREQ rule part is set to WEEKLY."
  if (rule.freq === "WEEKLY" && rule.byMonthDay.length > 0) fail("BYMONTHDAY is not allowed with FREQ=WEEKLY");
  return rule;
}

/** The rule, or the first thing wrong with it as a message fragment ("COUNT must be ..."). */
export function parseRule(text: string): RuleResult {
  try {
    return { ok: true, rule: parse(text) };
  } catch (error) {
    if (error instanceof RuleError) return { ok: false, message: error.message };
    throw error;
  }
}

/** True when the rule has a BY... part (then only anchor "due" is allowed). */
export const hasByParts = (rule: Rule) => rule.byDay.length > 0 || rule.byMonthDay.length > 0 || rule.byMonth.length > 0;

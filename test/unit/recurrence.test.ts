// Recurring tasks: the RRULE subset and its validation, and next due dates checked against
// python-dateutil (test/fixtures/recurrence.json, from scripts/fixtures/recurrence.py).
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { nextDue, type Series, upcoming } from "../../src/recurrence/next.ts";
import { parseRule } from "../../src/recurrence/rule.ts";
import { parseRecurrence, Recurrence } from "../../src/recurrence/schema.ts";

interface Fixture {
  name: string;
  rule: string;
  time_zone: string;
  anchor: "due" | "completion";
  dtstart: string;
  index: number;
  due: string;
  now: string;
  next: string | null;
  upcoming: string[];
}
const fixtures = JSON.parse(readFileSync(new URL("../fixtures/recurrence.json", import.meta.url), "utf8")) as {
  upcoming_limit: number;
  cases: Fixture[];
};

function series(rule: string, time_zone: string, dtstart: string, options: { anchor?: "due" | "completion"; index?: number } = {}): Series {
  const recurrence = v.parse(Recurrence, { rule, time_zone, anchor: options.anchor ?? "due" });
  return { ...parseRecurrence(recurrence), dtstart: new Date(dtstart), index: options.index ?? 1 };
}
const iso = (dates: Date[]) => dates.map((date) => date.toISOString());
const next = (s: Series, due: string, now: string) => nextDue(s, new Date(due), new Date(now))?.toISOString() ?? null;

describe("next due dates agree with python-dateutil", () => {
  it("has the fixture cases", () => {
    expect(fixtures.cases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(fixtures.cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const s = series(c.rule, c.time_zone, c.dtstart, { anchor: c.anchor, index: c.index });
    expect(next(s, c.due, c.now)).toBe(c.next);
    expect(iso(upcoming(s, new Date(c.due), new Date(c.now), fixtures.upcoming_limit))).toEqual(c.upcoming);
  });
});

describe("the occurrence set", () => {
  it("takes BYDAY=MO,2TU as every Monday and the second Tuesday (RFC 5545; dateutil intersects them)", () => {
    const s = series("FREQ=MONTHLY;BYDAY=MO,2TU", "UTC", "2026-01-05T09:00:00.000Z");
    expect(iso(upcoming(s, new Date("2026-01-05T09:00:00.000Z"), new Date("2026-01-05T09:00:00.000Z"), 5))).toEqual([
      "2026-01-12T09:00:00.000Z",
      "2026-01-13T09:00:00.000Z",
      "2026-01-19T09:00:00.000Z",
      "2026-01-26T09:00:00.000Z",
      "2026-02-02T09:00:00.000Z",
    ]);
  });

  it("reads the rule case-insensitively", () => {
    const s = series("freq=weekly;byday=mo", "Europe/Berlin", "2026-03-02T08:00:00.000Z");
    expect(next(s, "2026-03-02T08:00:00.000Z", "2026-03-02T08:00:00.000Z")).toBe("2026-03-09T08:00:00.000Z");
  });

  it("gives at most the occurrences left, in increasing order, and limit is 1 to 100", () => {
    const daily = series("FREQ=DAILY", "America/New_York", "2026-01-01T14:00:00.000Z");
    const hundred = upcoming(daily, new Date("2026-01-01T14:00:00.000Z"), new Date("2026-01-01T14:00:00.000Z"), 100);
    expect(hundred).toHaveLength(100);
    expect(hundred.every((date, i) => i === 0 || date > (hundred[i - 1] ?? date))).toBe(true);
    const three = series("FREQ=DAILY;COUNT=3", "UTC", "2026-01-01T09:00:00.000Z");
    expect(upcoming(three, new Date("2026-01-01T09:00:00.000Z"), new Date("2026-01-01T09:00:00.000Z"), 100)).toHaveLength(2);
    for (const limit of [0, 101, 1.5, Number.NaN]) {
      expect(() => upcoming(daily, new Date(), new Date(), limit), String(limit)).toThrow(RangeError);
    }
  });

  it("keeps going with a long INTERVAL: every 200 years until the API's last year", () => {
    const s = series("FREQ=YEARLY;INTERVAL=200", "UTC", "2000-06-01T09:00:00.000Z");
    const dues = iso(upcoming(s, new Date("2000-06-01T09:00:00.000Z"), new Date("2000-06-01T09:00:00.000Z"), 100));
    expect(dues).toHaveLength(39);
    expect([dues[0], dues[38]]).toEqual(["2200-06-01T09:00:00.000Z", "9800-06-01T09:00:00.000Z"]);
  });

  it("treats a next occurrence more than 400 years away as none", () => {
    // Every 500 years on February 29 from 2000: 2500, 3000 and 3500 are not leap years; 4000 is.
    const s = series("FREQ=YEARLY;INTERVAL=500;BYMONTH=2;BYMONTHDAY=29", "UTC", "2000-02-29T09:00:00.000Z");
    expect(next(s, "2000-02-29T09:00:00.000Z", "2000-02-29T09:00:00.000Z")).toBeNull();
    const within = series("FREQ=YEARLY;INTERVAL=100;BYMONTH=2;BYMONTHDAY=29", "UTC", "2000-02-29T09:00:00.000Z");
    expect(next(within, "2000-02-29T09:00:00.000Z", "2000-02-29T09:00:00.000Z")).toBe("2400-02-29T09:00:00.000Z");
  });
});

describe("CPU is bounded whatever the dates", () => {
  const timed = <T>(run: () => T) => {
    const start = performance.now();
    const result = run();
    return { result, ms: performance.now() - start };
  };

  it("finds 2026's occurrence of a daily series started in year 1 without walking 740,000 days", () => {
    const s = series("FREQ=DAILY", "UTC", "0001-01-01T09:00:00.000Z");
    const { result, ms } = timed(() => next(s, "0001-01-01T09:00:00.000Z", "2026-06-01T12:00:00.000Z"));
    expect(result).toBe("2026-06-02T09:00:00.000Z");
    expect(ms).toBeLessThan(500);
  });

  it("counts a sparse COUNT series from year 1 to a due date in 9999 by whole years, not by months", () => {
    const s = series("FREQ=DAILY;BYMONTHDAY=31;BYDAY=MO;COUNT=10000000", "Europe/Berlin", "0001-01-01T09:00:00.000Z");
    const { result, ms } = timed(() => next(s, "9999-06-01T09:00:00.000Z", "2026-06-01T12:00:00.000Z"));
    // Monday the 31st after June 1, 9999: July 31 is a Saturday, August 31 a Tuesday, October 31 a Sunday;
    // 9999-12-31 is a Friday. None is left before the API's last instant.
    expect(result).toBeNull();
    expect(ms).toBeLessThan(500);
  });

  it.each([
    ["a rule that never occurs again", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", null],
    ["a yearly rule whose interval misses every leap year", "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", null],
    ["COUNT=10000 counted from year 1", "FREQ=DAILY;COUNT=10000", null],
    ["COUNT=10000000 counted from year 1", "FREQ=DAILY;COUNT=10000000", "2026-06-02T09:00:00.000Z"],
    // 0001-01-01 plus 147 * 5033 days (Python: date.fromordinal(1 + 147 * 5033)).
    ["COUNT with a long INTERVAL counted from year 1", "FREQ=DAILY;INTERVAL=147;COUNT=10000000", "2026-08-24T09:00:00.000Z"],
    // The next three are also fixture cases (python-dateutil agrees).
    ["COUNT=10000 of a sparse rule counted from year 1", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;COUNT=10000", "2028-02-29T09:00:00.000Z"],
    ["Friday the 13th of February, daily, since year 1", "FREQ=DAILY;BYDAY=FR;BYMONTH=2;BYMONTHDAY=13", "2032-02-13T09:00:00.000Z"],
    ["every 7th week in July only, since year 1", "FREQ=WEEKLY;INTERVAL=7;BYMONTH=7", "2026-07-06T09:00:00.000Z"],
  ])("%s", (_, rule, expected) => {
    const s = series(rule, "UTC", "0001-01-01T09:00:00.000Z");
    const { result, ms } = timed(() => [...Array(20)].map(() => next(s, "0001-01-01T09:00:00.000Z", "2026-06-01T12:00:00.000Z")));
    expect(result[0]).toBe(expected);
    expect(ms / 20).toBeLessThan(50);
  });
});

describe("Recurrence schema", () => {
  const issues = (input: unknown) => {
    const result = v.safeParse(v.strictObject({ recurrence: Recurrence }), { recurrence: input });
    return result.success ? [] : result.issues.map((issue) => [v.getDotPath(issue), issue.message]);
  };
  const valid = (rule: string, time_zone = "Europe/Berlin") => issues({ rule, time_zone });

  it("accepts the subset and defaults anchor to due", () => {
    expect(v.parse(Recurrence, { rule: "FREQ=WEEKLY;BYDAY=MO,TH", time_zone: "Europe/Berlin" })).toEqual({
      rule: "FREQ=WEEKLY;BYDAY=MO,TH",
      time_zone: "Europe/Berlin",
      anchor: "due",
    });
    for (const rule of [
      "FREQ=DAILY",
      "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU",
      "FREQ=MONTHLY;BYDAY=-1FR",
      "FREQ=MONTHLY;BYDAY=+2MO,FR;BYMONTHDAY=-31,1,31",
      "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=10000000",
      "FREQ=YEARLY;BYDAY=53SU;UNTIL=99991231",
      "FREQ=DAILY;INTERVAL=1000;UNTIL=20261231T235959Z",
      `FREQ=DAILY;BYMONTHDAY=${Array.from({ length: 31 }, (_, i) => i + 1).join(",")};WKST=MO;UNTIL=20261231T235959Z`.slice(0, 200),
    ]) {
      expect(valid(rule), rule).toEqual([]);
    }
    for (const zone of ["UTC", "America/Argentina/Buenos_Aires", "Asia/Kolkata", "Etc/GMT+5", "US/Eastern"]) {
      expect(valid("FREQ=DAILY", zone), zone).toEqual([]);
    }
    expect(issues({ rule: "FREQ=MONTHLY;INTERVAL=2", time_zone: "UTC", anchor: "completion" })).toEqual([]);
  });

  it.each([
    ["FREQ=HOURLY", "must be an RFC 5545 RRULE with FREQ DAILY, WEEKLY, MONTHLY or YEARLY"],
    ["FREQ=SECONDLY", "must be an RFC 5545 RRULE with FREQ DAILY, WEEKLY, MONTHLY or YEARLY"],
    ["INTERVAL=2", "must be an RFC 5545 RRULE with FREQ DAILY, WEEKLY, MONTHLY or YEARLY"],
    ["", "must be an RFC 5545 RRULE with FREQ DAILY, WEEKLY, MONTHLY or YEARLY"],
    ["RRULE:FREQ=DAILY", "must not start with RRULE: (send only the rule, such as FREQ=WEEKLY;BYDAY=MO)"],
    ["rrule:FREQ=DAILY", "must not start with RRULE: (send only the rule, such as FREQ=WEEKLY;BYDAY=MO)"],
    ["FREQ=DAıLY", "must be NAME=VALUE parts separated by semicolons, such as FREQ=WEEKLY;BYDAY=MO,TH"],
    ["FREQ=DAILY;BYSETPOS=1", "BYSETPOS is not supported"],
    ["FREQ=DAILY;BYHOUR=9", "BYHOUR is not supported"],
    ["FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO is not supported"],
    ["FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY is not supported"],
    ["FREQ=DAILY;X-NAME=1", "X-NAME is not an RRULE part the API accepts"],
    ["FREQ=DAILY;FREQ=WEEKLY", "must not have FREQ more than once"],
    ["FREQ=DAILY;", "must be NAME=VALUE parts separated by semicolons, such as FREQ=WEEKLY;BYDAY=MO,TH"],
    ["FREQ=DAILY; INTERVAL=2", "must be NAME=VALUE parts separated by semicolons, such as FREQ=WEEKLY;BYDAY=MO,TH"],
    ["FREQ=DAILY;INTERVAL=0", "INTERVAL must be an integer from 1 to 1000"],
    ["FREQ=DAILY;INTERVAL=1001", "INTERVAL must be an integer from 1 to 1000"],
    ["FREQ=DAILY;INTERVAL=-1", "INTERVAL must be an integer from 1 to 1000"],
    ["FREQ=DAILY;COUNT=0", "COUNT must be an integer from 1 to 10000000"],
    ["FREQ=DAILY;COUNT=10000001", "COUNT must be an integer from 1 to 10000000"],
    ["FREQ=DAILY;COUNT=99999999999999999999", "COUNT must be an integer from 1 to 10000000"],
    ["FREQ=DAILY;COUNT=3;UNTIL=20261231", "must not have both COUNT and UNTIL"],
    ["FREQ=DAILY;UNTIL=20260230", "UNTIL must be a date (YYYYMMDD) or a UTC date-time (YYYYMMDDTHHMMSSZ)"],
    ["FREQ=DAILY;UNTIL=20261231T235959", "UNTIL must be a date (YYYYMMDD) or a UTC date-time (YYYYMMDDTHHMMSSZ)"],
    ["FREQ=DAILY;UNTIL=20261231T240000Z", "UNTIL must be a date (YYYYMMDD) or a UTC date-time (YYYYMMDDTHHMMSSZ)"],
    ["FREQ=DAILY;UNTIL=00001231", "UNTIL must be a date (YYYYMMDD) or a UTC date-time (YYYYMMDDTHHMMSSZ)"],
    ["FREQ=WEEKLY;BYDAY=2MO", "BYDAY ordinals such as 2MO or -1FR are only allowed with FREQ=MONTHLY or YEARLY"],
    ["FREQ=DAILY;BYDAY=-1FR", "BYDAY ordinals such as 2MO or -1FR are only allowed with FREQ=MONTHLY or YEARLY"],
    ["FREQ=MONTHLY;BYDAY=0MO", "BYDAY must be weekdays (MO to SU), each with an optional ordinal such as 2MO or -1FR"],
    ["FREQ=MONTHLY;BYDAY=54MO", "BYDAY must be weekdays (MO to SU), each with an optional ordinal such as 2MO or -1FR"],
    ["FREQ=MONTHLY;BYDAY=+MO", "BYDAY must be weekdays (MO to SU), each with an optional ordinal such as 2MO or -1FR"],
    ["FREQ=MONTHLY;BYDAY=MO,,TU", "BYDAY must be weekdays (MO to SU), each with an optional ordinal such as 2MO or -1FR"],
    ["FREQ=MONTHLY;BYDAY=MONDAY", "BYDAY must be weekdays (MO to SU), each with an optional ordinal such as 2MO or -1FR"],
    ["FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY must be days from 1 to 31 or -31 to -1"],
    ["FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY must be days from 1 to 31 or -31 to -1"],
    ["FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY is not allowed with FREQ=WEEKLY"],
    ["FREQ=YEARLY;BYMONTH=13", "BYMONTH must be months from 1 to 12"],
    ["FREQ=YEARLY;BYMONTH=-1", "BYMONTH must be months from 1 to 12"],
    ["FREQ=WEEKLY;WKST=XX", "WKST must be a weekday: MO, TU, WE, TH, FR, SA or SU"],
    [`FREQ=DAILY;BYMONTHDAY=${"1,".repeat(95)}1`, "must be at most 200 characters"],
  ])("refuses %j: %s", (rule, message) => {
    expect(parseRule(rule)).toEqual({ ok: false, message });
    expect(valid(rule)).toEqual([["recurrence.rule", message]]);
  });

  it.each([["+01:00"], ["-05:00"], ["Mars/Olympus_Mons"], ["Europe/Berlin "], ["Z"], [""], ["../Berlin"]])(
    "refuses the time zone %j",
    (zone) => {
      expect(valid("FREQ=DAILY", zone)).toEqual([["recurrence.time_zone", "must be an IANA time zone such as Europe/Berlin"]]);
    },
  );

  it("refuses anchor completion for a rule with BY parts, and unknown anchors", () => {
    for (const rule of ["FREQ=WEEKLY;BYDAY=MO", "FREQ=MONTHLY;BYMONTHDAY=1", "FREQ=YEARLY;BYMONTH=3"]) {
      expect(issues({ rule, time_zone: "UTC", anchor: "completion" }), rule).toEqual([
        ["recurrence.anchor", 'must be "due" for a rule with BYDAY, BYMONTHDAY or BYMONTH'],
      ]);
    }
    expect(issues({ rule: "FREQ=DAILY", time_zone: "UTC", anchor: "start" })).toEqual([
      ["recurrence.anchor", 'must be "due" or "completion"'],
    ]);
  });

  it("names missing fields, wrong types and unknown fields", () => {
    expect(issues({ time_zone: "UTC" })).toEqual([["recurrence.rule", "is required"]]);
    expect(issues({ rule: 7, time_zone: 7 })).toEqual([
      ["recurrence.rule", "must be a string"],
      ["recurrence.time_zone", "must be a string"],
    ]);
    expect(issues({ rule: "FREQ=DAILY", time_zone: "UTC", interval: 2 })).toEqual([["recurrence.interval", "is not a recurrence field"]]);
    expect(issues("FREQ=DAILY")).toEqual([["recurrence", "must be an object with rule, time_zone and anchor"]]);
  });
});

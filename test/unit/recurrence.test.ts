// Recurring tasks: the RRULE subset and its validation, and next due dates checked against
// python-dateutil (test/fixtures/recurrence.json, from scripts/fixtures/recurrence.py).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { Budget, BudgetExceeded, REQUEST_STEPS } from "../../src/recurrence/budget.ts";
import { nextDue, type Series, upcoming } from "../../src/recurrence/next.ts";
import { parseRule } from "../../src/recurrence/rule.ts";
import { NEVER_OCCURS, parseRecurrence, Recurrence } from "../../src/recurrence/schema.ts";

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

/** A series as a stored recurrence is read (parseRecurrence): also rules validation refuses today, such as ones that never occur. */
function series(rule: string, time_zone: string, dtstart: string, options: { anchor?: "due" | "completion"; index?: number } = {}): Series {
  return {
    ...parseRecurrence({ rule, time_zone, anchor: options.anchor ?? "due" }),
    dtstart: new Date(dtstart),
    index: options.index ?? 1,
  };
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

describe("a request's budget of occurrence math", () => {
  const NOW = "2026-06-01T12:00:00.000Z";
  /** The costliest series known (scripts/bench-recurrence.ts): COUNT counted from year 1 to 9999, INTERVALs past year lookups. */
  const COSTLIEST: [string, string, string][] = [
    ["FREQ=WEEKLY;INTERVAL=147;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT=10000000", "0001-01-01T09:00:00.000Z", "9999-01-01T09:00:00.000Z"],
    ["FREQ=YEARLY;INTERVAL=147;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT=10000000", "0001-01-01T09:00:00.000Z", "9999-01-01T09:00:00.000Z"],
    ["FREQ=DAILY;INTERVAL=147;BYMONTHDAY=31;BYMONTH=1,3;COUNT=10000000", "0001-01-01T09:00:00.000Z", "0001-01-01T09:00:00.000Z"],
    ["FREQ=DAILY;INTERVAL=147;COUNT=10000000", "0001-01-01T09:00:00.000Z", "9999-01-01T09:00:00.000Z"],
    ["FREQ=DAILY;INTERVAL=97;COUNT=10000000", "0001-01-01T09:00:00.000Z", "9999-01-01T09:00:00.000Z"],
    ["FREQ=DAILY;INTERVAL=147;BYDAY=FR;BYMONTHDAY=13", "0001-01-01T09:00:00.000Z", "0001-01-01T09:00:00.000Z"],
  ];
  const spent = (run: (budget: Budget) => unknown) => {
    const budget = new Budget(Number.MAX_SAFE_INTEGER);
    run(budget);
    return budget.spent;
  };

  it("one series' next due date, or its next 100, takes at most a fifth of a request's budget: the costliest known", () => {
    for (const [rule, dtstart, due] of COSTLIEST) {
      const s = series(rule, "Europe/Berlin", dtstart);
      const steps = Math.max(
        spent((budget) => nextDue(s, new Date(due), new Date(NOW), budget)),
        spent((budget) => upcoming(s, new Date(due), new Date(NOW), 100, budget)),
      );
      expect(steps, rule).toBeLessThanOrEqual(REQUEST_STEPS / 5);
    }
  });

  it("one series' next 100 due dates take at most a fifth of a request's budget: seeded random rules, starts and due dates", () => {
    const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    const rule = fc
      .tuple(
        fc.constantFrom("DAILY", "WEEKLY", "MONTHLY", "YEARLY"),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.tuple(fc.constantFrom("", "1", "2", "5", "-1", "-5", "27", "53", "-53"), fc.constantFrom(...WEEKDAYS)), {
          maxLength: 4,
        }),
        fc.array(fc.constantFrom(1, 13, 28, 29, 30, 31, -1, -31), { maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 3 }),
        fc.constantFrom("", ";COUNT=10", ";COUNT=10000000", ";UNTIL=99991231"),
        fc.constantFrom(...WEEKDAYS),
      )
      .map(([freq, interval, byDay, byMonthDay, byMonth, end, wkst]) =>
        [
          `FREQ=${freq};INTERVAL=${interval};WKST=${wkst}${end}`,
          byDay.length > 0 ? `BYDAY=${byDay.map(([ordinal, day]) => `${ordinal}${day}`).join(",")}` : "",
          byMonthDay.length > 0 ? `BYMONTHDAY=${byMonthDay.join(",")}` : "",
          byMonth.length > 0 ? `BYMONTH=${byMonth.join(",")}` : "",
        ]
          .filter((part) => part !== "")
          .join(";"),
      )
      .filter((text) => parseRule(text).ok);
    const start = fc.constantFrom("0001-01-01T09:00:00.000Z", "1900-02-28T09:00:00.000Z", "2026-01-31T09:00:00.000Z");
    const due = fc.constantFrom(undefined, "9999-06-01T09:00:00.000Z");
    fc.assert(
      fc.property(rule, start, due, fc.constantFrom("UTC", "Europe/Berlin", "Pacific/Apia"), (text, dtstart, dueDate, zone) => {
        const s = series(text, zone, dtstart);
        expect(spent((budget) => upcoming(s, new Date(dueDate ?? dtstart), new Date(NOW), 100, budget))).toBeLessThanOrEqual(
          REQUEST_STEPS / 5,
        );
      }),
      { seed: 20_261_205, numRuns: 1500 },
    );
  });

  it("is shared by a request's computations: 100 of the costliest stop with BudgetExceeded, having spent no more than it", () => {
    const budget = new Budget();
    const [rule, dtstart, due] = COSTLIEST[0] ?? ["", "", ""];
    const s = series(rule, "Europe/Berlin", dtstart);
    let computed = 0;
    const started = performance.now();
    expect(() => {
      for (; computed < 100; computed++) nextDue(s, new Date(due), new Date(NOW), budget);
    }).toThrow(BudgetExceeded);
    // Five fit, never all 100; the work stopped within a step of the budget.
    expect(computed).toBeGreaterThanOrEqual(5);
    expect(computed).toBeLessThan(100);
    expect(budget.spent).toBeLessThanOrEqual(REQUEST_STEPS + 1);
    // Generous (a busy machine): the budget is some milliseconds of CPU.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("leaves most of a request's budget to 100 plain completions", () => {
    const budget = new Budget();
    const s = series("FREQ=WEEKLY;BYDAY=MO,TH", "Europe/Berlin", "2026-03-02T08:00:00.000Z");
    for (let i = 0; i < 100; i++) nextDue(s, new Date("2026-06-01T07:00:00.000Z"), new Date(NOW), budget);
    expect(budget.spent).toBeLessThan(REQUEST_STEPS / 5);
  });

  it("spends the same steps for the same question, so whether a request fits never varies", () => {
    for (const [rule, dtstart, due] of COSTLIEST) {
      const s = series(rule, "America/New_York", dtstart);
      const run = () => spent((budget) => nextDue(s, new Date(due), new Date(NOW), budget));
      expect(run(), rule).toBe(run());
    }
  });

  it("ends at once the series of a stored rule that no month can hold", () => {
    const s = series("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "UTC", "0001-01-01T09:00:00.000Z");
    expect(spent((budget) => expect(nextDue(s, new Date("0001-01-01T09:00:00.000Z"), new Date(NOW), budget)).toBeNull())).toBeLessThan(100);
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

  it.each([
    ["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"],
    ["FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2,4,6,9,11"],
    ["FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30,31,-30"],
    ["FREQ=MONTHLY;BYDAY=5FR;BYMONTHDAY=13"],
    ["FREQ=YEARLY;BYDAY=-6FR,23MO;BYMONTH=5,7"],
    ["FREQ=YEARLY;INTERVAL=4;BYDAY=53MO;BYMONTH=1;COUNT=3"],
    ["FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=8,9,10,11,12,13,14;UNTIL=20300101"],
  ])("refuses %j, which no month can hold: it would never occur", (rule) => {
    expect(parseRule(rule).ok).toBe(true);
    expect(valid(rule)).toEqual([["recurrence.rule", NEVER_OCCURS]]);
  });

  it.each([
    ["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"],
    ["FREQ=YEARLY;BYDAY=53MO"],
    ["FREQ=MONTHLY;BYDAY=5FR;BYMONTH=2"],
    ["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"],
    ["FREQ=MONTHLY;BYMONTH=2"],
    ["FREQ=YEARLY;BYMONTHDAY=31;BYMONTH=2,3"],
    ["FREQ=DAILY;BYDAY=SU;BYMONTHDAY=8,9,10,11,12,13"],
  ])("accepts %j, which some month holds (however rarely)", (rule) => {
    expect(valid(rule)).toEqual([]);
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

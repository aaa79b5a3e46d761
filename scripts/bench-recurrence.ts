// npm run bench:recurrence: the occurrence math (src/recurrence/) on its own, in Node, in seconds
// and without a database. It prints the time (and budget steps) of one next due date over seeded
// random rules and over the worst rules known, and of the next due dates of a 100-completion batch
// (what src/db/tasks.ts computes between a batch's two statements), plain and pathological; warm
// (the same process again) and cold (a new process's first call, like a fresh isolate's).
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { Budget, BudgetExceeded, REQUEST_STEPS } from "../src/recurrence/budget.ts";
import { nextDue, type Series } from "../src/recurrence/next.ts";
import { parseRule } from "../src/recurrence/rule.ts";

const NOW = new Date("2026-06-01T12:00:00Z");
const ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Apia", "UTC"];

interface Case {
  rule: string;
  zone: string;
  dtstart: string;
  /** The completed occurrence's due date; default dtstart. */
  due?: string;
}

/** What clients schedule: series started recently, due now or soon. */
const PLAIN: Case[] = [
  { rule: "FREQ=DAILY", zone: "Europe/Berlin", dtstart: "2026-05-20T07:00:00Z", due: "2026-06-01T07:00:00Z" },
  { rule: "FREQ=WEEKLY;BYDAY=MO,TH", zone: "Europe/Berlin", dtstart: "2026-03-02T08:00:00Z", due: "2026-06-01T07:00:00Z" },
  { rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", zone: "America/New_York", dtstart: "2026-01-02T14:00:00Z" },
  { rule: "FREQ=MONTHLY;BYDAY=-1FR", zone: "America/New_York", dtstart: "2025-11-28T14:00:00Z" },
  { rule: "FREQ=MONTHLY;BYMONTHDAY=1;COUNT=24", zone: "Asia/Kolkata", dtstart: "2026-01-01T04:30:00Z" },
  { rule: "FREQ=YEARLY", zone: "UTC", dtstart: "2026-06-15T09:00:00Z" },
  { rule: "FREQ=DAILY;INTERVAL=3;UNTIL=20271231", zone: "Europe/Berlin", dtstart: "2026-05-30T16:00:00Z" },
  { rule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", zone: "Europe/Berlin", dtstart: "2026-04-06T06:30:00Z", due: "2026-05-29T06:30:00Z" },
];

/**
 * The costliest series known: found by searching the accepted subset (this script's random rules
 * and a grid of FREQ x INTERVAL x BY... x COUNT x series start, timed and counted in steps).
 * COUNT counted from year 1 up to a due date in 9999, INTERVALs whose years cannot be looked up,
 * rules that rarely or never occur on their grid, and a February 30 stored before validation
 * refused it.
 */
const WORST: Case[] = [
  {
    rule: "FREQ=WEEKLY;INTERVAL=147;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT=10000000",
    zone: "Europe/Berlin",
    dtstart: "0001-01-01T09:00:00Z",
    due: "9999-01-01T09:00:00Z",
  },
  {
    rule: "FREQ=YEARLY;INTERVAL=147;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT=10000000",
    zone: "Europe/Berlin",
    dtstart: "0001-01-01T09:00:00Z",
    due: "9999-01-01T09:00:00Z",
  },
  {
    rule: "FREQ=DAILY;INTERVAL=147;BYDAY=FR;BYMONTHDAY=13;COUNT=10000000",
    zone: "Europe/Berlin",
    dtstart: "0001-01-01T09:00:00Z",
    due: "9999-01-01T09:00:00Z",
  },
  { rule: "FREQ=DAILY;INTERVAL=97;COUNT=10000000", zone: "Europe/Berlin", dtstart: "0001-01-01T09:00:00Z", due: "9999-01-01T09:00:00Z" },
  { rule: "FREQ=YEARLY;COUNT=10000000", zone: "Europe/Berlin", dtstart: "0001-01-01T09:00:00Z", due: "9999-01-01T09:00:00Z" },
  {
    rule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT=10000000",
    zone: "Europe/Berlin",
    dtstart: "0001-01-01T09:00:00Z",
    due: "9999-01-01T09:00:00Z",
  },
  {
    rule: "FREQ=MONTHLY;INTERVAL=146;BYMONTH=2;BYMONTHDAY=29;COUNT=10000000",
    zone: "Europe/Berlin",
    dtstart: "0001-01-01T09:00:00Z",
    due: "9999-01-01T09:00:00Z",
  },
  { rule: "FREQ=MONTHLY;INTERVAL=53;BYDAY=-5SU;BYMONTH=2", zone: "UTC", dtstart: "0001-01-01T09:00:00Z" },
  { rule: "FREQ=DAILY;INTERVAL=147;BYDAY=MO", zone: "UTC", dtstart: "1900-02-28T09:00:00Z" },
  { rule: "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", zone: "UTC", dtstart: "2001-02-28T09:00:00Z" },
  { rule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", zone: "UTC", dtstart: "0001-01-01T09:00:00Z" },
];

const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
const STARTS = ["0001-01-01T09:00:00Z", "1900-02-28T09:00:00Z", "2000-02-29T09:00:00Z", "2026-01-31T09:00:00Z", "2026-05-01T09:00:00Z"];
const part = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
/** Seeded random rules of the accepted subset, with series starts and due dates. */
function randomCases(count: number): Case[] {
  const byDay = fc
    .array(fc.tuple(fc.constantFrom(0, 0, 1, 2, 3, 4, 5, -1, -2, -5, 27, 52, 53, -53), fc.constantFrom(...WEEKDAYS)), {
      minLength: 1,
      maxLength: 4,
    })
    .map((items) => items.map(([ordinal, day]) => `${ordinal === 0 ? "" : ordinal}${day}`).join(","));
  const text = fc
    .record({
      freq: fc.constantFrom("DAILY", "WEEKLY", "MONTHLY", "YEARLY"),
      interval: part(fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 1000 }))),
      byDay: part(byDay),
      byMonthDay: part(fc.array(fc.constantFrom(1, 13, 15, 28, 29, 30, 31, -1, -29, -31), { minLength: 1, maxLength: 3 })),
      byMonth: part(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 })),
      count: part(fc.constantFrom(2, 10, 1000, 10_000_000)),
      wkst: part(fc.constantFrom(...WEEKDAYS)),
    })
    .map((r) =>
      [
        `FREQ=${r.freq}`,
        r.interval && `INTERVAL=${r.interval}`,
        r.byDay && `BYDAY=${r.byDay}`,
        r.byMonthDay && `BYMONTHDAY=${r.byMonthDay.join(",")}`,
        r.byMonth && `BYMONTH=${r.byMonth.join(",")}`,
        r.count && `COUNT=${r.count}`,
        r.wkst && `WKST=${r.wkst}`,
      ]
        .filter(Boolean)
        .join(";"),
    )
    // What the parser accepts, so the sample is the same whatever validation adds: it includes
    // rules that never occur, which validation refuses now but older rows may hold.
    .filter((rule) => parseRule(rule).ok);
  const cases = fc.record({
    rule: text,
    zone: fc.constantFrom(...ZONES),
    dtstart: fc.constantFrom(...STARTS),
    due: fc.constantFrom(undefined, "9999-06-01T09:00:00Z"),
  });
  return fc.sample(cases, { seed: 20_261_205, numRuns: count }).map(({ due, ...c }) => (due === undefined ? c : { ...c, due }));
}

function seriesOf(c: Case): Series {
  const parsed = parseRule(c.rule);
  if (!parsed.ok) throw new Error(`${c.rule}: ${parsed.message}`);
  return { rule: parsed.rule, time_zone: c.zone, anchor: "due", dtstart: new Date(c.dtstart), index: 1 };
}

/** One next due date: milliseconds and steps. */
function once(c: Case): { ms: number; steps: number } {
  const budget = new Budget(Number.MAX_SAFE_INTEGER);
  const series = seriesOf(c);
  const started = performance.now();
  nextDue(series, new Date(c.due ?? c.dtstart), NOW, budget);
  return { ms: performance.now() - started, steps: budget.spent };
}

/** A batch's next due dates from one request budget, as src/db/tasks.ts computes them. */
function batch(cases: Case[]): { ms: number; steps: number; refusedAt: number | null } {
  const budget = new Budget();
  const all = Array.from({ length: 100 }, (_, i) => seriesOf(cases[i % cases.length] as Case));
  const started = performance.now();
  let refusedAt: number | null = null;
  for (const [i, series] of all.entries()) {
    const c = cases[i % cases.length] as Case;
    try {
      nextDue(series, new Date(c.due ?? c.dtstart), NOW, budget);
    } catch (error) {
      if (!(error instanceof BudgetExceeded)) throw error;
      refusedAt = i;
      break;
    }
  }
  return { ms: performance.now() - started, steps: budget.spent, refusedAt };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
const ms = (value: number) => `${value.toFixed(value < 1 ? 3 : 1)} ms`;

function summary(label: string, samples: { ms: number; steps: number }[]): string {
  const times = samples.map((s) => s.ms).sort((a, b) => a - b);
  const steps = samples.map((s) => s.steps).sort((a, b) => a - b);
  return `${label.padEnd(34)} typical ${ms(quantile(times, 0.5))}, p99 ${ms(quantile(times, 0.99))}, worst ${ms(times.at(-1) ?? 0)}   steps typical ${quantile(steps, 0.5)}, p99 ${quantile(steps, 0.99)}, worst ${steps.at(-1)}`;
}

/** The best of `runs` (a warm figure: what the code costs once JIT-compiled, without GC pauses). */
function best<T extends { ms: number }>(runs: number, run: () => T): T {
  let result = run();
  for (let i = 1; i < runs; i++) {
    const next = run();
    if (next.ms < result.ms) result = next;
  }
  return result;
}

const COLD = process.argv.indexOf("--cold");
if (COLD >= 0) {
  // A child: the first call of a new process (a new isolate), for one kind of work. Intl's first
  // time zone (loading ICU's zone data) is timed apart: a Worker has paid it when it validated
  // the task's time zone.
  const kind = process.argv[COLD + 1];
  let started = performance.now();
  new Intl.DateTimeFormat("en-US", { timeZone: "Etc/GMT+1", timeZoneName: "longOffset" }).format(0);
  const intl = performance.now() - started;
  started = performance.now();
  const result =
    kind === "plain" ? once(PLAIN[1] as Case) : kind === "worst" ? once(WORST[0] as Case) : batch(kind === "batch-plain" ? PLAIN : WORST);
  console.log(JSON.stringify({ ...result, ms: performance.now() - started, intl }));
} else {
  const random = randomCases(2000);
  // Warm up: JIT, Intl formatters of every zone.
  for (const c of [...random, ...WORST, ...PLAIN]) once(c);
  console.log(`Occurrence math in Node ${process.version}; request budget ${REQUEST_STEPS} steps\n`);
  console.log("One next due date, warm (best of 3 each):");
  console.log(
    summary(
      `  ${random.length} random rules`,
      random.map((c) => best(3, () => once(c))),
    ),
  );
  console.log(
    summary(
      `  ${PLAIN.length} plain rules`,
      PLAIN.map((c) => best(3, () => once(c))),
    ),
  );
  console.log(
    summary(
      `  ${WORST.length} worst known rules`,
      WORST.map((c) => best(3, () => once(c))),
    ),
  );
  for (const c of WORST) {
    const { ms: time, steps } = best(3, () => once(c));
    console.log(
      `    ${ms(time).padStart(9)} ${String(steps).padStart(6)} steps  ${c.rule} from ${c.dtstart.slice(0, 10)}${c.due ? `, due ${c.due.slice(0, 10)}` : ""}`,
    );
  }
  console.log("\nA batch of 100 completions (its next due dates from one request budget), warm (20 runs):");
  for (const [label, cases] of [
    ["plain", PLAIN],
    ["worst", WORST],
  ] as const) {
    const runs = Array.from({ length: 20 }, () => batch(cases));
    const times = runs.map((run) => run.ms).sort((a, b) => a - b);
    const [first] = runs;
    const outcome = first?.refusedAt == null ? "all computed" : `refused at completion ${first.refusedAt} (recurrence_too_complex)`;
    console.log(
      `  ${label.padEnd(6)} typical ${ms(quantile(times, 0.5))}, worst ${ms(times.at(-1) ?? 0)}, ${first?.steps} steps: ${outcome}`,
    );
  }
  console.log("\nCold: a new process's first call (5 processes each; the zones' first formatters included):");
  const intl: number[] = [];
  for (const kind of ["plain", "worst", "batch-plain", "batch-worst"]) {
    const samples = Array.from({ length: 5 }, () => {
      const out = execFileSync(process.execPath, [import.meta.filename, "--cold", kind], { encoding: "utf8" });
      return JSON.parse(out) as { ms: number; steps: number; intl: number };
    });
    intl.push(...samples.map((s) => s.intl));
    const times = samples.map((s) => s.ms).sort((a, b) => a - b);
    console.log(`  ${kind.padEnd(12)} typical ${ms(quantile(times, 0.5))}, worst ${ms(times.at(-1) ?? 0)}`);
  }
  intl.sort((a, b) => a - b);
  console.log(`  (before these: Intl's first time zone, ICU's data, typical ${ms(quantile(intl, 0.5))}, worst ${ms(intl.at(-1) ?? 0)})`);
}

// The floor Worker (scripts/bench/floor/index.ts) bundled as wrangler would upload it, with the
// project's own compatibility date and flags (read from wrangler.toml), so that the only
// difference from the real Worker is what the real Worker does.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tomlValue } from "../lib/worker.ts";
import { type CpuProfile, profileWhile } from "./profile.ts";
import { drive, latencySummary, type Scenario } from "./scenarios.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

export function buildFloor(outdir: string): string {
  return buildBenchWorker(outdir, "scripts/bench/floor/index.ts", "task-api-floor");
}

/**
 * A Worker of the benchmark's own (`main`, relative to the project) bundled as wrangler would
 * upload it, with the project's compatibility date and flags; the bundle's path.
 */
export function buildBenchWorker(outdir: string, main: string, name: string): string {
  mkdirSync(outdir, { recursive: true });
  const config = path.join(outdir, "wrangler.toml");
  writeFileSync(
    config,
    [
      `name = ${JSON.stringify(name)}`,
      `main = ${JSON.stringify(path.join(ROOT, main))}`,
      `compatibility_date = ${tomlValue("compatibility_date")}`,
      `compatibility_flags = ${tomlValue("compatibility_flags")}`,
      "",
    ].join("\n"),
  );
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
      "deploy",
      "--dry-run",
      "--config",
      config,
      "--outdir",
      path.join(outdir, "bundle"),
    ],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" }, stdio: "pipe" },
  );
  // esbuild names the bundle after its entry point.
  return path.join(outdir, "bundle", `${path.basename(main, path.extname(main))}.js`);
}

export interface Side {
  rps: number;
  /** CPU time of the Worker's workerd process per request, µs, from /proc (every thread). */
  cpuMicros: number;
  /** Median latency with one connection, ms. */
  p50One: number;
  /** Where the isolate's time goes (a V8 profile, taken apart from the measured runs), when asked for. */
  profile?: CpuProfile;
}

export interface FloorComparison {
  scenario: string;
  ours: Side;
  floor: Side;
  /** Our figure ÷ the floor's, the median over the rounds (each round measures both). */
  ratios: { rps: number; cpu: number; p50One: number };
  rounds: number;
}

export interface Target {
  url: string;
  inspectorPort: number;
  bundlePath: string;
}

type Who = "ours" | "floor";

/** The workerd process serving the Worker whose inspector listens on `port`. */
export function workerdPid(inspectorPort: number): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (args[0]?.endsWith("workerd") && args.includes(`--inspector-addr=127.0.0.1:${inspectorPort}`)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no workerd with inspector port ${inspectorPort}`);
}

/** User plus system CPU time of a process and all its threads, in seconds. */
export function cpuSeconds(pid: number): number {
  // Fields after the command (which may hold spaces, inside parentheses): utime is the 14th field, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/**
 * Our Worker and the floor on the same scenario, in rounds; each round measures both, the first
 * alternating, so that a machine that slows down mid-run slows both alike. Per round and side:
 * req/s at `connections` with the CPU its workerd process used meanwhile, then the median
 * latency at one connection. The ratios are the medians of the rounds' ratios. Then one V8 profile
 * of each, apart from the measured runs, says where the time goes.
 */
export async function compareWithFloor(
  scenario: Scenario,
  sides: { ours: Target; floor: Target },
  options: {
    connections: number;
    seconds: number;
    warmupSeconds: number;
    tokens: Record<string, string>;
    rounds?: number;
    /** Profile each side after the rounds (default true). */
    profile?: boolean;
    /** Where to write the raw profiles, <scenario>-<side>.cpuprofile. */
    profileDir?: string;
  },
): Promise<FloorComparison> {
  const rounds = options.rounds ?? 6;
  const run = (target: Target, connections: number, length: { seconds: number }) =>
    drive(scenario, { url: target.url, connections, tokens: options.tokens }, length);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
  const pids = { ours: workerdPid(sides.ours.inspectorPort), floor: workerdPid(sides.floor.inspectorPort) };
  type Round = { rps: number; cpuMicros: number; p50One: number };
  const measured: Record<Who, Round[]> = { ours: [], floor: [] };
  for (const who of ["ours", "floor"] as const) await run(sides[who], options.connections, { seconds: options.warmupSeconds });
  const seconds = options.seconds / rounds;
  for (let round = 0; round < rounds; round++) {
    for (const who of round % 2 === 0 ? (["ours", "floor"] as const) : (["floor", "ours"] as const)) {
      const before = cpuSeconds(pids[who]);
      const { latencies } = await run(sides[who], options.connections, { seconds });
      const used = cpuSeconds(pids[who]) - before;
      await settle();
      const single = await run(sides[who], 1, { seconds: Math.min(seconds, 2) });
      await settle();
      measured[who].push({
        rps: latencies.length / seconds,
        cpuMicros: (used * 1e6) / Math.max(latencies.length, 1),
        p50One: latencySummary(single.latencies).p50,
      });
    }
  }
  const profileOf = (who: Who) =>
    profileWhile(
      sides[who].inspectorPort,
      sides[who].bundlePath,
      () => run(sides[who], options.connections, { seconds: 4 }),
      options.profileDir === undefined
        ? undefined
        : path.join(options.profileDir, `${scenario.name.replace(/\W+/g, "-")}-${who}.cpuprofile`),
    );
  const side = async (who: Who): Promise<Side> => ({
    rps: median(measured[who].map((r) => r.rps)),
    cpuMicros: median(measured[who].map((r) => r.cpuMicros)),
    p50One: median(measured[who].map((r) => r.p50One)),
    ...(options.profile === false ? {} : { profile: await profileOf(who) }),
  });
  const ratio = (key: keyof Round) => median(measured.ours.map((r, i) => r[key] / (measured.floor[i] as Round)[key]));
  return {
    scenario: scenario.name,
    ours: await side("ours"),
    floor: await side("floor"),
    ratios: { rps: ratio("rps"), cpu: ratio("cpuMicros"), p50One: ratio("p50One") },
    rounds,
  };
}

export function floorTable(comparisons: FloorComparison[]): string {
  const header = ["scenario", "req/s ours", "floor", "ratio", "CPU µs ours", "floor", "ratio", "p50@1 ms ours", "floor", "ratio"];
  const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "-");
  const rows = comparisons.map(({ scenario, ours, floor, ratios }) => [
    scenario,
    fixed(ours.rps, 0),
    fixed(floor.rps, 0),
    `${fixed(ratios.rps, 2)}×`,
    fixed(ours.cpuMicros, 0),
    fixed(floor.cpuMicros, 0),
    `${fixed(ratios.cpu, 2)}×`,
    fixed(ours.p50One, 2),
    fixed(floor.p50One, 2),
    `${fixed(ratios.p50One, 2)}×`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

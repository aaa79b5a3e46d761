// npm run soak: 100 concurrent connections for 60 seconds of mixed traffic against the local
// stack of `npm run bench` (embedded Postgres, PgBouncer in Hyperdrive's place, the deployable
// bundle in workerd with the rate-limit binding on). Prints latency percentiles overall and per
// 10-second window, counts every error and non-2xx, and judges memory two ways: workerd's
// resident memory sampled every 2 seconds, and the Worker isolate's JavaScript heap after a full
// GC before and after the soak (what a leak in our code would grow). workerd's RSS first climbs to
// a working set (it does with a hello-world Worker too), so the mix runs in rounds until RSS
// levels off before the measured minute. Exits non-zero on any error, non-2xx or memory growth.
// Figures go to .bench/soak.json (git-ignored).
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { drive, latencySummary, weightedMix } from "./bench/scenarios.ts";
import { startStack } from "./bench/stack.ts";
import { heapAfterGc, openInspector } from "./lib/inspector.ts";
import { freePort } from "./lib/postgres.ts";
import { commandLine, descendantsOf, residentBytes } from "./lib/proc.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SETTINGS = {
  seconds: env("SOAK_SECONDS", 60),
  /** Warm-up rounds run until one grows workerd's RSS by less than steadyRatio, at most this long. */
  warmupMaxSeconds: env("SOAK_WARMUP_MAX_SECONDS", 180),
  warmupRoundSeconds: 10,
  steadyRatio: 0.03,
  connections: env("SOAK_CONNECTIONS", 100),
  /** SOAK_RATE_LIMITER=0: without the RATE_LIMITER binding, to see what it costs. */
  rateLimiter: env("SOAK_RATE_LIMITER", 1) !== 0,
  windowSeconds: 10,
  sampleSeconds: 2,
  heavyTasks: 10_000,
  otherUsers: 100,
  tasksPerOtherUser: 1_000,
  deletePool: 40_000,
  poolSize: 20,
};
/**
 * Memory is "flat" when the last third of the RSS samples is within this of the first third, and
 * the isolate's heap after GC grew by less than `heapBytes` over the whole soak.
 */
const FLAT = { bytes: 16 * 1024 * 1024, ratio: 0.05, heapBytes: 2 * 1024 * 1024 };
const MIB = 1024 * 1024;
const log = (line: string) => console.log(line);

/** What a busy frontend sends: mostly reads, every kind of write. Weights in percent. */
const MIX: Record<string, number> = {
  "list first page": 25,
  "list status+tag+q, sort=due_date": 8,
  "list deep page (cursor)": 4,
  "get one": 35,
  create: 10,
  patch: 8,
  put: 4,
  "complete (toggle)": 3,
  delete: 3,
};

/** The workerd processes this script started (through Miniflare), and their total RSS. */
async function workerdResident(): Promise<number> {
  let total = 0;
  for (const pid of await descendantsOf(process.pid)) {
    if ((await commandLine(pid)).includes("workerd")) total += await residentBytes(pid);
  }
  return total;
}

async function main(): Promise<number> {
  const inspectorPort = await freePort();
  // A limit far above the soak's rate: the binding is consulted on every request, as deployed,
  // without turning the soak into a rate-limit test.
  const rateLimit = SETTINGS.rateLimiter ? { rateLimit: { limit: 1_000_000_000, period: 60 as const } } : {};
  const stack = await startStack(SETTINGS, log, { ...rateLimit, inspectorPort });
  stopping = stack.stop;
  const inspector = await openInspector(inspectorPort);
  try {
    const mix = weightedMix("soak mix", stack.scenarios, MIX);
    const options = { url: stack.worker.url, connections: SETTINGS.connections, tokens: stack.tokens };
    log(`Warming up in ${SETTINGS.warmupRoundSeconds}-s rounds until workerd's RSS levels off (at most ${SETTINGS.warmupMaxSeconds} s)…`);
    const warmup = [await workerdResident()];
    let warmupSeconds = 0;
    let warmupFailures = 0;
    for (;;) {
      const { result } = await drive(mix, options, { seconds: SETTINGS.warmupRoundSeconds });
      warmupFailures += result.errors + result.timeouts + result.non2xx;
      warmupSeconds += SETTINGS.warmupRoundSeconds;
      const previous = warmup.at(-1) as number;
      const now = await workerdResident();
      warmup.push(now);
      if (now - previous < SETTINGS.steadyRatio * previous || warmupSeconds >= SETTINGS.warmupMaxSeconds) break;
    }
    const steady = (warmup.at(-1) as number) - (warmup.at(-2) as number) < SETTINGS.steadyRatio * (warmup.at(-2) as number);
    log(
      `  RSS after each round: ${warmup.map((bytes) => (bytes / MIB).toFixed(0)).join(" → ")} MiB (${warmupSeconds} s${steady ? "" : ", NOT levelled off"}); errors and non-2xx: ${warmupFailures}.`,
    );
    const heapBefore = await heapAfterGc(inspector);

    log(`Soaking: ${SETTINGS.connections} connections for ${SETTINGS.seconds} s of mixed traffic…`);
    const memory: { second: number; bytes: number }[] = [];
    const windows: { latencies: number[]; non2xx: number }[] = [];
    const statuses: Record<string, number> = {};
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const sampling = setInterval(() => {
      const second = elapsed();
      void workerdResident().then((bytes) => memory.push({ second, bytes }));
    }, SETTINGS.sampleSeconds * 1000);
    memory.push({ second: 0, bytes: await workerdResident() });
    const { latencies, result } = await drive(
      mix,
      {
        ...options,
        onResponse: (status, ms) => {
          const index = Math.min(Math.floor(elapsed() / SETTINGS.windowSeconds), Math.ceil(SETTINGS.seconds / SETTINGS.windowSeconds) - 1);
          windows[index] ??= { latencies: [], non2xx: 0 };
          const window = windows[index];
          window.latencies.push(ms);
          if (status < 200 || status > 299) window.non2xx++;
          statuses[status] = (statuses[status] ?? 0) + 1;
        },
      },
      { seconds: SETTINGS.seconds },
    );
    clearInterval(sampling);
    memory.push({ second: elapsed(), bytes: await workerdResident() });
    const heapAfter = await heapAfterGc(inspector);
    const heapGrowth = heapAfter - heapBefore;

    const overall = latencySummary(latencies);
    const errors = result.errors + result.timeouts;
    const non2xx = result.non2xx;

    memory.sort((a, b) => a.second - b.second);
    const third = Math.max(1, Math.floor(memory.length / 3));
    const mean = (samples: typeof memory) => samples.reduce((sum, s) => sum + s.bytes, 0) / samples.length;
    const early = mean(memory.slice(0, third));
    const late = mean(memory.slice(-third));
    const growth = late - early;
    const rssFlat = growth <= Math.max(FLAT.bytes, FLAT.ratio * early);
    const heapFlat = heapGrowth < FLAT.heapBytes;
    const flat = rssFlat && heapFlat;
    const slopeMiBPerMinute = slope(memory.map((s) => [s.second / 60, s.bytes / MIB]));

    log("");
    log(
      `Mix: ${Object.entries(MIX)
        .map(([name, weight]) => `${name} ${weight}%`)
        .join(", ")}.`,
    );
    log(
      `Requests: ${overall.requests} in ${SETTINGS.seconds} s (${(overall.requests / SETTINGS.seconds).toFixed(0)} req/s); statuses ${JSON.stringify(statuses)}.`,
    );
    log(`Errors (connection errors + timeouts): ${errors}; non-2xx: ${non2xx}.`);
    log(
      `Latency overall: p50 ${overall.p50.toFixed(1)} ms, p95 ${overall.p95.toFixed(1)} ms, p99 ${overall.p99.toFixed(1)} ms, max ${overall.max.toFixed(0)} ms.`,
    );
    log("");
    log("  window      requests  req/s    p50 ms   p95 ms   p99 ms   non-2xx");
    windows.forEach((window, i) => {
      const s = latencySummary(window.latencies);
      const from = i * SETTINGS.windowSeconds;
      log(
        `  ${`${from}-${from + SETTINGS.windowSeconds} s`.padEnd(10)}  ${String(s.requests).padStart(8)}  ${(s.requests / SETTINGS.windowSeconds).toFixed(0).padStart(5)}  ${s.p50.toFixed(1).padStart(8)} ${s.p95.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)}  ${String(window.non2xx).padStart(8)}`,
      );
    });
    log("");
    log(`workerd RSS, sampled every ${SETTINGS.sampleSeconds} s: ${memory.map((s) => (s.bytes / MIB).toFixed(0)).join(" ")} MiB`);
    log(
      `  first third ${(early / MIB).toFixed(1)} MiB, last third ${(late / MIB).toFixed(1)} MiB, growth ${(growth / MIB).toFixed(1)} MiB, trend ${slopeMiBPerMinute.toFixed(2)} MiB/min: ${rssFlat ? "flat" : "GROWING"}.`,
    );
    log(
      `Worker isolate's JS heap after a full GC: ${(heapBefore / MIB).toFixed(2)} MiB before, ${(heapAfter / MIB).toFixed(2)} MiB after (${heapGrowth >= 0 ? "+" : ""}${(heapGrowth / 1024).toFixed(0)} KiB over ${overall.requests} requests): ${heapFlat ? "flat" : "GROWING"}.`,
    );
    const passed = errors === 0 && non2xx === 0 && warmupFailures === 0 && flat;
    log(
      `Soak ${passed ? "passed" : "FAILED"}: ${errors === 0 && non2xx === 0 && warmupFailures === 0 ? "zero errors" : "errors"}, memory ${flat ? "flat" : "not flat"}.`,
    );

    const figures = {
      at: new Date().toISOString(),
      settings: SETTINGS,
      mix: MIX,
      overall: { ...overall, rps: overall.requests / SETTINGS.seconds, errors, non2xx, statuses },
      windows: windows.map((window) => ({ ...latencySummary(window.latencies), non2xx: window.non2xx })),
      warmup: { seconds: warmupSeconds, rssBytes: warmup, steady, failures: warmupFailures },
      memory: { samples: memory, earlyBytes: early, lateBytes: late, growthBytes: growth, slopeMiBPerMinute, rssFlat },
      heap: { beforeBytes: heapBefore, afterBytes: heapAfter, growthBytes: heapGrowth, flat: heapFlat },
      passed,
    };
    await mkdir(path.join(ROOT, ".bench"), { recursive: true });
    await writeFile(path.join(ROOT, ".bench/soak.json"), JSON.stringify(figures, null, 2));
    log("Wrote .bench/soak.json.");
    return passed ? 0 : 1;
  } finally {
    inspector.close();
    await stack.stop();
  }
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const num = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const den = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

let stopping: (() => Promise<void>) | undefined;
process.on("SIGINT", () => void (stopping?.() ?? Promise.resolve()).then(() => process.exit(130)));
process.exitCode = await main();

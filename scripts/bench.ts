// npm run bench: the local stack as production-like as this machine allows (embedded Postgres,
// PgBouncer in transaction mode in Hyperdrive's place, the deployable bundle in workerd), bulk
// data loaded with COPY, one load scenario at a time with autocannon, and a report: table,
// targets, query plans, bundle size, token verification cost, connection setup cost.
// Figures go to .bench/ (git-ignored) as JSON and an SVG chart.
import path from "node:path";
import { HEAVY_USER } from "./bench/load-data.ts";
import { benchConnections, benchVerify, describeVerify } from "./bench/micro.ts";
import { checkPlans } from "./bench/plans.ts";
import { type CpuProfile, profileWhile } from "./bench/profile.ts";
import { svgChart, table, writeResults } from "./bench/report.ts";
import { drive, runScenario, type ScenarioResult } from "./bench/scenarios.ts";
import { SECRET, startStack } from "./bench/stack.ts";
import { freePort } from "./lib/postgres.ts";
import { startWorker } from "./lib/worker.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SETTINGS = {
  seconds: env("BENCH_SECONDS", 12),
  warmupSeconds: env("BENCH_WARMUP_SECONDS", 3),
  connections: env("BENCH_CONNECTIONS", 100),
  heavyTasks: env("BENCH_HEAVY_TASKS", 10_000),
  otherUsers: env("BENCH_OTHER_USERS", 1_000),
  tasksPerOtherUser: env("BENCH_TASKS_PER_USER", 1_000),
  deletePool: env("BENCH_DELETE_POOL", 60_000),
  poolSize: env("BENCH_POOL_SIZE", 20),
};
const TARGETS = { p95Ms: 50, heavyListVsGet: 1.5, bundleGzipKiB: 150, verifyMicros: 50 };
const log = (line: string) => console.log(line);

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse()) await step().catch(() => {});
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

async function main(): Promise<void> {
  const stack = await startStack(SETTINGS, log);
  cleanups.push(() => stack.stop());
  const { postgres, admin, pooler, bundle, worker, load, tokens, deepCursor } = stack;
  const list = stack.scenarios;
  const gzipKiB = Number(/gzip: ([\d.]+) KiB/.exec(bundle.report)?.[1] ?? Number.NaN);

  const results: ScenarioResult[] = [];
  for (const scenario of list) {
    const result = await runScenario(scenario, { url: worker.url, tokens, db: admin, ...SETTINGS });
    results.push(result);
    log(
      `  ${scenario.name}: ${result.rps.toFixed(0)} req/s, p95 ${result.p95.toFixed(1)} ms, errors ${result.errors}, non-2xx ${result.non2xx}`,
    );
  }

  log("Profiling the Worker's CPU per request (V8 inspector)…");
  const inspectorPort = await freePort();
  const profiled = await startWorker(bundle.path, { hyperdrive: pooler.url, bindings: { BETTER_AUTH_SECRET: SECRET }, inspectorPort });
  cleanups.push(() => profiled.stop());
  const profiles: { scenario: string; requests: number; profile: CpuProfile }[] = [];
  for (const name of ["get one", "list first page"]) {
    const scenario = list.find((s) => s.name === name);
    if (!scenario) continue;
    let requests = 0;
    const profile = await profileWhile(inspectorPort, bundle.path, async () => {
      const { latencies } = await drive(scenario, { url: profiled.url, connections: SETTINGS.connections, tokens }, { seconds: 6 });
      requests = latencies.length;
    });
    profiles.push({ scenario: name, requests, profile });
  }

  const plans = await checkPlans(postgres.url, HEAVY_USER, [
    "limit=100",
    "status=pending&tag=work&q=report&sort=due_date",
    `limit=100&cursor=${deepCursor}`,
  ]);
  log("Measuring token verification and connection setup…");
  const verify = await benchVerify(SECRET);
  const viaPooler = await benchConnections(pooler.url);
  const direct = await benchConnections(postgres.url, 100);

  const byName = (name: string) => results.find((r) => r.name === name);
  const heavyList = byName("list first page");
  const getOne = byName("get one");
  const listVsGet = heavyList && getOne ? heavyList.p95 / getOne.p95 : Number.NaN;
  const targets = [
    ["zero errors and non-2xx at 100 connections", results.every((r) => r.errors === 0 && r.non2xx === 0)],
    [`every scenario p95 < ${TARGETS.p95Ms} ms`, results.every((r) => r.p95 < TARGETS.p95Ms)],
    ["exactly one SQL statement per API call", results.every((r) => Math.abs(r.sqlPerRequest - 1) < 0.005)],
    [`heavy list p95 ≤ ${TARGETS.heavyListVsGet}× get-one p95 (${listVsGet.toFixed(2)}×)`, listVsGet <= TARGETS.heavyListVsGet],
    [`bundle ≤ ${TARGETS.bundleGzipKiB} KiB gzipped (${gzipKiB} KiB)`, gzipKiB <= TARGETS.bundleGzipKiB],
    [
      `HS256 verification ≤ ${TARGETS.verifyMicros} µs (${verify.cachedKeyMicros.toFixed(1)} µs)`,
      verify.cachedKeyMicros <= TARGETS.verifyMicros,
    ],
    ["every list query of the heavy user on an index", plans.every((p) => !p.seqScan)],
  ] as const;

  log("");
  log(
    `Worker: the deployable bundle (wrangler deploy --dry-run) in workerd via Miniflare; database: Postgres behind PgBouncer (transaction mode, pool ${SETTINGS.poolSize}).`,
  );
  log(
    `Load: ${SETTINGS.connections} connections, ${SETTINGS.seconds} s per scenario after ${SETTINGS.warmupSeconds} s warm-up; SQL/req counted over 1000 requests.`,
  );
  log("");
  log(table(results));
  log("");
  for (const { scenario, requests, profile } of profiles) {
    const cpuMicros = (profile.busy * profile.seconds * 1e6) / Math.max(requests, 1);
    log(
      `Worker CPU per request, "${scenario}": ${cpuMicros.toFixed(0)} µs (isolate busy ${(profile.busy * 100).toFixed(0)}% of ${profile.seconds.toFixed(1)} s, ${requests} requests):`,
    );
    for (const part of profile.parts.slice(0, 12)) {
      log(
        `  ${part.part.padEnd(44)} ${part.percent.toFixed(1).padStart(5)}%  ${((part.percent / 100) * cpuMicros).toFixed(0).padStart(5)} µs`,
      );
    }
    log("");
  }
  log("Query plans (heavy user):");
  for (const p of plans) log(`  ${p.seqScan ? "SEQ SCAN" : "index   "}  ${p.query.padEnd(50)} ${p.top}`);
  log("");
  log(`Bundle: ${bundle.report.match(/Total Upload: .*/)?.[0] ?? "?"}`);
  for (const line of describeVerify(verify)) log(line);
  log(
    `Connection setup (local only): SELECT 1 on an open connection ${viaPooler.persistentMs.toFixed(2)} ms; new connection per query through PgBouncer ${viaPooler.newPerQueryMs.toFixed(2)} ms, direct to Postgres ${direct.newPerQueryMs.toFixed(2)} ms.`,
  );
  log(
    "  The local Hyperdrive simulation opens a connection per request; production Hyperdrive keeps warm pooled connections near the Worker, so these figures include a cost production does not pay.",
  );
  log("");
  log("Targets:");
  for (const [name, met] of targets) log(`  ${met ? "met   " : "MISSED"}  ${name}`);

  const figures = {
    at: new Date().toISOString(),
    settings: SETTINGS,
    load,
    scenarios: results,
    plans,
    bundle: { gzipKiB, report: bundle.report.match(/Total Upload: .*/)?.[0] ?? null },
    verify,
    profiles,
    connections: { pooler: viaPooler, direct },
    targets: Object.fromEntries(targets),
  };
  const written = await writeResults(path.join(ROOT, ".bench"), figures, svgChart(results, TARGETS.p95Ms));
  log("");
  log(`Wrote ${path.relative(ROOT, written.json)} and ${path.relative(ROOT, written.svg)}.`);
}

try {
  await main();
} finally {
  await cleanup();
}

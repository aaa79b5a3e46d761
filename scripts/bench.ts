// npm run bench: the local stack as production-like as this machine allows (embedded Postgres,
// PgBouncer in transaction mode in Hyperdrive's place, the deployable bundle in workerd), bulk
// data loaded with COPY, one load scenario at a time with autocannon, the floor (a minimal Worker
// running our statements) beside ours, sync and live figures, and a report: table, floor ratios
// and CPU profiles, targets, query plans, bundle size, token verification and connection setup.
// Figures go to .bench/ (git-ignored) as JSON and an SVG chart.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { changesRowsStatement } from "../src/db/changes.ts";
import { buildFloor, compareWithFloor, type FloorComparison, floorTable } from "./bench/floor.ts";
import { fanOut, fullSync, notifyCost } from "./bench/live.ts";
import { HEAVY_USER, WRITER_USER } from "./bench/load-data.ts";
import { benchConnections, benchVerify, describeVerify } from "./bench/micro.ts";
import { checkPlans, listStatements } from "./bench/plans.ts";
import { svgChart, table, writeResults } from "./bench/report.ts";
import { latencySummary, runScenario, type ScenarioResult } from "./bench/scenarios.ts";
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
const TARGETS = {
  p95Ms: 50,
  heavyListVsGet: 1.5,
  bundleGzipKiB: 200,
  verifyMicros: 50,
  listSqlMs: 3,
  floorRps: 0.9,
  floorCpu: 1.2,
  floorP50: 1.15,
};
/** The calls the floor Worker answers as we do. */
const FLOOR_SCENARIOS = ["get one", "list first page"];
const log = (line: string) => console.log(line);

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse()) await step().catch(() => {});
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

async function main(): Promise<void> {
  const stack = await startStack(SETTINGS, log);
  cleanups.push(() => stack.stop());
  const { postgres, admin, pooler, bundle, worker, load, layout, tokens, deepCursor } = stack;
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

  log("The floor: a minimal Worker running our get-one and list statements (scripts/bench/floor/)…");
  const scratch = await mkdtemp(path.join(tmpdir(), "task-api-floor-"));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  const oursPort = await freePort();
  const profiled = await startWorker(bundle.path, {
    hyperdrive: pooler.url,
    bindings: { BETTER_AUTH_SECRET: SECRET },
    inspectorPort: oursPort,
    checkout: stack.checkout,
  });
  cleanups.push(() => profiled.stop());
  const floorPath = buildFloor(scratch);
  const floorPort = await freePort();
  const floor = await startWorker(floorPath, { hyperdrive: pooler.url, inspectorPort: floorPort, bare: true });
  cleanups.push(() => floor.stop());
  // The same floor behind this project's [assets] block (run_worker_first for the API paths):
  // what the platform's static-assets layer costs a request here, with none of our code.
  const assetsPort = await freePort();
  const floorWithAssets = await startWorker(floorPath, { hyperdrive: pooler.url, inspectorPort: assetsPort, bare: true, assets: true });
  cleanups.push(() => floorWithAssets.stop());
  const sides = {
    ours: { url: profiled.url, inspectorPort: oursPort, bundlePath: bundle.path },
    floor: { url: floor.url, inspectorPort: floorPort, bundlePath: floorPath },
    floorWithAssets: { url: floorWithAssets.url, inspectorPort: assetsPort, bundlePath: floorPath },
  };
  const measureOptions = {
    connections: SETTINGS.connections,
    seconds: SETTINGS.seconds,
    warmupSeconds: SETTINGS.warmupSeconds,
    tokens,
  };
  const comparisons: FloorComparison[] = [];
  /** Ours against the floor behind the same [assets] block: what is ours alone. */
  const likeForLike: FloorComparison[] = [];
  for (const name of FLOOR_SCENARIOS) {
    const scenario = list.find((s) => s.name === name);
    if (!scenario) throw new Error(`no scenario "${name}"`);
    const comparison = await compareWithFloor(
      scenario,
      { ours: sides.ours, floor: sides.floor },
      { ...measureOptions, profileDir: path.join(ROOT, ".bench/profiles") },
    );
    comparisons.push(comparison);
    log(
      `  ${name}: ${comparison.ours.rps.toFixed(0)} vs ${comparison.floor.rps.toFixed(0)} req/s, ${comparison.ours.cpuMicros.toFixed(0)} vs ${comparison.floor.cpuMicros.toFixed(0)} µs CPU`,
    );
    const same = await compareWithFloor(
      scenario,
      { ours: sides.ours, floor: sides.floorWithAssets },
      { ...measureOptions, profile: false },
    );
    likeForLike.push(same);
    log(
      `  ${name}, against the floor behind our [assets] block: ${same.ours.rps.toFixed(0)} vs ${same.floor.rps.toFixed(0)} req/s, ${same.ours.cpuMicros.toFixed(0)} vs ${same.floor.cpuMicros.toFixed(0)} µs CPU`,
    );
  }
  const getOneScenario = list.find((s) => s.name === "get one");
  if (!getOneScenario) throw new Error('no scenario "get one"');
  const assetsLayer = await compareWithFloor(
    getOneScenario,
    { ours: sides.floorWithAssets, floor: sides.floor },
    { ...measureOptions, profile: false },
  );
  log(
    `  the floor behind our [assets] block: ${assetsLayer.ratios.rps.toFixed(2)}× the bare floor's req/s, ${assetsLayer.ratios.cpu.toFixed(2)}× its CPU per request`,
  );
  await floorWithAssets.stop();
  await floor.stop();

  log("Sync and live: a full sync of the heavy user, 1,000 sockets, and what notifying costs a write…");
  const sync = await fullSync(worker.url, HEAVY_USER, tokens[HEAVY_USER] as string, 1000, 5);
  const liveUsers = Array.from({ length: 10 }, (_, i) => `bench-live-${i}`);
  const fan = await fanOut(worker.url, SECRET, liveUsers, 100, 5);
  const createScenario = list.find((s) => s.name === "create");
  if (!createScenario) throw new Error('no scenario "create"');
  const notify = await notifyCost({
    url: profiled.url,
    inspectorPort: oursPort,
    bundlePath: bundle.path,
    secret: SECRET,
    user: WRITER_USER,
    scenario: createScenario,
    tokens,
    connections: SETTINGS.connections,
    seconds: 8,
    db: admin,
  });

  const ordered = await listStatements(HEAVY_USER, layout.heavyLists);
  const plans = await checkPlans(
    postgres.url,
    HEAVY_USER,
    ["limit=100", "status=pending&tag=work&q=report&sort=due_date", `limit=100&cursor=${deepCursor}`],
    {
      listId: layout.heavyLists[1]?.id ?? 0,
      explained: [
        { name: "changes: full sync, first page of 1000", statement: changesRowsStatement(HEAVY_USER, null, 1000) },
        {
          name: "changes: since 100 changes ago",
          statement: changesRowsStatement(HEAVY_USER, Math.max(0, (await stack.head(HEAVY_USER)) - 100), 500),
        },
        ...ordered.explained,
      ],
      executed: ordered.executed,
    },
  );
  log("Measuring token verification and connection setup…");
  const verify = await benchVerify(SECRET);
  const viaPooler = await benchConnections(pooler.url);
  const direct = await benchConnections(postgres.url, 100);

  const byName = (name: string) => results.find((r) => r.name === name);
  const heavyList = byName("list first page");
  const getOne = byName("get one");
  const listVsGet = heavyList && getOne ? heavyList.p95 / getOne.p95 : Number.NaN;
  const listShapes = results.filter((r) => r.name.startsWith("list "));
  // Lists and manual order (docs/lists.md): a list by position, a move, a full sync with the lists.
  const ordering = results.filter((r) => r.name.startsWith("list by position") || r.name === "move" || r.name.includes("with lists"));
  const slowestList = listShapes.reduce((worst, r) => (r.sqlMs > worst.sqlMs ? r : worst), listShapes[0] as ScenarioResult);
  const floorTargets = comparisons.flatMap(({ scenario, ratios: { rps, cpu, p50One: p50 } }) => {
    return [
      [`${scenario}: req/s ≥ ${TARGETS.floorRps}× the floor's (${rps.toFixed(2)}×)`, rps >= TARGETS.floorRps],
      [`${scenario}: CPU per request ≤ ${TARGETS.floorCpu}× the floor's (${cpu.toFixed(2)}×)`, cpu <= TARGETS.floorCpu],
      [`${scenario}: p50 at 1 connection ≤ ${TARGETS.floorP50}× the floor's (${p50.toFixed(2)}×)`, p50 <= TARGETS.floorP50],
    ] as const;
  });
  const targets = [
    ...floorTargets,
    ["zero errors and non-2xx at 100 connections", results.every((r) => r.errors === 0 && r.non2xx === 0)],
    [`every scenario p95 < ${TARGETS.p95Ms} ms`, results.every((r) => r.p95 < TARGETS.p95Ms)],
    ["exactly one SQL statement per API call (a batch included)", results.every((r) => Math.abs(r.sqlPerRequest - 1) < 0.005)],
    [
      `every list shape's mean SQL time ≤ ${TARGETS.listSqlMs} ms (slowest: ${slowestList.name}, ${slowestList.sqlMs.toFixed(2)} ms)`,
      listShapes.every((r) => r.sqlMs <= TARGETS.listSqlMs),
    ],
    [
      `lists and order: mean SQL time ≤ ${TARGETS.listSqlMs} ms each (${ordering.map((r) => `${r.name} ${r.sqlMs.toFixed(2)} ms`).join("; ")})`,
      ordering.length === 3 && ordering.every((r) => r.sqlMs <= TARGETS.listSqlMs),
    ],
    [`heavy list p95 ≤ ${TARGETS.heavyListVsGet}× get-one p95 (${listVsGet.toFixed(2)}×)`, listVsGet <= TARGETS.heavyListVsGet],
    [`bundle ≤ ${TARGETS.bundleGzipKiB} KiB gzipped (${gzipKiB} KiB)`, gzipKiB <= TARGETS.bundleGzipKiB],
    [
      `HS256 verification ≤ ${TARGETS.verifyMicros} µs (${verify.cachedKeyMicros.toFixed(1)} µs)`,
      verify.cachedKeyMicros <= TARGETS.verifyMicros,
    ],
    ["every list, change-feed, lists, order and trash statement of the heavy user on an index", plans.every((p) => !p.seqScan)],
    [`every write heard by all ${fan.sockets} sockets (${fan.writes} writes, ${fan.missed} missed)`, fan.missed === 0],
  ] as const;

  log("");
  log(
    `Worker: the deployable bundle (wrangler deploy --dry-run) in workerd via Miniflare; database: Postgres behind PgBouncer (transaction mode, pool ${SETTINGS.poolSize}).`,
  );
  log(
    `Load: ${SETTINGS.connections} connections, ${SETTINGS.seconds} s per scenario after ${SETTINGS.warmupSeconds} s warm-up; SQL/req and SQL ms (mean execution time in Postgres) over 1000 requests.`,
  );
  log("");
  log(table(results));
  log("");
  log(
    `Against the floor (scripts/bench/floor/: same flags, driver, binding and pooler, our exact statements, nothing else), measured alternately, ${SETTINGS.connections} connections for req/s and CPU, 1 connection for p50:`,
  );
  log(floorTable(comparisons));
  log("");
  log("The same, against the floor behind this project's [assets] block (run_worker_first = the API paths), like for like:");
  log(floorTable(likeForLike));
  log("");
  log(
    `The floor behind this project's [assets] block (run_worker_first = the API paths), against the bare floor, get one: req/s ${assetsLayer.ratios.rps.toFixed(2)}×, CPU per request ${assetsLayer.ratios.cpu.toFixed(2)}×, p50 at 1 connection ${assetsLayer.ratios.p50One.toFixed(2)}×.`,
  );
  log(
    "  Locally Miniflare runs the static-assets router (a JavaScript worker) in front of ours, in the same workerd process; on Cloudflare that routing is the platform's, not the Worker's CPU.",
  );
  log("");
  for (const { scenario, ours, floor: base } of comparisons) {
    for (const [who, side] of [
      ["ours", ours],
      ["floor", base],
    ] as const) {
      if (side.profile === undefined) continue;
      log(
        `CPU per request, "${scenario}", ${who}: ${side.cpuMicros.toFixed(0)} µs (isolate busy ${(side.profile.busy * 100).toFixed(0)}% of ${side.profile.seconds.toFixed(1)} s):`,
      );
      for (const part of side.profile.parts.slice(0, 10)) {
        log(
          `  ${part.part.padEnd(44)} ${part.percent.toFixed(1).padStart(5)}%  ${((part.percent / 100) * side.cpuMicros).toFixed(0).padStart(5)} µs`,
        );
      }
    }
    log("");
  }
  const syncSummary = latencySummary(sync.ms);
  log(
    `Full sync of the heavy user (GET /changes, pages of 1000, one after another): ${sync.tasks} tasks and ${sync.lists} lists in ${sync.pages} pages, median ${syncSummary.p50.toFixed(0)} ms, slowest ${syncSummary.max.toFixed(0)} ms (${sync.ms.length} pulls).`,
  );
  log(
    `Live fan-out: ${fan.sockets} sockets (10 users × 100), ${fan.writes} writes one at a time; the write itself p50 ${fan.write.p50.toFixed(1)} ms, p95 ${fan.write.p95.toFixed(1)} ms; from a write being sent to each socket's "changed": p50 ${fan.p50.toFixed(1)} ms, p95 ${fan.p95.toFixed(1)} ms, p99 ${fan.p99.toFixed(1)} ms, max ${fan.max.toFixed(1)} ms; ${fan.missed} writes not heard by every socket within 5 s.`,
  );
  log(`What notifying costs a write ("create", ${SETTINGS.connections} connections, 8 s each):`);
  for (const row of notify) {
    log(
      `  ${row.state.padEnd(24)} ${row.rps.toFixed(0).padStart(5)} req/s  p50 ${row.p50.toFixed(1).padStart(5)} ms  CPU ${row.cpuMicros.toFixed(0).padStart(5)} µs`,
    );
  }
  log("");
  log("Query plans (heavy user):");
  for (const p of plans) log(`  ${p.seqScan ? "SEQ SCAN" : "index   "}  ${p.query.padEnd(54)} ${p.top}`);
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
    floor: comparisons,
    floorWithAssets: likeForLike,
    assetsLayer: { rps: assetsLayer.ratios.rps, cpu: assetsLayer.ratios.cpu, p50One: assetsLayer.ratios.p50One },
    sync,
    live: { fanOut: fan, notify },
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

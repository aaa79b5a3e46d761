// npm run bench: the local stack as production-like as this machine allows (embedded Postgres,
// PgBouncer in transaction mode in Hyperdrive's place, the deployable bundle in workerd), bulk
// data loaded with COPY, one load scenario at a time with autocannon, and a report: table,
// targets, query plans, bundle size, token verification cost, connection setup cost.
// Figures go to .bench/ (git-ignored) as JSON and an SVG chart.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { SignJWT } from "jose";
import pg from "pg";
import { encodeCursor } from "../src/schemas/cursor.ts";
import { DELETE_USER, HEAVY_USER, loadData, WRITER_USER } from "./bench/load-data.ts";
import { benchConnections, benchVerify, describeVerify } from "./bench/micro.ts";
import { ensurePgBouncer, startPgBouncer } from "./bench/pgbouncer.ts";
import { checkPlans } from "./bench/plans.ts";
import { type CpuProfile, profileWhile } from "./bench/profile.ts";
import { svgChart, table, writeResults } from "./bench/report.ts";
import { drive, runScenario, type ScenarioResult, scenarios } from "./bench/scenarios.ts";
import { migrate } from "./lib/migrate.ts";
import { freePort, startPostgres } from "./lib/postgres.ts";
import { buildWorker, startWorker } from "./lib/worker.ts";

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
const SECRET = "bench-secret-that-is-at-least-32-characters";
const log = (line: string) => console.log(line);

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse()) await step().catch(() => {});
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

async function main(): Promise<void> {
  const pgbouncer = ensurePgBouncer(log);
  const scratch = await mkdtemp(path.join(tmpdir(), "task-api-bench-"));
  await chmod(scratch, 0o755);
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));

  log("Starting Postgres (embedded, with pg_stat_statements)…");
  const postgres = await startPostgres({
    dataDir: path.join(scratch, "pgdata"),
    port: await freePort(),
    database: "tasks_bench",
    persistent: false,
    settings: { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all" },
  });
  cleanups.push(() => postgres.stop());
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  cleanups.push(() => admin.end());
  await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  await migrate(postgres.url);

  const plan = {
    heavyTasks: SETTINGS.heavyTasks,
    otherUsers: SETTINGS.otherUsers,
    tasksPerOtherUser: SETTINGS.tasksPerOtherUser,
    deletePool: SETTINGS.deletePool,
  };
  log(
    `Loading ${plan.heavyTasks} tasks of the heavy user, ${plan.otherUsers * plan.tasksPerOtherUser} of ${plan.otherUsers} others, ${plan.deletePool} to delete (COPY)…`,
  );
  const load = await loadData(postgres.url, plan);
  log(`Loaded ${load.rows} rows in ${load.seconds.toFixed(1)} s (COPY + ANALYZE).`);

  const pgPort = Number(new URL(postgres.url).port);
  const pooler = await startPgBouncer({
    binary: pgbouncer,
    dir: path.join(scratch, "pgbouncer"),
    port: await freePort(),
    poolSize: SETTINGS.poolSize,
    target: { host: "127.0.0.1", port: pgPort, user: "postgres", password: "postgres", database: "tasks_bench" },
  }).catch(async (error) => {
    throw new Error(`PgBouncer failed to start: ${error}`);
  });
  cleanups.push(() => pooler.stop());

  log("Bundling the Worker (wrangler deploy --dry-run) and serving it in workerd (Miniflare)…");
  const bundle = buildWorker(path.join(scratch, "dist"));
  const gzipKiB = Number(/gzip: ([\d.]+) KiB/.exec(bundle.report)?.[1] ?? Number.NaN);
  const worker = await startWorker(bundle.path, { hyperdrive: pooler.url, bindings: { BETTER_AUTH_SECRET: SECRET } });
  cleanups.push(() => worker.stop());

  const ids = async (user: string) =>
    (await admin.query<{ id: string }>("SELECT id FROM tasks WHERE user_id = $1 ORDER BY id", [user])).rows.map((r) => Number(r.id));
  const deep = await admin.query<{ id: string; created_at: Date }>(
    "SELECT id, created_at FROM tasks WHERE user_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
    [HEAVY_USER, Math.floor(SETTINGS.heavyTasks / 2)],
  );
  const deepRow = deep.rows[0];
  if (!deepRow) throw new Error("no deep row");
  const deepCursor = encodeCursor({ sort: "-created_at", value: deepRow.created_at.toISOString(), id: Number(deepRow.id) });
  const tokens: Record<string, string> = {};
  for (const user of [HEAVY_USER, WRITER_USER, DELETE_USER]) {
    tokens[user] = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime("2h")
      .sign(new TextEncoder().encode(SECRET));
  }
  const list = scenarios({
    ids: { heavy: await ids(HEAVY_USER), deletePool: await ids(DELETE_USER) },
    tokens,
    heavyUser: HEAVY_USER,
    writerUser: WRITER_USER,
    deleteUser: DELETE_USER,
    deepCursor,
  });

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

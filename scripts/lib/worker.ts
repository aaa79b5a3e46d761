// The Worker as it would be deployed: bundled by `wrangler deploy --dry-run`, then served in
// workerd through Miniflare with the compatibility settings of wrangler.toml. Used by the tests
// (a main Worker, plus extra ones with other bindings) and by the benchmark.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";

const ROOT = path.resolve(import.meta.dirname, "../..");

export interface Bundle {
  path: string;
  /** What wrangler printed, e.g. "Total Upload: 273.16 KiB / gzip: 60.38 KiB". */
  report: string;
}

/** Bundles the Worker exactly as `wrangler deploy` would upload it, into `outdir`. */
export function buildWorker(outdir: string): Bundle {
  const report = execFileSync(
    process.execPath,
    [path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" }, stdio: "pipe", encoding: "utf8" },
  );
  return { path: path.join(outdir, "index.js"), report };
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
}

export interface RunningWorker {
  url: string;
  /** Runs the Worker's scheduled handler as a Cron Trigger would; resolves to its outcome. */
  scheduled(cron: string): Promise<string>;
  stop(): Promise<void>;
}

const ASSETS = path.join(ROOT, "dist/assets");
const WRANGLER_TOML = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");

function tomlValue(key: string): string {
  const match = new RegExp(`^${key}\\s*=\\s*(.+)$`, "m").exec(WRANGLER_TOML);
  if (!match?.[1]) throw new Error(`wrangler.toml has no ${key}`);
  return match[1].trim();
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
  const miniflare = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    handleStructuredLogs: (log: { message: string }) => onLog(log.message),
    workers: [
      {
        config: {
          name: "task-api",
          compatibilityDate: JSON.parse(tomlValue("compatibility_date")) as string,
          compatibilityFlags: JSON.parse(tomlValue("compatibility_flags")) as string[],
          manifest: {
            mainModule: "index.js",
            modules: { "index.js": { type: "esm", contents: readFileSync(bundlePath, "utf8") } },
          },
          env,
          // The /docs page, as wrangler.toml's [assets] (built by buildWorker's wrangler run).
          ...(existsSync(ASSETS) ? { assets: { directory: ASSETS, hasUserWorker: true, htmlHandling: "auto-trailing-slash" } } : {}),
        },
      },
    ],
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = await miniflare.ready;
  return {
    url: url.href.replace(/\/$/, ""),
    scheduled: async (cron) => {
      const worker = (await miniflare.getWorker()) as unknown as { scheduled(options: { cron: string }): Promise<{ outcome: string }> };
      return (await worker.scheduled({ cron })).outcome;
    },
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

// Serves the bundled Worker in workerd through Miniflare, with the compatibility settings of
// wrangler.toml. The global setup starts the main one; a test may start its own with other
// bindings (no secret, a database that is down, …) and must stop it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";

export interface WorkerOptions {
  /** Where the HYPERDRIVE binding points; omitted: no binding at all. */
  hyperdrive?: string;
  bindings?: Record<string, string>;
  /** Receives each line the Worker logs. */
  onLog?: (line: string) => void;
}

export interface RunningWorker {
  url: string;
  stop(): Promise<void>;
}

const WRANGLER_TOML = readFileSync(path.resolve(import.meta.dirname, "../../wrangler.toml"), "utf8");

function tomlValue(key: string): string {
  const match = new RegExp(`^${key}\\s*=\\s*(.+)$`, "m").exec(WRANGLER_TOML);
  if (!match?.[1]) throw new Error(`wrangler.toml has no ${key}`);
  return match[1].trim();
}

export async function startWorker(bundlePath: string, options: WorkerOptions = {}): Promise<RunningWorker> {
  const onLog = options.onLog;
  const env: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options.bindings ?? {})) env[name] = { type: "text", value };
  if (options.hyperdrive !== undefined) {
    env.HYPERDRIVE = { type: "hyperdrive", id: "local", dev: { connectionString: options.hyperdrive } };
  }
  const miniflare = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    ...(onLog === undefined ? {} : { handleStructuredLogs: (log: { message: string }) => onLog(log.message) }),
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
        },
      },
    ],
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = await miniflare.ready;
  return { url: url.href.replace(/\/$/, ""), stop: () => miniflare.dispose() };
}

// The two database transports the whole integration suite runs on (vitest projects
// "hyperdrive" and "neon"): how a Worker under test is bound to a database on each.
import { inject } from "vitest";
import { type RunningWorker, startWorker, type WorkerOptions } from "../../scripts/lib/worker.ts";

export type Transport = "hyperdrive" | "neon";

declare module "vitest" {
  export interface ProvidedContext {
    transport: Transport;
    /** host:port of the local WebSocket proxy standing in for Neon's (neon project only). */
    neonProxy: string;
  }
}

/**
 * The Worker options that point it at `databaseUrl`: a Hyperdrive binding, or (neon) no
 * Hyperdrive but DATABASE_URL plus the test-only NEON_LOCAL_PROXY.
 */
export function bindDatabase(transport: Transport, databaseUrl: string, neonProxy: string): Pick<WorkerOptions, "hyperdrive" | "bindings"> {
  if (transport === "hyperdrive") return { hyperdrive: databaseUrl };
  return { bindings: { DATABASE_URL: databaseUrl, NEON_LOCAL_PROXY: neonProxy } };
}

/**
 * How a Worker under test reaches `databaseUrl`: through the suite's pooler when it is a database
 * of the suite's server (as Hyperdrive pools in production), else directly (a server of the
 * test's own, or one that misbehaves on purpose).
 */
export function workerDatabase(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const suite = new URL(inject("databaseUrl"));
  if (url.host !== suite.host) return databaseUrl;
  url.host = inject("poolerAddress");
  return url.href;
}

export interface TestWorkerOptions {
  /** The database; default: the suite's (through its pooler, see workerDatabase). null: no database setting at all. */
  database?: string | null;
  bindings?: Record<string, string>;
  onLog?: (line: string) => void;
  rateLimit?: WorkerOptions["rateLimit"];
}

/** Another Worker for a test, on this project's transport. */
export async function startTestWorker(options: TestWorkerOptions = {}): Promise<RunningWorker> {
  const database = options.database === undefined ? inject("databaseUrl") : options.database;
  const bound = database === null ? {} : bindDatabase(inject("transport"), workerDatabase(database), inject("neonProxy"));
  return startWorker(inject("bundlePath"), {
    ...bound,
    bindings: { ...bound.bindings, ...options.bindings },
    ...(options.onLog === undefined ? {} : { onLog: options.onLog }),
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
  });
}

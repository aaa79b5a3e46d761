// Once per vitest project: a real Postgres (embedded, or DATABASE_URL when set), migrated, with a
// transaction-mode pooler in front of it where Hyperdrive's pool would be (scripts/lib/pooler.ts);
// the Worker bundled by wrangler exactly as `wrangler deploy` would; and that bundle served by
// Miniflare in workerd, bound to the pooled database by the project's transport: a Hyperdrive
// binding (project "hyperdrive"), or DATABASE_URL through a local WebSocket proxy playing Neon's
// (project "neon", @neondatabase/serverless).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { migrate } from "../../scripts/lib/migrate.ts";
import { startPooler } from "../../scripts/lib/pooler.ts";
import { startScratchPostgres } from "../../scripts/lib/postgres.ts";
import { buildWorker, startWorker } from "../../scripts/lib/worker.ts";
import { startWsProxy } from "../../scripts/lib/wsproxy.ts";
import { ALLOWED_ORIGIN, TEST_SECRET } from "./constants.ts";
import { bindDatabase, type Transport } from "./transport.ts";

declare module "vitest" {
  export interface ProvidedContext {
    workerUrl: string;
    /** The database, directly: for a test's own statements (locks, DDL, checks). */
    databaseUrl: string;
    /** host:port of the pooler in front of it, which every Worker under test goes through. */
    poolerAddress: string;
    bundlePath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scratch = await mkdtemp(path.join(tmpdir(), "task-api-test-"));
  const cleanups: Array<() => Promise<void>> = [() => rm(scratch, { recursive: true, force: true })];
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    let databaseUrl = process.env.DATABASE_URL;
    if (databaseUrl) await migrate(databaseUrl);
    else {
      const postgres = await startScratchPostgres({
        database: "tasks_test",
        // What ends a connection or the server is worth seeing beside a failed test.
        log: (chunk) => {
          for (const line of chunk.split("\n"))
            if (/\b(FATAL|PANIC):|terminat/.test(line)) console.error(`[postgres ${project.name}] ${line}`);
        },
      });
      cleanups.push(() => postgres.dispose());
      databaseUrl = postgres.url;
    }
    const pooler = await startPooler({ target: databaseUrl });
    cleanups.push(() => pooler.stop());
    const bundlePath = buildWorker(path.join(scratch, "dist")).path;
    const transport: Transport = project.name === "neon" ? "neon" : "hyperdrive";
    let neonProxy = "";
    if (transport === "neon") {
      const proxy = await startWsProxy();
      cleanups.push(() => proxy.stop());
      neonProxy = proxy.address;
    }
    const bound = bindDatabase(transport, pooler.urlFor(databaseUrl), neonProxy);
    const worker = await startWorker(bundlePath, {
      ...bound,
      bindings: { ...bound.bindings, BETTER_AUTH_SECRET: TEST_SECRET, ALLOWED_ORIGINS: ALLOWED_ORIGIN },
    });
    cleanups.push(() => worker.stop());
    project.provide("workerUrl", worker.url);
    project.provide("databaseUrl", databaseUrl);
    project.provide("poolerAddress", `${pooler.host}:${pooler.port}`);
    project.provide("bundlePath", bundlePath);
    project.provide("transport", transport);
    project.provide("neonProxy", neonProxy);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

// npm run bench:transports: what one API call costs on each database transport locally.
// The same Worker bundle, the same Postgres, one task read (GET /api/{user}/tasks/{id}) at a time
// and then 20 at once, through:
// - Hyperdrive's binding (local simulation: a direct TCP connection per request), node-postgres;
// - no Hyperdrive, DATABASE_URL: @neondatabase/serverless's WebSocket Client, through a local
//   WebSocket-to-TCP proxy playing Neon's.
// Local figures: they show what each path adds per request here, not Neon's network.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { measure } from "./bench/latency.ts";
import { startScratchPostgres } from "./lib/postgres.ts";
import { hs256Token } from "./lib/token.ts";
import { buildWorker, type RunningWorker, startWorker } from "./lib/worker.ts";
import { startWsProxy } from "./lib/wsproxy.ts";

const SECRET = "bench-secret-that-is-at-least-32-characters-long";
const SEQUENTIAL = Number(process.env.BENCH_REQUESTS ?? 300);
const CONCURRENT = 20;

/** One GET at a time of `url`, which must answer 200. */
function get(worker: RunningWorker, url: string, token: string): () => Promise<void> {
  return async () => {
    const response = await fetch(`${worker.url}${url}`, { headers: { Authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
  };
}

const scratch = await mkdtemp(path.join(tmpdir(), "task-api-transports-"));
await chmod(scratch, 0o755);
const stops: Array<() => Promise<unknown>> = [() => rm(scratch, { recursive: true, force: true })];
try {
  console.log("Starting Postgres, the WebSocket proxy and two Workers…");
  const postgres = await startScratchPostgres({ database: "tasks" });
  stops.push(() => postgres.dispose());
  const proxy = await startWsProxy();
  stops.push(() => proxy.stop());
  const bundle = buildWorker(path.join(scratch, "dist")).path;
  const bindings = { BETTER_AUTH_SECRET: SECRET };
  const workers = {
    "Hyperdrive binding + node-postgres (TCP)": await startWorker(bundle, { hyperdrive: postgres.url, bindings }),
    "DATABASE_URL + @neondatabase/serverless (WebSocket Client)": await startWorker(bundle, {
      bindings: { ...bindings, DATABASE_URL: postgres.url, NEON_LOCAL_PROXY: proxy.address },
    }),
  };
  for (const worker of Object.values(workers)) stops.push(() => worker.stop());

  const user = "bench-user";
  const token = await hs256Token(SECRET, user, "1h");
  const first = Object.values(workers)[0];
  if (first === undefined) throw new Error("no worker");
  const created = await fetch(`${first.url}/api/${user}/tasks`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ title: "measured" }),
  });
  const { id } = (await created.json()) as { id: number };
  const url = `/api/${user}/tasks/${id}`;

  console.log(
    `\nGET one task: ${SEQUENTIAL} requests one at a time, then ${SEQUENTIAL * 2} with ${CONCURRENT} in flight (after a warm-up).\n`,
  );
  console.log(
    `${"transport".padEnd(60)} ${"seq p50 ms".padStart(10)} ${"seq p95 ms".padStart(10)} ${"conc req/s".padStart(10)} ${"conc p95 ms".padStart(11)}`,
  );
  for (const [name, worker] of Object.entries(workers)) {
    const send = get(worker, url, token);
    await measure(send, 4, 40); // warm-up
    const sequential = await measure(send, 1, SEQUENTIAL);
    const concurrent = await measure(send, CONCURRENT, SEQUENTIAL * 2);
    console.log(
      `${name.padEnd(60)} ${sequential.p50.toFixed(2).padStart(10)} ${sequential.p95.toFixed(2).padStart(10)} ${concurrent.rps.toFixed(0).padStart(10)} ${concurrent.p95.toFixed(2).padStart(11)}`,
    );
  }
  console.log(`\nWebSocket connections through the proxy: ${proxy.connections} (one per request on the Neon path).`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
}

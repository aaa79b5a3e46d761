// npm run bench:mcp: what a list_tasks tool call costs next to the REST call it makes, in one run:
// the same Worker bundle and Postgres, a user of 200 tasks, a page of 50, first one call at a time
// and then 10 in flight, through:
// - REST: GET /api/{user}/tasks?limit=50;
// - MCP, current protocol: tools/call list_tasks {limit: 50} with the official client
//   (@modelcontextprotocol/client, 2026-07-28: one POST per call, a JSON answer);
// - MCP, 2025 protocol: the same tools/call as one raw POST (stateless Streamable HTTP, the answer
//   as one server-sent event), as most agents send it today.
// The database is behind a pooler, as Hyperdrive's is. Also: the first request a fresh Worker
// answers on each path (the MCP module loads on the first /mcp request of an isolate), and the
// bundle's size. Local figures on a shared machine.

import { readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Client } from "@modelcontextprotocol/client";
import { workerdPid } from "./bench/floor.ts";
import { measure, percentile } from "./bench/latency.ts";
import { connectMcp, postMcp, toolCall } from "./lib/mcp.ts";
import { startPooler } from "./lib/pooler.ts";
import { freePort, startScratchPostgres } from "./lib/postgres.ts";
import { hs256Token } from "./lib/token.ts";
import { buildWorker, type RunningWorker, startWorker } from "./lib/worker.ts";

const SECRET = "bench-secret-that-is-at-least-32-characters-long";
const SEQUENTIAL = Number(process.env.BENCH_REQUESTS ?? 300);
const CONCURRENT = 10;
const TASKS = 200;
const PAGE = 50;

type Send = () => Promise<void>;

/** The two requests compared: the REST list, and the list_tasks tool as one raw 2025-protocol POST. */
const restList = (origin: string, user: string, token: string) =>
  fetch(`${origin}/api/${user}/tasks?limit=${PAGE}`, { headers: { Authorization: `Bearer ${token}` } });
const mcpList = (origin: string, token: string) => postMcp(origin, token, toolCall("list_tasks", { limit: PAGE }));

function sends(worker: RunningWorker, user: string, token: string, client: Client): Record<string, Send> {
  return {
    "REST GET /tasks?limit=50": async () => {
      const response = await restList(worker.url, user, token);
      const tasks = (await response.json()) as unknown[];
      if (response.status !== 200 || tasks.length !== PAGE) throw new Error(`REST: ${response.status}`);
    },
    "MCP list_tasks (client, 2026-07-28)": async () => {
      const result = (await client.callTool({ name: "list_tasks", arguments: { limit: PAGE } })) as {
        structuredContent?: { tasks: unknown[] };
      };
      if (result.structuredContent?.tasks.length !== PAGE) throw new Error("MCP: not a page");
    },
    "MCP list_tasks (raw POST, 2025-06-18)": async () => {
      const response = await mcpList(worker.url, token);
      const text = await response.text();
      if (response.status !== 200 || !text.includes('"next_cursor"')) throw new Error(`MCP 2025: ${response.status}`);
    },
  };
}

/** CPU time of all of a process's threads so far, in ms (schedstat: nanoseconds, unlike /proc/<pid>/stat's 10 ms ticks). */
function cpuMs(pid: number): number {
  let nanoseconds = 0;
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    nanoseconds += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, "utf8").split(" ")[0]);
  }
  return nanoseconds / 1e6;
}

interface First {
  wallMs: number;
  /** workerd's CPU over the first request, then over the second (the same request, warm). */
  cpuMs: number;
  secondCpuMs: number;
}

/** A fresh Worker's first request on each path, and its second, median of 5 Workers each. */
async function firstRequests(bundle: string, postgresUrl: string, user: string, token: string): Promise<Record<string, First>> {
  const firsts: Record<string, First> = {};
  const paths = {
    REST: (worker: RunningWorker) => restList(worker.url, user, token),
    MCP: (worker: RunningWorker) => mcpList(worker.url, token),
  };
  for (const [name, send] of Object.entries(paths)) {
    const samples: First[] = [];
    for (let round = 0; round < 5; round++) {
      const inspectorPort = await freePort();
      const worker = await startWorker(bundle, { hyperdrive: postgresUrl, bindings: { BETTER_AUTH_SECRET: SECRET }, inspectorPort });
      try {
        const pid = workerdPid(inspectorPort);
        const cpuOf = async () => {
          await new Promise((resolve) => setTimeout(resolve, 300)); // let the runtime settle (and waitUntil work end)
          const before = cpuMs(pid);
          const t0 = performance.now();
          await (await send(worker)).arrayBuffer();
          const wall = performance.now() - t0;
          await new Promise((resolve) => setTimeout(resolve, 300));
          return { wall, cpu: cpuMs(pid) - before };
        };
        const first = await cpuOf();
        const second = await cpuOf();
        samples.push({ wallMs: first.wall, cpuMs: first.cpu, secondCpuMs: second.cpu });
      } finally {
        await worker.stop();
      }
    }
    const median = (pick: (sample: First) => number) =>
      percentile(
        samples.map(pick).sort((a, b) => a - b),
        0.5,
      );
    firsts[name] = { wallMs: median((s) => s.wallMs), cpuMs: median((s) => s.cpuMs), secondCpuMs: median((s) => s.secondCpuMs) };
  }
  return firsts;
}

const scratch = await mkdtemp(path.join(tmpdir(), "task-api-bench-mcp-"));
await chmod(scratch, 0o755);
const stops: Array<() => Promise<unknown>> = [() => rm(scratch, { recursive: true, force: true })];
try {
  console.log("Starting Postgres and the Worker…");
  const postgres = await startScratchPostgres({ database: "tasks" });
  stops.push(() => postgres.dispose());
  // Through the suite's pooler, as Hyperdrive keeps connections warm: locally, a new Postgres
  // connection per request (about 35 ms) would hide what the calls themselves cost.
  const pooler = await startPooler({ target: postgres.url });
  stops.push(() => pooler.stop());
  const database = pooler.urlFor(postgres.url);
  const bundle = buildWorker(path.join(scratch, "dist")).path;
  const worker = await startWorker(bundle, { hyperdrive: database, bindings: { BETTER_AUTH_SECRET: SECRET } });
  stops.push(() => worker.stop());

  const user = "bench-mcp-user";
  const token = await hs256Token(SECRET, user, "1h");
  for (let i = 0; i < TASKS; i += 100) {
    const operations = Array.from({ length: 100 }, (_, j) => ({
      op: "create",
      task: { title: `task ${i + j}`, description: "a task of the benchmark", tags: ["bench", `t${(i + j) % 7}`] },
    }));
    const created = await fetch(`${worker.url}/api/${user}/tasks/batch`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ operations }),
    });
    if (created.status !== 200) throw new Error(`seeding: ${created.status}`);
  }
  const client = await connectMcp(worker.url, token, "bench");
  stops.push(() => client.close());

  const paths = sends(worker, user, token, client);
  console.log(
    `\nA page of ${PAGE} of ${TASKS} tasks: ${SEQUENTIAL} calls one at a time, then ${SEQUENTIAL * 2} with ${CONCURRENT} in flight ` +
      "(after a warm-up; the three paths take turns, 50 calls at a time).\n",
  );
  for (const send of Object.values(paths)) await measure(send, 4, 40); // warm-up
  const results: Record<string, { seq: number[]; conc?: { rps: number; p95: number } }> = {};
  for (const name of Object.keys(paths)) results[name] = { seq: [] };
  // Alternate in rounds, so a busy moment of the machine falls on every path alike.
  const ROUND = 50;
  for (let done = 0; done < SEQUENTIAL; done += ROUND) {
    for (const [name, send] of Object.entries(paths)) {
      const latencies: number[] = [];
      for (let i = 0; i < ROUND; i++) {
        const t0 = performance.now();
        await send();
        latencies.push(performance.now() - t0);
      }
      results[name]?.seq.push(...latencies);
    }
  }
  for (const [name, send] of Object.entries(paths)) {
    const result = results[name];
    if (result !== undefined) result.conc = await measure(send, CONCURRENT, SEQUENTIAL * 2);
  }

  console.log(
    `${"path".padEnd(40)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"conc req/s".padStart(11)} ${"conc p95 ms".padStart(12)}`,
  );
  for (const [name, { seq, conc: c }] of Object.entries(results)) {
    seq.sort((a, b) => a - b);
    console.log(
      `${name.padEnd(40)} ${percentile(seq, 0.5).toFixed(2).padStart(8)} ${percentile(seq, 0.95).toFixed(2).padStart(8)} ` +
        `${(c?.rps ?? Number.NaN).toFixed(0).padStart(11)} ${(c?.p95 ?? Number.NaN).toFixed(2).padStart(12)}`,
    );
  }

  const firsts = await firstRequests(bundle, database, user, token);
  console.log("\nA fresh Worker's first request, and its second (median of 5 Workers; the MCP module loads on the first /mcp request):");
  for (const [name, first] of Object.entries(firsts)) {
    console.log(
      `  ${name.padEnd(5)} first: ${first.wallMs.toFixed(1)} ms, workerd CPU ${first.cpuMs.toFixed(1)} ms; ` +
        `second: workerd CPU ${first.secondCpuMs.toFixed(1)} ms`,
    );
  }
  const source = readFileSync(bundle);
  console.log(`Bundle: ${(source.length / 1024).toFixed(0)} KiB, ${(gzipSync(source).length / 1024).toFixed(2)} KiB gzipped.`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
}

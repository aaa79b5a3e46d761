// Postgres itself failing under a running Worker, on a server of this file's own (so stopping and
// killing it disturbs no other test): stopped, then started again on the same port and data;
// killed with SIGKILL in the middle of a write load, then restarted and crash-recovered.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScratchPostgres, startScratchPostgres } from "../scripts/lib/postgres.ts";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { CONTRACT_LIMIT_MS, call, expectProblem, expectUnavailable, newUser, sleep, type Task, timed, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { connect, toolProblem } from "./support/mcp.ts";
import { startTestWorker } from "./support/transport.ts";

describe("Postgres stopped, restarted and killed under the Worker", () => {
  let postgres: ScratchPostgres;
  let worker: RunningWorker;

  beforeAll(async () => {
    postgres = await startScratchPostgres({ database: "tasks_faults" });
    // The 503s logged during the outages are expected: keep them out of the test output.
    worker = await startTestWorker({ database: postgres.url, bindings: { BETTER_AUTH_SECRET: TEST_SECRET }, onLog: () => {} });
  });
  afterAll(async () => {
    await worker?.stop();
    await postgres?.dispose();
  });

  it("answers 503 with Retry-After while Postgres is stopped, and recovers once it is back without a Worker restart", async () => {
    const user = newUser();
    const created = await call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "before the outage" } });
    expect(created.status).toBe(201);
    const task = (await created.json()) as Task;

    await postgres.stop();
    const health = await timed(() => call("/health", { base: worker.url }));
    expectUnavailable(health.response);
    expect(health.ms).toBeLessThan(CONTRACT_LIMIT_MS);
    // One at a time, each timed from the moment it is sent.
    for (const send of [
      () => call(`/api/${user}/tasks`, { base: worker.url }),
      () => call(`/api/${user}/tasks/${task.id}`, { base: worker.url }),
      () => call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "during the outage" } }),
      () => call(`/api/${user}/tasks/${task.id}/complete`, { base: worker.url, method: "PATCH" }),
    ]) {
      const { response, ms } = await timed(send);
      await expectProblem(response, "database_unavailable");
      expectUnavailable(response);
      expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
    }
    // An agent's tool call gets the same problem as a tool error it can act on, never a 5xx.
    const mcp = await connect(user, { base: worker.url });
    for (const [tool, args] of [
      ["list_tasks", {}],
      ["add_task", { title: "during the outage, by an agent" }],
    ] as const) {
      const started = Date.now();
      const problem = await toolProblem(mcp, tool, args, "database_unavailable");
      expect(problem).toMatchObject({ status: 503, retry_after: expect.any(Number) });
      expect(Date.now() - started).toBeLessThan(CONTRACT_LIMIT_MS);
    }
    await mcp.close();

    await postgres.start();
    // Each request opens its own connection, so the first one after the restart should succeed;
    // allow a few seconds for the server to finish coming up all the same.
    const deadline = Date.now() + CONTRACT_LIMIT_MS;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await call("/health", { base: worker.url })).status;
      if (status !== 200) await sleep(250);
    }
    expect(status).toBe(200);
    const listed = await call(`/api/${user}/tasks`, { base: worker.url });
    expect(listed.status).toBe(200);
    // Nothing sent during the outage happened: only the task from before it, not completed.
    expect(await listed.json()).toEqual([task]);
  });

  it("loses no acknowledged task and duplicates none when Postgres is SIGKILLed mid-load and clients retry with Idempotency-Key", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const CLIENTS = 6;
    const TASKS_PER_CLIENT = 25;
    const acknowledged = new Map<string, number>();
    const seen = { unavailable: 0, replayed: 0, networkErrors: 0 };
    let killAfter: () => void = () => {};
    const enoughAcknowledged = new Promise<void>((resolve) => {
      killAfter = resolve;
    });

    /** POST until 201, as a careful client would: same key and body on every retry. */
    async function createWithRetries(key: string): Promise<void> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`no 201 for ${key} within 60 s`);
        let response: Response;
        try {
          response = await fetch(`${worker.url}/api/${user}/tasks`, {
            method: "POST",
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Idempotency-Key": key },
            body: JSON.stringify({ title: key }),
          });
        } catch {
          seen.networkErrors++;
          await sleep(100);
          continue;
        }
        if (response.status === 201) {
          const task = (await response.json()) as Task;
          expect(task.title).toBe(key);
          if (response.headers.get("Idempotent-Replayed") === "true") seen.replayed++;
          acknowledged.set(key, task.id);
          if (acknowledged.size === CLIENTS * 4) killAfter();
          return;
        }
        // 503: the database is down; 409: the same key's earlier attempt is still in flight.
        expect([503, 409], `${response.status} ${await response.clone().text()}`).toContain(response.status);
        if (response.status === 503) seen.unavailable++;
        await response.body?.cancel();
        await sleep(100);
      }
    }

    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = 0; i < TASKS_PER_CLIENT; i++) await createWithRetries(`client-${client}-task-${i}`);
    });
    const crash = (async () => {
      await enoughAcknowledged;
      await postgres.kill();
      await sleep(500);
      await postgres.start();
    })();
    await Promise.all([...clients, crash]);

    expect(acknowledged.size).toBe(CLIENTS * TASKS_PER_CLIENT);
    // The crash happened under load: some requests found the database gone.
    expect(seen.unavailable + seen.networkErrors).toBeGreaterThan(0);

    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ id: string; title: string }>("SELECT id, title FROM tasks WHERE user_id = $1", [user]);
      const stored = new Map(rows.map((row) => [row.title, Number(row.id)]));
      // No duplicates: one row per key...
      expect(rows).toHaveLength(stored.size);
      expect(rows).toHaveLength(CLIENTS * TASKS_PER_CLIENT);
      // ...and every acknowledged task is there, with the id the client was given.
      for (const [key, id] of acknowledged) expect(stored.get(key), key).toBe(id);
    } finally {
      await db.end();
    }
  });
});

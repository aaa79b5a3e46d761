// The database unreachable, silent or slow: a 503 problem with Retry-After within 10 seconds,
// the request has no effect, and the Worker stays up.
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../scripts/lib/postgres.ts";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { CONTRACT_LIMIT_MS, call, createTask, expectUnavailable, newUser, problem, sleep, timed, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { startTestWorker } from "./support/transport.ts";

describe("with the database refusing connections", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    const closedPort = await freePort();
    worker = await startTestWorker({
      database: `postgres://postgres:postgres@127.0.0.1:${closedPort}/tasks`,
      bindings: { BETTER_AUTH_SECRET: TEST_SECRET },
    });
  });
  afterAll(() => worker.stop());

  it("answers /health with 503 degraded and Retry-After", async () => {
    const { response, ms } = await timed(call("/health", { base: worker.url }));
    expectUnavailable(response);
    expect(await response.json()).toEqual({ status: "degraded", database: "unreachable" });
    expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
  });

  it("answers API calls with a 503 problem, and keeps answering (the Worker did not crash)", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    for (const attempt of [1, 2]) {
      const { response, ms } = await timed(
        call(`/api/${user}/tasks`, { base: worker.url, token, method: "POST", body: { title: `attempt ${attempt}` } }),
      );
      expectUnavailable(response);
      expect((await problem(response)).detail).toMatch(/database/);
      expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
    }
  });
});

describe("with a database that accepts connections but never answers", () => {
  let worker: RunningWorker;
  let blackHole: net.Server;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    blackHole = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
    const { port } = blackHole.address() as net.AddressInfo;
    worker = await startTestWorker({
      database: `postgres://postgres:postgres@127.0.0.1:${port}/tasks`,
      bindings: { BETTER_AUTH_SECRET: TEST_SECRET },
    });
  });
  afterAll(async () => {
    await worker.stop();
    for (const socket of sockets) socket.destroy();
    blackHole.close();
  });

  it("answers with 503 within 10 seconds instead of hanging", async () => {
    const user = newUser();
    const { response, ms } = await timed(call(`/api/${user}/tasks`, { base: worker.url, token: await tokenFor(user) }));
    expectUnavailable(response);
    expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
  });
});

describe("with a statement blocked by a lock", () => {
  let locker: pg.Client;
  beforeAll(async () => {
    locker = new pg.Client({ connectionString: inject("databaseUrl") });
    await locker.connect();
  });
  afterAll(() => locker.end());

  it("answers 503 within 10 seconds and the blocked write never happens", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "before" });
    await locker.query("BEGIN");
    await locker.query("SELECT id FROM tasks WHERE id = $1 FOR UPDATE", [task.id]);
    let ms: number;
    try {
      const result = await timed(call(`/api/${user}/tasks/${task.id}`, { method: "PATCH", body: { title: "after" } }));
      ms = result.ms;
      expectUnavailable(result.response);
      await problem(result.response);
    } finally {
      await locker.query("ROLLBACK");
    }
    expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
    // Had the server kept the statement waiting, it would run now that the lock is gone.
    await sleep(300);
    const after = await call(`/api/${user}/tasks/${task.id}`);
    expect(await after.json()).toEqual(task);
  });
});

describe("with a statement slower than the server's statement_timeout", () => {
  let admin: pg.Client;
  const user = newUser();
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: inject("databaseUrl") });
    await admin.connect();
    // A slow write for this one user only: every insert of theirs sleeps far past the 5 s
    // statement_timeout of migration 0002 (other tests' users are not touched).
    await admin.query(`CREATE OR REPLACE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$`);
    await admin.query(`CREATE TRIGGER test_slow_insert BEFORE INSERT ON tasks FOR EACH ROW
      WHEN (NEW.user_id = '${user}') EXECUTE FUNCTION test_slow_insert()`);
  });
  afterAll(async () => {
    await admin.query("DROP TRIGGER IF EXISTS test_slow_insert ON tasks");
    await admin.query("DROP FUNCTION IF EXISTS test_slow_insert()");
    await admin.end();
  });

  it("answers 503 within 10 seconds, and neither the task nor its Idempotency-Key was written", async () => {
    const request = { method: "POST", body: { title: "slow" }, headers: { "Idempotency-Key": "slow-1" } };
    const { response, ms } = await timed(call(`/api/${user}/tasks`, request));
    expectUnavailable(response);
    await problem(response);
    expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
    const { rows } = await admin.query<{ tasks: number; keys: number }>(
      `SELECT (SELECT count(*)::int FROM tasks WHERE user_id = $1) AS tasks,
              (SELECT count(*)::int FROM idempotency_keys WHERE user_id = $1) AS keys`,
      [user],
    );
    expect(rows[0]).toEqual({ tasks: 0, keys: 0 });

    // The key was not used up: once the database is fast again, the retry creates the task.
    await admin.query("DROP TRIGGER test_slow_insert ON tasks");
    const retried = await call(`/api/${user}/tasks`, request);
    expect(retried.status).toBe(201);
    expect(retried.headers.get("Idempotent-Replayed")).toBeNull();
  });
});

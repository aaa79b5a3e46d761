// The database unreachable, silent, slow or failing: a 503 problem with Retry-After within 10
// seconds for what is transient (the request had no effect, the cause is logged), a 500 for what
// is a bug (its stack logged), and the Worker stays up.
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../scripts/lib/postgres.ts";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { CONTRACT_LIMIT_MS, call, createTask, expectProblem, expectUnavailable, newUser, sleep, timed, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { type ScratchDatabase, scratchDatabase } from "./support/database.ts";
import { loggedFor } from "./support/logs.ts";
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
    const { response, ms } = await timed(() => call("/health", { base: worker.url }));
    expectUnavailable(response);
    expect(await response.json()).toEqual({ status: "degraded", database: "unreachable" });
    expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
  });

  it("answers API calls with a 503 problem, and keeps answering (the Worker did not crash)", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    for (const attempt of [1, 2]) {
      const { response, ms } = await timed(() =>
        call(`/api/${user}/tasks`, { base: worker.url, token, method: "POST", body: { title: `attempt ${attempt}` } }),
      );
      await expectProblem(response, "database_unavailable");
      expectUnavailable(response);
      expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
    }
  });
});

describe("with a database that accepts connections but never answers", () => {
  let worker: RunningWorker;
  let blackHole: net.Server;
  const sockets = new Set<net.Socket>();
  const lines: string[] = [];
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
      onLog: (line) => lines.push(line),
    });
  });
  afterAll(async () => {
    await worker.stop();
    for (const socket of sockets) socket.destroy();
    blackHole.close();
  });

  it("answers with 503 within 10 seconds instead of hanging", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const { response, ms } = await timed(() => call(`/api/${user}/tasks`, { base: worker.url, token }));
    expectUnavailable(response);
    expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
  });

  // The drivers report their own connect timeout as "Connection terminated unexpectedly", which
  // reads like a dropped connection; the log line says what happened, the driver's error under it.
  it("logs the 503 as the connect timeout, with the driver's error as its cause", async () => {
    const user = newUser();
    const response = await call(`/api/${user}/tasks`, { base: worker.url, token: await tokenFor(user) });
    const body = await expectProblem(response, "database_unavailable");
    const [entry] = await loggedFor(lines, "database_unavailable", body.request_id);
    expect(entry.cause).toMatchObject({ name: "ConnectTimeout", message: "no database connection within 3000 ms" });
    expect(entry.cause?.cause).toMatchObject({ message: expect.stringMatching(/\S/) });
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
      const result = await timed(() => call(`/api/${user}/tasks/${task.id}`, { method: "PATCH", body: { title: "after" } }));
      ms = result.ms;
      expectUnavailable(result.response);
      await expectProblem(result.response, "database_unavailable");
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
  // On a database of its own: the trigger's DDL never waits on (or blocks) other files' writes.
  let database: ScratchDatabase;
  let worker: RunningWorker;
  beforeAll(async () => {
    database = await scratchDatabase();
    // Every insert sleeps far past the 5 s statement_timeout of migration 0002.
    await database.admin.query(`CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$`);
    await database.admin.query("CREATE TRIGGER test_slow_insert BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION test_slow_insert()");
    worker = await startTestWorker({ database: database.url, bindings: { BETTER_AUTH_SECRET: TEST_SECRET }, onLog: () => {} });
  });
  afterAll(async () => {
    await worker?.stop();
    await database?.drop();
  });

  it("answers 503 within 10 seconds, and neither the task nor its Idempotency-Key was written", async () => {
    const user = newUser();
    const request = { base: worker.url, method: "POST", body: { title: "slow" }, headers: { "Idempotency-Key": "slow-1" } };
    const { response, ms } = await timed(() => call(`/api/${user}/tasks`, request));
    await expectProblem(response, "database_unavailable");
    expectUnavailable(response);
    expect(ms).toBeLessThan(CONTRACT_LIMIT_MS);
    const { rows } = await database.admin.query<{ tasks: number; keys: number }>(
      `SELECT (SELECT count(*)::int FROM tasks WHERE user_id = $1) AS tasks,
              (SELECT count(*)::int FROM idempotency_keys WHERE user_id = $1) AS keys`,
      [user],
    );
    expect(rows[0]).toEqual({ tasks: 0, keys: 0 });

    // The key was not used up: once the database is fast again, the retry creates the task.
    await database.admin.query("DROP TRIGGER test_slow_insert ON tasks");
    const retried = await call(`/api/${user}/tasks`, request);
    expect(retried.status).toBe(201);
    expect(retried.headers.get("Idempotent-Replayed")).toBeNull();
  });
});

describe("the cause of a 503 or a 500 from the database", () => {
  let database: ScratchDatabase;
  let worker: RunningWorker;
  const lines: string[] = [];
  beforeAll(async () => {
    database = await scratchDatabase();
    // Inserts fail, per title: a transient SQLSTATE (lock_not_available) or a bug (a raised error).
    await database.admin.query(`CREATE FUNCTION test_failing_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.title = 'locked' THEN RAISE EXCEPTION 'simulated lock timeout' USING ERRCODE = '55P03'; END IF;
        IF NEW.title = 'broken' THEN RAISE EXCEPTION 'simulated bug' USING ERRCODE = 'XX000'; END IF;
        RETURN NEW;
      END $$`);
    await database.admin.query(
      "CREATE TRIGGER test_failing_insert BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION test_failing_insert()",
    );
    worker = await startTestWorker({
      database: database.url,
      bindings: { BETTER_AUTH_SECRET: TEST_SECRET },
      onLog: (line) => lines.push(line),
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await database?.drop();
  });

  /** The Worker's log entry with this message for this request, once workerd has passed it on. */
  const logged = async (message: string, requestId: string) => (await loggedFor(lines, message, requestId))[0];

  it("a transient SQLSTATE is a 503 whose log line keeps the driver's error and its SQLSTATE", async () => {
    const user = newUser();
    const response = await call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "locked" } });
    const body = await expectProblem(response, "database_unavailable");
    expect(JSON.stringify(body)).not.toContain("simulated");
    const entry = await logged("database_unavailable", body.request_id);
    expect(entry.level).toBe("error");
    expect(entry.cause).toMatchObject({ code: "55P03", message: "simulated lock timeout" });
  });

  it("any other SQLSTATE is a 500 internal_error, its stack in the log and nothing of it in the body", async () => {
    const user = newUser();
    const response = await call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "broken" } });
    const body = await expectProblem(response, "internal_error");
    expect(JSON.stringify(body)).not.toContain("simulated");
    const entry = await logged("unhandled error", body.request_id);
    expect(entry.cause).toMatchObject({ code: "XX000", message: "simulated bug" });
    expect(String(entry.cause?.stack)).toMatch(/\n\s+at /);
  });

  it("a refused connection is a 503 whose log line names the driver's error", async () => {
    const refusing = await startTestWorker({
      database: `postgres://postgres:postgres@127.0.0.1:${await freePort()}/tasks`,
      bindings: { BETTER_AUTH_SECRET: TEST_SECRET },
      onLog: (line) => lines.push(line),
    });
    try {
      const user = newUser();
      const response = await call(`/api/${user}/tasks`, { base: refusing.url, token: await tokenFor(user) });
      const body = await expectProblem(response, "database_unavailable");
      const entry = await logged("database_unavailable", body.request_id);
      expect(String(entry.cause?.message)).not.toBe("");
    } finally {
      await refusing.stop();
    }
  });
});

// The design rule "one SQL statement (one round trip) per API call", checked by Postgres itself:
// a Postgres of this file's own with pg_stat_statements, so other test files' traffic cannot
// blur the count, and the Worker pointed at it. Every kind of call, including conditional
// writes that fail (412) and every Idempotency-Key outcome, must execute exactly one statement;
// calls refused before the database (validation) must execute none.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../scripts/lib/migrate.ts";
import { freePort, type RunningPostgres, startPostgres } from "../scripts/lib/postgres.ts";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, newUser, type Task, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { startTestWorker } from "./support/transport.ts";

let scratch: string;
let postgres: RunningPostgres;
let worker: RunningWorker;
let admin: pg.Client;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "task-api-statements-"));
  await chmod(scratch, 0o755);
  postgres = await startPostgres({
    dataDir: path.join(scratch, "pgdata"),
    port: await freePort(),
    database: "tasks_statements",
    persistent: false,
    settings: { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all" },
  });
  await migrate(postgres.url);
  admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  worker = await startTestWorker({ database: postgres.url, bindings: { BETTER_AUTH_SECRET: TEST_SECRET } });
});

afterAll(async () => {
  await worker?.stop();
  await admin?.end();
  await postgres?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Statements Postgres executed while `act` ran, not counting this file's own bookkeeping. */
async function statementsDuring(act: () => Promise<void>): Promise<number> {
  await admin.query("SELECT pg_stat_statements_reset()");
  await act();
  const { rows } = await admin.query<{ calls: string | null }>(
    "SELECT sum(calls) AS calls FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'",
  );
  return Number(rows[0]?.calls ?? 0);
}

const base = () => worker.url;

async function create(user: string, body: unknown = { title: "counted" }): Promise<Task> {
  const response = await call(`/api/${user}/tasks`, { base: base(), method: "POST", body });
  expect(response.status).toBe(201);
  return (await response.json()) as Task;
}

/** One API call: the expected status, and the number of statements it must cost. */
async function expectStatements(expected: number, status: number, path: string, init: Parameters<typeof call>[1] = {}): Promise<void> {
  let got = 0;
  const statements = await statementsDuring(async () => {
    got = (await call(path, { base: base(), ...init })).status;
  });
  expect(got, `${init.method ?? "GET"} ${path}`).toBe(status);
  expect(statements, `${init.method ?? "GET"} ${path} → ${status}`).toBe(expected);
}

describe("one SQL statement per API call, counted by pg_stat_statements", () => {
  it("plain calls: list, create, get, PUT, PATCH, complete, delete", async () => {
    const user = newUser();
    const task = await create(user);
    const one = `/api/${user}/tasks/${task.id}`;
    await expectStatements(1, 200, `/api/${user}/tasks?status=pending&sort=due_date&q=count&tag=a`);
    await expectStatements(1, 201, `/api/${user}/tasks`, { method: "POST", body: { title: "another" } });
    await expectStatements(1, 200, one);
    await expectStatements(1, 200, one, { method: "PUT", body: { title: "put" } });
    await expectStatements(1, 200, one, { method: "PATCH", body: { title: "patched" } });
    await expectStatements(1, 200, `${one}/complete`, { method: "PATCH" });
    await expectStatements(1, 204, one, { method: "DELETE" });
    await expectStatements(1, 404, one);
  });

  it("conditional calls: 304, If-Match that holds, and If-Match that fails with 412", async () => {
    const user = newUser();
    const task = await create(user);
    const one = `/api/${user}/tasks/${task.id}`;
    await expectStatements(1, 304, one, { headers: { "If-None-Match": '"1"' } });
    await expectStatements(1, 412, one, { method: "PUT", body: { title: "stale" }, headers: { "If-Match": '"9"' } });
    await expectStatements(1, 412, one, { method: "PATCH", body: { title: "stale" }, headers: { "If-Match": '"9"' } });
    await expectStatements(1, 412, `${one}/complete`, { method: "PATCH", headers: { "If-Match": '"9"' } });
    await expectStatements(1, 412, one, { method: "DELETE", headers: { "If-Match": '"9"' } });
    await expectStatements(1, 200, one, { method: "PATCH", body: { title: "fresh" }, headers: { "If-Match": '"1"' } });
    await expectStatements(1, 404, `/api/${user}/tasks/999999999`, { method: "DELETE", headers: { "If-Match": '"1"' } });
    await expectStatements(1, 204, one, { method: "DELETE", headers: { "If-Match": '"2"' } });
  });

  it("Idempotency-Key: first request, replay, and reuse with another body", async () => {
    const user = newUser();
    const headers = { "Idempotency-Key": `key-${crypto.randomUUID()}` };
    await expectStatements(1, 201, `/api/${user}/tasks`, { method: "POST", body: { title: "once" }, headers });
    await expectStatements(1, 201, `/api/${user}/tasks`, { method: "POST", body: { title: "once" }, headers });
    await expectStatements(1, 422, `/api/${user}/tasks`, { method: "POST", body: { title: "twice" }, headers });
  });

  it("calls refused before the database cost none: bad body, bad key, bad id, bad token", async () => {
    const user = newUser();
    await expectStatements(0, 422, `/api/${user}/tasks`, { method: "POST", body: { title: "" } });
    await expectStatements(0, 422, `/api/${user}/tasks`, { method: "POST", body: { title: "x" }, headers: { "Idempotency-Key": "" } });
    await expectStatements(0, 422, `/api/${user}/tasks/abc`);
    await expectStatements(0, 401, `/api/${user}/tasks`, { token: "not-a-jwt" });
    await expectStatements(0, 403, `/api/${newUser()}/tasks`, {
      token: null,
      headers: { Authorization: `Bearer ${await tokenFor(user)}` },
    });
  });
});

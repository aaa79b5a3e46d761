// The design rule "one SQL statement (one round trip) per API call", checked by Postgres itself:
// a Postgres of this file's own with pg_stat_statements, so other test files' traffic cannot
// blur the count, and the Worker pointed at it. Every kind of call, including conditional
// writes that fail (412), every Idempotency-Key outcome, and the calls of lists, moves, restores
// and the trash, must execute exactly one statement; calls refused before the database
// (validation) must execute none.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScratchPostgres, startScratchPostgres } from "../scripts/lib/postgres.ts";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, newUser, type Task, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { startTestWorker } from "./support/transport.ts";

let postgres: ScratchPostgres;
let worker: RunningWorker;
let admin: pg.Client;

beforeAll(async () => {
  postgres = await startScratchPostgres({ database: "tasks_statements", statementStats: true });
  admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  worker = await startTestWorker({ database: postgres.url, bindings: { BETTER_AUTH_SECRET: TEST_SECRET } });
});

afterAll(async () => {
  await worker?.stop();
  await admin?.end();
  await postgres?.dispose();
});

/**
 * Statements the Worker sent while `act` ran (top-level ones: each is one round trip; those that
 * task_write runs inside its one call are not round trips), not counting this file's own bookkeeping.
 */
async function statementsDuring(act: () => Promise<void>): Promise<number> {
  await admin.query("SELECT pg_stat_statements_reset()");
  await act();
  const { rows } = await admin.query<{ calls: string | null }>(
    "SELECT sum(calls) AS calls FROM pg_stat_statements WHERE toplevel AND query NOT ILIKE '%pg_stat_statements%'",
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

  it("sync: a batch of 100 operations, its replay, and /changes (full, after a cursor, a page of many)", async () => {
    const user = newUser();
    const task = await create(user);
    const operations = [
      ...Array.from({ length: 97 }, (_, i) => ({ op: "create", task: { title: `bulk ${i}` } })),
      { op: "update", id: task.id, task: { title: "renamed" } },
      { op: "complete", id: task.id },
      { op: "delete", id: task.id },
    ];
    const headers = { "Idempotency-Key": `batch-${crypto.randomUUID()}` };
    await expectStatements(1, 200, `/api/${user}/tasks/batch`, { method: "POST", body: { operations }, headers });
    await expectStatements(1, 200, `/api/${user}/tasks/batch`, { method: "POST", body: { operations }, headers });
    const failing = [...operations.slice(0, 56), { op: "delete", id: 999_999_999 }];
    await expectStatements(1, 404, `/api/${user}/tasks/batch`, { method: "POST", body: { operations: failing } });
    await expectStatements(1, 200, `/api/${user}/changes`);
    await expectStatements(1, 200, `/api/${user}/changes?limit=10`);
    const { cursor } = (await (await call(`/api/${user}/changes?limit=3`, { base: base() })).json()) as { cursor: string };
    await expectStatements(1, 200, `/api/${user}/changes?since=${cursor}`);
  });

  it("recurring tasks: completing one costs two statements (the rule, then the write with the next due date); the rest one", async () => {
    const user = newUser();
    const body = { title: "weekly", due_date: "2027-06-07T08:00:00Z", recurrence: { rule: "FREQ=WEEKLY", time_zone: "Europe/Berlin" } };
    const task = await create(user, body);
    const one = `/api/${user}/tasks/${task.id}`;
    await expectStatements(1, 200, one, { method: "PATCH", body: { title: "renamed" } });
    await expectStatements(1, 200, `${one}/occurrences`);
    await expectStatements(2, 200, `${one}/complete`, { method: "PATCH", body: { completed: true } });
    // Done again after being undone: its next occurrence exists already, so one statement.
    await expectStatements(1, 200, `${one}/complete`, { method: "PATCH", body: { completed: false } });
    await expectStatements(1, 200, `${one}/complete`, { method: "PATCH", body: { completed: true } });
    // A batch completing three recurring tasks: still two, whatever their number.
    const tasks = [await create(user, body), await create(user, body), await create(user, body)];
    const operations = tasks.map((recurring) => ({ op: "complete", id: recurring.id }));
    await expectStatements(2, 200, `/api/${user}/tasks/batch`, { method: "POST", body: { operations } });
  });

  it("lists: GET /lists (making the Inbox), POST (and its replay), GET, 304, PATCH, PUT, 412, move, DELETE, ?move_to, restore, 404, 409", async () => {
    const user = newUser();
    const lists = `/api/${user}/lists`;
    await expectStatements(1, 200, lists);
    await expectStatements(1, 200, lists);
    const headers = { "Idempotency-Key": `list-${crypto.randomUUID()}` };
    await expectStatements(1, 201, lists, { method: "POST", body: { name: "first" }, headers });
    await expectStatements(1, 201, lists, { method: "POST", body: { name: "first" }, headers });
    const list = (await (await call(lists, { base: base(), method: "POST", body: { name: "second" } })).json()) as { id: number };
    const target = (await (await call(lists, { base: base(), method: "POST", body: { name: "target" } })).json()) as { id: number };
    const one = `${lists}/${list.id}`;
    await create(user, { title: "in the list", list_id: list.id });
    await expectStatements(1, 200, one);
    await expectStatements(1, 304, one, { headers: { "If-None-Match": '"1"' } });
    await expectStatements(1, 200, one, { method: "PATCH", body: { name: "patched" } });
    await expectStatements(1, 200, one, { method: "PUT", body: { color: "#abcdef" } });
    await expectStatements(1, 412, one, { method: "PATCH", body: { name: "stale" }, headers: { "If-Match": '"1"' } });
    await expectStatements(1, 200, `${one}/move`, { method: "POST", body: { after_id: target.id } });
    await expectStatements(1, 204, one, { method: "DELETE" });
    await expectStatements(1, 404, one);
    await expectStatements(1, 200, `${one}/restore`, { method: "POST" });
    await expectStatements(1, 404, `${one}/restore`, { method: "POST" });
    await expectStatements(1, 204, `${one}?move_to=${target.id}`, { method: "DELETE" });
    await expectStatements(1, 422, `${lists}/${target.id}?move_to=${target.id}`, { method: "DELETE" });
    const inbox = ((await (await call(lists, { base: base() })).json()) as Array<{ id: number; inbox: boolean }>).find((l) => l.inbox);
    await expectStatements(1, 409, `${lists}/${inbox?.id}`, { method: "DELETE" });
  });

  it("order and trash: move, restore, GET /tasks?sort=position (and its next page), GET /trash (and its next page)", async () => {
    const user = newUser();
    const [a, b, c] = [await create(user, { title: "a" }), await create(user, { title: "b" }), await create(user, { title: "c" })];
    await expectStatements(1, 200, `/api/${user}/tasks/${c.id}/move`, { method: "POST", body: { after_id: a.id } });
    await expectStatements(1, 200, `/api/${user}/tasks/${b.id}/move`, { method: "POST", body: { parent_id: a.id } });
    await expectStatements(1, 422, `/api/${user}/tasks/${c.id}/move`, { method: "POST", body: { parent_id: b.id } });
    await expectStatements(1, 200, `/api/${user}/tasks?list_id=${a.list_id}&sort=position&limit=1`);
    const first = await call(`/api/${user}/tasks?list_id=${a.list_id}&sort=position&limit=1`, { base: base() });
    const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get("Link") ?? "")?.[1] ?? "";
    await expectStatements(1, 200, `/api/${user}/tasks${next.slice(next.indexOf("?"))}`);
    await expectStatements(1, 204, `/api/${user}/tasks/${a.id}`, { method: "DELETE" });
    await expectStatements(1, 204, `/api/${user}/tasks/${c.id}`, { method: "DELETE" });
    await expectStatements(1, 200, `/api/${user}/trash`);
    const page = await call(`/api/${user}/trash?limit=1`, { base: base() });
    const more = /<([^>]+)>;\s*rel="next"/.exec(page.headers.get("Link") ?? "")?.[1] ?? "";
    await expectStatements(1, 200, `/api/${user}/trash${more.slice(more.indexOf("?"))}`);
    await expectStatements(1, 200, `/api/${user}/tasks/${a.id}/restore`, { method: "POST" });
    await expectStatements(1, 404, `/api/${user}/tasks/${a.id}/restore`, { method: "POST" });
  });

  it("/changes with lists: a brand-new user's full sync (making the Inbox), and after a cursor; a batch mixing list and task operations", async () => {
    const user = newUser();
    await expectStatements(1, 200, `/api/${user}/changes`);
    const { cursor } = (await (await call(`/api/${user}/changes`, { base: base() })).json()) as { cursor: string };
    const list = (await (await call(`/api/${user}/lists`, { base: base(), method: "POST", body: { name: "l" } })).json()) as { id: number };
    const task = await create(user, { title: "t", list_id: list.id });
    await expectStatements(1, 200, `/api/${user}/changes?since=${cursor}`);
    const operations = [
      { op: "list_create", list: { name: "made" } },
      { op: "create", task: { title: "new", list_id: list.id } },
      { op: "move", id: task.id, list_id: list.id },
      { op: "list_update", id: list.id, list: { name: "renamed" } },
      { op: "list_move", id: list.id },
      { op: "delete", id: task.id },
      { op: "restore", id: task.id },
      { op: "list_delete", id: list.id },
      { op: "list_restore", id: list.id },
    ];
    await expectStatements(1, 200, `/api/${user}/tasks/batch`, { method: "POST", body: { operations } });
    // Failing at the last operation (its anchor is itself): one statement too.
    const failing = [...operations, { op: "move", id: task.id, after_id: task.id }];
    await expectStatements(1, 422, `/api/${user}/tasks/batch`, { method: "POST", body: { operations: failing } });
  });

  it("sharing: invite, list invitations, revoke, accept (and 410), members, a role, a transfer, a member's reads and writes, leave", async () => {
    const owner = newUser();
    const member = newUser();
    const other = newUser();
    const list = (await (await call(`/api/${owner}/lists`, { base: base(), method: "POST", body: { name: "shared" } })).json()) as {
      id: number;
    };
    const lists = `/api/${owner}/lists/${list.id}`;
    let token = "";
    const statements = await statementsDuring(async () => {
      const response = await call(`${lists}/invitations`, { base: base(), method: "POST", body: { role: "editor" } });
      expect(response.status).toBe(201);
      token = ((await response.json()) as { token: string }).token;
    });
    expect(statements, "POST …/invitations").toBe(1);
    await expectStatements(1, 200, `${lists}/invitations`);
    const revoked = (await (await call(`${lists}/invitations`, { base: base(), method: "POST", body: {} })).json()) as { id: number };
    await expectStatements(1, 204, `${lists}/invitations/${revoked.id}`, { method: "DELETE" });
    await expectStatements(1, 200, `/api/${member}/invitations/accept`, {
      method: "POST",
      body: { token },
      headers: { "Idempotency-Key": "accept-once" },
    });
    // Its retry with the key: the stored answer, from the same one statement.
    await expectStatements(1, 200, `/api/${member}/invitations/accept`, {
      method: "POST",
      body: { token },
      headers: { "Idempotency-Key": "accept-once" },
    });
    await expectStatements(1, 410, `/api/${other}/invitations/accept`, { method: "POST", body: { token } });
    await expectStatements(1, 200, `/api/${member}/lists/${list.id}/members`);
    await expectStatements(1, 200, `/api/${member}/lists`);
    await expectStatements(1, 200, `/api/${member}/tasks`);
    await expectStatements(1, 201, `/api/${member}/tasks`, { method: "POST", body: { title: "by a member", list_id: list.id } });
    await expectStatements(1, 200, `/api/${member}/changes`);
    await expectStatements(1, 200, `${lists}/members/${member}`, { method: "PATCH", body: { role: "viewer" } });
    await expectStatements(1, 403, `/api/${member}/tasks`, { method: "POST", body: { title: "refused", list_id: list.id } });
    await expectStatements(1, 200, `${lists}/members/${member}`, { method: "PATCH", body: { role: "owner" } });
    await expectStatements(1, 204, `/api/${owner}/lists/${list.id}/members/${owner}`, { method: "DELETE" });
  });

  it("calls refused before the database cost none: bad body, bad key, bad id, bad token", async () => {
    const user = newUser();
    await expectStatements(0, 422, `/api/${user}/tasks`, { method: "POST", body: { title: "" } });
    await expectStatements(0, 422, `/api/${user}/tasks`, { method: "POST", body: { title: "x" }, headers: { "Idempotency-Key": "" } });
    await expectStatements(0, 422, `/api/${user}/tasks/abc`);
    await expectStatements(0, 422, `/api/${user}/lists`, { method: "POST", body: { name: "n", color: "red" } });
    await expectStatements(0, 422, `/api/${user}/lists/abc`);
    await expectStatements(0, 422, `/api/${user}/tasks/1/move`, { method: "POST", body: { after_id: 2, before_id: 3 } });
    await expectStatements(0, 422, `/api/${user}/tasks?sort=position`);
    await expectStatements(0, 422, `/api/${user}/trash?limit=0`);
    await expectStatements(0, 401, `/api/${user}/tasks`, { token: "not-a-jwt" });
    await expectStatements(0, 403, `/api/${newUser()}/tasks`, {
      token: null,
      headers: { Authorization: `Bearer ${await tokenFor(user)}` },
    });
  });
});

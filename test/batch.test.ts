// POST /api/{user_id}/tasks/batch (API.md "Batch"): operations applied in order, all or none
// (task and list operations alike); per-operation results with ETags; the first failure's
// problem with `operation` and prefixed paths; Idempotency-Key as on a create; 1 MiB bodies; one
// request for the rate limit.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, createTask, expectProblem, newUser, type Task, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { createList, type List, readLists } from "./support/lists.ts";
import { startTestWorker } from "./support/transport.ts";

interface BatchResult {
  status: number;
  etag?: string;
  task?: Task;
  id?: number;
}

let db: pg.Client;
beforeAll(async () => {
  db = new pg.Client({ connectionString: inject("databaseUrl") });
  await db.connect();
});
afterAll(() => db.end());

const batch = (user: string, operations: unknown, options: { headers?: Record<string, string>; base?: string; token?: string } = {}) =>
  call(`/api/${user}/tasks/batch`, { method: "POST", body: { operations }, ...options });

async function results(response: Response): Promise<BatchResult[]> {
  if (response.status !== 200) throw new Error(`batch: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { results: BatchResult[] }).results;
}

/** The user's tasks as stored, straight from the database (not those in the trash). */
async function stored(user: string): Promise<Array<{ id: number; title: string; version: number; completed: boolean }>> {
  const { rows } = await db.query(
    "SELECT id::int, title, version, completed FROM tasks WHERE user_id = $1 AND deleted_at IS NULL ORDER BY id",
    [user],
  );
  return rows;
}

describe("a batch that succeeds", () => {
  it("applies create, update, complete and delete in order and answers one result per operation, with ETags", async () => {
    const user = newUser();
    const kept = await createTask(user, { title: "kept" });
    const doomed = await createTask(user, { title: "doomed" });
    const answer = await results(
      await batch(user, [
        { op: "create", task: { title: "new", tags: ["x"] } },
        { op: "update", id: kept.id, task: { priority: "high" }, if_match: `"${kept.version}"` },
        { op: "complete", id: kept.id },
        { op: "delete", id: doomed.id, if_match: `"${doomed.version}"` },
      ]),
    );
    expect(answer.map((result) => result.status)).toEqual([201, 200, 200, 204]);
    expect(answer[0]?.task).toMatchObject({ title: "new", tags: ["x"], version: 1 });
    expect(answer[0]?.etag).toBe('"1"');
    expect(answer[1]?.task).toMatchObject({ id: kept.id, priority: "high", completed: false, version: 2 });
    expect(answer[2]?.task).toMatchObject({ id: kept.id, priority: "high", completed: true, version: 3 });
    expect(answer[2]?.etag).toBe('"3"');
    expect(answer[3]).toEqual({ status: 204, id: doomed.id });
    expect((await call(`/api/${user}/tasks/${kept.id}`)).headers.get("ETag")).toBe('"3"');
    expect(await stored(user)).toEqual([
      { id: kept.id, title: "kept", version: 3, completed: true },
      { id: answer[0]?.task?.id, title: "new", version: 1, completed: false },
    ]);
  });

  it("sees each operation's effect in the next: if_match of a later update must name the version the earlier one made", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "v1" });
    const answer = await results(
      await batch(user, [
        { op: "update", id: task.id, task: { title: "v2" }, if_match: '"1"' },
        { op: "update", id: task.id, task: { title: "v3" }, if_match: '"2"' },
        { op: "complete", id: task.id, completed: true },
        { op: "complete", id: task.id },
      ]),
    );
    expect(answer.map((result) => result.task?.version)).toEqual([2, 3, 4, 5]);
    expect(answer.at(-1)?.task).toMatchObject({ title: "v3", completed: false });
  });

  it("takes a task read back as an update's body, ignoring its read-only fields", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "read back" });
    const [result] = await results(await batch(user, [{ op: "update", id: task.id, task: { ...task, title: "sent back" } }]));
    expect(result?.task).toMatchObject({ id: task.id, title: "sent back", version: 2 });
  });

  it("applies 100 creates, and a 100-operation body over 64 KiB (a batch may be up to 1 MiB)", async () => {
    const user = newUser();
    const operations = Array.from({ length: 100 }, (_, i) => ({
      op: "create",
      task: { title: `task ${i}`, description: "d".repeat(900) },
    }));
    expect(JSON.stringify({ operations }).length).toBeGreaterThan(64 * 1024);
    const answer = await results(await batch(user, operations));
    expect(answer).toHaveLength(100);
    expect(new Set(answer.map((result) => result.task?.id)).size).toBe(100);
    expect(await stored(user)).toHaveLength(100);
  });
});

describe("a batch that fails: all or none", () => {
  it("changes nothing when the 57th operation fails: 404 with operation 56, none of the first 56 in the database", async () => {
    const user = newUser();
    const existing = await createTask(user, { title: "untouched" });
    const operations: unknown[] = Array.from({ length: 56 }, (_, i) =>
      i % 2 === 0 ? { op: "create", task: { title: `never ${i}` } } : { op: "update", id: existing.id, task: { title: `changed ${i}` } },
    );
    operations.push({ op: "delete", id: 999_999_999 });
    operations.push({ op: "create", task: { title: "after the failure" } });
    const response = await batch(user, operations);
    const problem = await expectProblem(response, "task_not_found");
    expect((problem as unknown as { operation: number }).operation).toBe(56);
    expect(await stored(user)).toEqual([{ id: existing.id, title: "untouched", version: 1, completed: false }]);
    // Nothing in the trash either.
    const { rows } = await db.query("SELECT count(*)::int AS n FROM tasks WHERE user_id = $1 AND deleted_at IS NOT NULL", [user]);
    expect(rows[0]).toEqual({ n: 0 });
  });

  it("answers 412 with the operation whose if_match is stale, and changes nothing", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "original" });
    const response = await batch(user, [
      { op: "create", task: { title: "would be new" } },
      { op: "update", id: task.id, task: { title: "stale write" }, if_match: '"7"' },
    ]);
    const problem = await expectProblem(response, "precondition_failed");
    expect((problem as unknown as { operation: number }).operation).toBe(1);
    expect(await stored(user)).toEqual([{ id: task.id, title: "original", version: 1, completed: false }]);
  });

  it("answers 404 for another user's task, the same as a missing one, and changes nothing of theirs", async () => {
    const owner = newUser();
    const theirs = await createTask(owner, { title: "theirs" });
    const intruder = newUser();
    const problem = await expectProblem(await batch(intruder, [{ op: "delete", id: theirs.id }]), "task_not_found");
    expect((problem as unknown as { operation: number }).operation).toBe(0);
    expect(await stored(owner)).toEqual([{ id: theirs.id, title: "theirs", version: 1, completed: false }]);
  });

  it("answers 422 for the first invalid operation, its paths prefixed operations/<index>/, and changes nothing", async () => {
    const user = newUser();
    const response = await batch(user, [
      { op: "create", task: { title: "fine" } },
      { op: "update", id: 1, task: { title: "" } },
      { op: "create", task: { title: 7 } },
    ]);
    const problem = await expectProblem(response, "validation_failed", "operations/1/task.title");
    expect((problem as unknown as { operation: number }).operation).toBe(1);
    expect(problem.errors?.every((error) => error.path.startsWith("operations/1/"))).toBe(true);
    expect(await stored(user)).toEqual([]);
  });

  it.each([
    ["an unknown op", [{ op: "upsert", task: { title: "t" } }], "operations/0/op"],
    ["an id that is not a positive integer", [{ op: "delete", id: "5" }], "operations/0/id"],
    ["a missing id", [{ op: "complete" }], "operations/0/id"],
    ["an unknown member", [{ op: "delete", id: 1, force: true }], "operations/0/force"],
    ["an unknown task field", [{ op: "create", task: { title: "t", colour: "red" } }], "operations/0/task.colour"],
    ["a create without title", [{ op: "create", task: {} }], "operations/0/task.title"],
    ["an empty update", [{ op: "update", id: 1, task: {} }], "operations/0/task"],
    ["a completed that is not a boolean", [{ op: "complete", id: 1, completed: "yes" }], "operations/0/completed"],
  ])("answers 422 for %s", async (_label, operations, path) => {
    await expectProblem(await batch(newUser(), operations), "validation_failed", path);
  });

  it("answers 422 naming operations for none, for 101, and for something that is not a list", async () => {
    const user = newUser();
    await expectProblem(await batch(user, []), "validation_failed", "operations");
    const many = Array.from({ length: 101 }, () => ({ op: "create", task: { title: "t" } }));
    await expectProblem(await batch(user, many), "validation_failed", "operations");
    await expectProblem(await batch(user, { op: "create" }), "validation_failed", "operations");
    await expectProblem(await call(`/api/${user}/tasks/batch`, { method: "POST", body: { ops: [] } }), "validation_failed", "ops");
    expect(await stored(user)).toEqual([]);
  });

  it("answers 413 to a body over 1 MiB", async () => {
    const user = newUser();
    const operations = Array.from({ length: 100 }, () => ({ op: "create", task: { title: "t", description: "é".repeat(1000) } }));
    const body = JSON.stringify({ operations, padding: "x".repeat(1024 * 1024) });
    await expectProblem(await call(`/api/${user}/tasks/batch`, { method: "POST", body }), "body_too_large");
    expect(await stored(user)).toEqual([]);
  });

  it("answers 405 with Allow: POST to other methods on /tasks/batch (it is not a task id)", async () => {
    const user = newUser();
    for (const method of ["GET", "PUT", "PATCH", "DELETE"]) {
      const response = await call(`/api/${user}/tasks/batch`, { method, ...(method === "GET" || method === "DELETE" ? {} : { body: {} }) });
      await expectProblem(response, "method_not_allowed");
      expect(response.headers.get("Allow")).toBe("POST, OPTIONS");
    }
  });
});

describe("Idempotency-Key on a batch", () => {
  it("replays the first answer to a retry with the same body and applies nothing twice", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "t" });
    const operations = [
      { op: "create", task: { title: "once" } },
      { op: "complete", id: task.id },
    ];
    const headers = { "Idempotency-Key": `batch-${crypto.randomUUID()}` };
    const first = await batch(user, operations, { headers });
    const firstResults = await results(first);
    const retry = await batch(user, operations, { headers });
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await results(retry)).toEqual(firstResults);
    expect((await stored(user)).map((row) => [row.title, row.version])).toEqual([
      ["t", 2],
      ["once", 1],
    ]);
    await expectProblem(await batch(user, [{ op: "create", task: { title: "other" } }], { headers }), "idempotency_key_reused");
  });

  it("does not use the key up when the batch fails, so a corrected retry runs", async () => {
    const user = newUser();
    const headers = { "Idempotency-Key": `batch-${crypto.randomUUID()}` };
    await expectProblem(
      await batch(
        user,
        [
          { op: "create", task: { title: "a" } },
          { op: "delete", id: 999_999_999 },
        ],
        { headers },
      ),
      "task_not_found",
    );
    const answer = await results(await batch(user, [{ op: "create", task: { title: "a" } }], { headers }));
    expect(answer.map((result) => result.status)).toEqual([201]);
  });
});

describe("the rate limit", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET }, rateLimit: { limit: 3, period: 60 } });
  });
  afterAll(() => worker?.stop());

  it("counts a batch of 100 operations as one request", async () => {
    const operations = Array.from({ length: 100 }, (_, i) => ({ op: "create", task: { title: `t${i}` } }));
    // The limiter counts per fixed 60 s window; a run that straddles two windows is retried once.
    const window = () => Math.floor(Date.now() / 60_000);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const user = newUser();
      const token = await tokenFor(user);
      const before = window();
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await batch(user, operations, { base: worker.url, token })).status);
      if (window() !== before && attempt === 1) continue;
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(await stored(user)).toHaveLength(300);
      return;
    }
  });
});

describe("list operations, moves and restores in a batch", () => {
  /** The user's lists and tasks as stored, trash included: for "nothing changed". */
  async function everything(user: string): Promise<unknown> {
    const lists = await db.query("SELECT id, name, color, sort_key, version, deleted_at FROM lists WHERE user_id = $1 ORDER BY id", [user]);
    const tasks = await db.query(
      "SELECT id, title, list_id, parent_id, sort_key, version, deleted_at FROM tasks WHERE user_id = $1 ORDER BY id",
      [user],
    );
    return { lists: lists.rows, tasks: tasks.rows };
  }

  const operationOf = (problem: unknown) => (problem as { operation?: number }).operation;

  it("applies list_create, list_update, list_move, move, restore, list_delete and list_restore in order, each with its result", async () => {
    const user = newUser();
    const list = await createList(user, { name: "L" });
    const trashed = await createList(user, { name: "Z" });
    const doomed = await createList(user, { name: "Z2" });
    const task = await createTask(user, { title: "moved" });
    const deleted = await createTask(user, { title: "restored" });
    expect((await call(`/api/${user}/tasks/${deleted.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/api/${user}/lists/${trashed.id}`, { method: "DELETE" })).status).toBe(204);
    const answer = await results(
      await batch(user, [
        { op: "list_create", list: { name: " made ", color: "#ABCDEF" } },
        { op: "list_update", id: list.id, list: { name: "renamed" }, if_match: '"1"' },
        { op: "list_move", id: list.id },
        { op: "move", id: task.id, list_id: list.id },
        { op: "restore", id: deleted.id },
        { op: "list_delete", id: doomed.id },
        { op: "list_restore", id: trashed.id },
      ]),
    );
    expect(answer.map((result) => result.status)).toEqual([201, 200, 200, 200, 200, 204, 200]);
    const [created, updated, moved, movedTask, restored, gone, back] = answer as Array<BatchResult & { list?: List }>;
    expect(created).toEqual({ status: 201, etag: '"1"', list: expect.objectContaining({ name: "made", color: "#abcdef", version: 1 }) });
    expect(updated).toEqual({ status: 200, etag: '"2"', list: expect.objectContaining({ id: list.id, name: "renamed", version: 2 }) });
    expect(moved?.list).toMatchObject({ id: list.id, version: 3 });
    expect(movedTask).toEqual({ status: 200, etag: '"2"', task: expect.objectContaining({ id: task.id, list_id: list.id, version: 2 }) });
    expect(restored?.task).toMatchObject({ id: deleted.id, title: "restored", version: 3 });
    expect(gone).toEqual({ status: 204, id: doomed.id });
    expect(back?.list).toMatchObject({ id: trashed.id, name: "Z" });
    expect((await readLists(user)).map((l) => l.name)).toEqual(["renamed", "Inbox", "Z", "made"]);
  });

  it("a failing list operation undoes the task operations before it: 409 inbox_not_deletable with its index, nothing changed", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "untouched" });
    const list = await createList(user, { name: "L" });
    const before = await everything(user);
    const response = await batch(user, [
      { op: "create", task: { title: "never" } },
      { op: "update", id: task.id, task: { title: "never renamed" } },
      { op: "move", id: task.id, list_id: list.id },
      { op: "delete", id: task.id },
      { op: "list_delete", id: task.list_id },
    ]);
    expect(operationOf(await expectProblem(response, "inbox_not_deletable"))).toBe(4);
    expect(await everything(user)).toEqual(before);
  });

  it("a failing task operation undoes the list operations before it: 404 task_not_found with its index, nothing changed", async () => {
    const user = newUser();
    const list = await createList(user, { name: "L" });
    const other = await createList(user, { name: "other" });
    await createTask(user, { title: "in other", list_id: other.id });
    const before = await everything(user);
    const response = await batch(user, [
      { op: "list_create", list: { name: "never" } },
      { op: "list_update", id: list.id, list: { color: "#000000" } },
      { op: "list_move", id: other.id },
      { op: "list_delete", id: other.id, move_to: list.id },
      { op: "complete", id: 999_999_999 },
    ]);
    expect(operationOf(await expectProblem(response, "task_not_found"))).toBe(4);
    expect(await everything(user)).toEqual(before);
  });

  it("a list that is not there is a 404 list_not_found with the operation's index; a stale if_match a 412", async () => {
    const user = newUser();
    const list = await createList(user, { name: "L" });
    const before = await everything(user);
    const missing = await batch(user, [
      { op: "list_update", id: list.id, list: { name: "x" } },
      { op: "list_update", id: 999_999_999, list: { name: "x" } },
    ]);
    expect(operationOf(await expectProblem(missing, "list_not_found"))).toBe(1);
    const notTrashed = await batch(user, [{ op: "list_restore", id: list.id }]);
    expect(operationOf(await expectProblem(notTrashed, "list_not_found"))).toBe(0);
    const stale = await batch(user, [
      { op: "list_create", list: { name: "never" } },
      { op: "list_move", id: list.id, if_match: '"5"' },
    ]);
    expect(operationOf(await expectProblem(stale, "precondition_failed"))).toBe(1);
    expect(await everything(user)).toEqual(before);
  });

  it("names the failing field under its operation: task.list_id, task.parent_id, list_id, parent_id, after_id, before_id, move_to", async () => {
    const user = newUser();
    const stranger = newUser();
    const theirList = await createList(stranger, { name: "theirs" });
    const list = await createList(user, { name: "L" });
    const parent = await createTask(user, { title: "parent" });
    const sub = await createTask(user, { title: "sub", parent_id: parent.id });
    const task = await createTask(user, { title: "task" });
    const before = await everything(user);
    const cases: Array<[unknown[], string]> = [
      [
        [
          { op: "create", task: { title: "ok" } },
          { op: "create", task: { title: "x", list_id: theirList.id } },
        ],
        "operations/1/task.list_id",
      ],
      [[{ op: "create", task: { title: "x", parent_id: sub.id } }], "operations/0/task.parent_id"],
      [[{ op: "update", id: task.id, task: { list_id: theirList.id } }], "operations/0/task.list_id"],
      [[{ op: "update", id: task.id, task: { parent_id: sub.id } }], "operations/0/task.parent_id"],
      [[{ op: "move", id: task.id, list_id: theirList.id }], "operations/0/list_id"],
      [[{ op: "move", id: task.id, parent_id: task.id }], "operations/0/parent_id"],
      [
        [
          { op: "create", task: { title: "ok" } },
          { op: "move", id: task.id, after_id: sub.id },
        ],
        "operations/1/after_id",
      ],
      [[{ op: "move", id: task.id, before_id: 999_999_999 }], "operations/0/before_id"],
      [[{ op: "list_delete", id: list.id, move_to: list.id }], "operations/0/move_to"],
      [[{ op: "list_move", id: list.id, after_id: theirList.id }], "operations/0/after_id"],
      [[{ op: "list_move", id: list.id, before_id: list.id }], "operations/0/before_id"],
    ];
    for (const [operations, path] of cases) {
      const problem = await expectProblem(await batch(user, operations), "validation_failed", path);
      expect(operationOf(problem), path).toBe(Number(path.split("/")[1]));
    }
    expect(await everything(user)).toEqual(before);
  });

  it.each([
    ["a list_create without name", [{ op: "list_create", list: {} }], "operations/0/list.name"],
    ["a list_create with a bad color", [{ op: "list_create", list: { name: "n", color: "red" } }], "operations/0/list.color"],
    ["an empty list_update", [{ op: "list_update", id: 1, list: {} }], "operations/0/list"],
    ["a list_delete with a move_to that is not an id", [{ op: "list_delete", id: 1, move_to: "2" }], "operations/0/move_to"],
    ["a move with both anchors", [{ op: "move", id: 1, after_id: 2, before_id: 3 }], "operations/0/before_id"],
    ["a move with an unknown member", [{ op: "move", id: 1, position: "a0" }], "operations/0/position"],
    [
      "a list_move with both anchors, as its route refuses them",
      [{ op: "list_move", id: 1, after_id: 2, before_id: 3 }],
      "operations/0/before_id",
    ],
    ["a restore with an unknown member", [{ op: "restore", id: 1, list_id: 2 }], "operations/0/list_id"],
  ])("answers 422 before the database for %s", async (_label, operations, path) => {
    await expectProblem(await batch(newUser(), operations), "validation_failed", path);
  });

  it("replays a batch of list operations to a retry with the same Idempotency-Key, creating nothing twice", async () => {
    const user = newUser();
    const operations = [
      { op: "list_create", list: { name: "once" } },
      { op: "create", task: { title: "once too" } },
    ];
    const headers = { "Idempotency-Key": `lists-${crypto.randomUUID()}` };
    const first = await results(await batch(user, operations, { headers }));
    const retry = await batch(user, operations, { headers });
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await results(retry)).toEqual(first);
    expect((await readLists(user)).map((list) => list.name)).toEqual(["Inbox", "once"]);
  });
});

// Manual order and moves (docs/api.md "Lists", "Moving a task"): GET /tasks?sort=position lists a
// list's tasks by their order keys, top level first, then each parent's subtasks; POST …/move puts
// a task first, after or before a sibling, into another list (its subtasks with it) or under a
// parent (one level deep); a PATCH to another list or parent puts it last there, a PUT of what was
// read moves nothing; keys that grow long are renumbered. And the promise of the issue: clients
// moving tasks of one list at the same time never give two tasks one position and never lose a
// task, which the same checks show the naive design (read the neighbours, then write a number,
// with no lock) breaking.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, createTask, expectProblem, newUser, type Task, tokenFor, untilAvailable } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { type ScratchDatabase, scratchDatabase } from "./support/database.ts";
import { httpFetch } from "./support/http.ts";
import { createList, deleteTask, expectJson, inboxOf, inOrder, keyBefore, moveTask, nextPath, titles } from "./support/lists.ts";
import { NO_USER_LOCK } from "./support/naive.ts";
import { random } from "./support/random.ts";
import { startTestWorker } from "./support/transport.ts";

const tasksPath = (user: string) => `/api/${user}/tasks`;
const taskPath = (user: string, id: number) => `/api/${user}/tasks/${id}`;

/** Creates tasks in one batch (one request), in this order. */
async function createMany(user: string, tasks: Record<string, unknown>[]): Promise<Task[]> {
  const response = await call(`${tasksPath(user)}/batch`, {
    method: "POST",
    body: { operations: tasks.map((task) => ({ op: "create", task })) },
  });
  return (await expectJson<{ results: Array<{ task: Task }> }>(response)).results.map((result) => result.task);
}

/** A list with top-level tasks A, B, C, D and subtasks a1, a2 under A and c1 under C, created in that order. */
async function fixture(user: string) {
  const list = await createList(user, { name: "fixture" });
  const [a, b, c, d] = await createMany(
    user,
    ["A", "B", "C", "D"].map((title) => ({ title, list_id: list.id })),
  );
  if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error("fixture");
  const [a1, a2, c1] = await createMany(user, [
    { title: "a1", parent_id: a.id },
    { title: "a2", parent_id: a.id },
    { title: "c1", parent_id: c.id },
  ]);
  if (a1 === undefined || a2 === undefined || c1 === undefined) throw new Error("fixture");
  return { list, a, b, c, d, a1, a2, c1 };
}

describe("GET /tasks?sort=position", () => {
  it("lists the top level by key, then each parent's subtasks grouped by parent, by key; -position the exact reverse", async () => {
    const user = newUser();
    const { list, a, b, c, d, a1, a2, c1 } = await fixture(user);
    const expected = [a, b, c, d, a1, a2, c1].map((task) => task.id);
    expect((await inOrder(user, list.id)).map((task) => task.id)).toEqual(expected);
    expect((await inOrder(user, list.id, { sort: "-position" })).map((task) => task.id)).toEqual([...expected].reverse());
    expect(await titles(user, list.id)).toEqual(["A", "B", "C", "D", "A > a1", "A > a2", "C > c1"]);
    expect((await inOrder(user, list.id, { parent_id: "none" })).map((task) => task.id)).toEqual([a.id, b.id, c.id, d.id]);
    expect((await inOrder(user, list.id, { parent_id: String(a.id) })).map((task) => task.id)).toEqual([a1.id, a2.id]);
    // Keys strictly increase among siblings.
    for (const group of [
      [a, b, c, d],
      [a1, a2],
    ]) {
      for (let i = 1; i < group.length; i++) expect(keyBefore(group[i - 1]?.position ?? "", group[i]?.position ?? "")).toBe(true);
    }
  });

  it.each(["position", "-position"])("sort=%s: every page size walks every task exactly once, in order", async (sort) => {
    const user = newUser();
    const { list } = await fixture(user);
    const all = (await inOrder(user, list.id, { sort })).map((task) => task.id);
    expect(all).toHaveLength(7);
    for (let limit = 1; limit <= all.length; limit++) {
      const seen: number[] = [];
      let path: string | undefined = `${tasksPath(user)}?list_id=${list.id}&sort=${sort}&limit=${limit}`;
      while (path !== undefined) {
        const response = await call(path);
        const page = await expectJson<Task[]>(response);
        expect(page.length).toBeLessThanOrEqual(limit);
        seen.push(...page.map((task) => task.id));
        path = nextPath(response);
      }
      expect(seen, `limit=${limit}`).toEqual(all);
    }
  });

  it("without list_id is a 422 naming sort (the order is a list's own)", async () => {
    const user = newUser();
    for (const sort of ["position", "-position"]) {
      await expectProblem(await call(`${tasksPath(user)}?sort=${sort}`), "validation_failed", "sort");
    }
    await expectProblem(await call(`${tasksPath(user)}?list_id=1&parent_id=top`), "validation_failed", "parent_id");
  });
});

describe("POST /tasks/{id}/move", () => {
  it("puts a task first (no anchor), right after after_id or right before before_id: 200, same id, version + 1", async () => {
    const user = newUser();
    const list = await createList(user, { name: "moves" });
    const [t1, t2, t3, t4] = await createMany(
      user,
      ["1", "2", "3", "4"].map((title) => ({ title, list_id: list.id })),
    );
    if (t1 === undefined || t2 === undefined || t3 === undefined || t4 === undefined) throw new Error("fixture");
    const response = await moveTask(user, t4.id);
    const moved = await expectJson<Task>(response);
    expect(moved).toMatchObject({ id: t4.id, version: 2, list_id: list.id, parent_id: null, title: "4" });
    expect(response.headers.get("ETag")).toBe('"2"');
    expect(await titles(user, list.id)).toEqual(["4", "1", "2", "3"]);
    await expectJson(await moveTask(user, t1.id, { after_id: t3.id }));
    expect(await titles(user, list.id)).toEqual(["4", "2", "3", "1"]);
    await expectJson(await moveTask(user, t2.id, { before_id: t4.id }));
    expect(await titles(user, list.id)).toEqual(["2", "4", "3", "1"]);
    await expectJson(await moveTask(user, t2.id, { after_id: t1.id }));
    expect(await titles(user, list.id)).toEqual(["4", "3", "1", "2"]);
  });

  it("to its own place: 200, the order unchanged", async () => {
    const user = newUser();
    const list = await createList(user, { name: "still" });
    const [t1, t2, t3] = await createMany(
      user,
      ["1", "2", "3"].map((title) => ({ title, list_id: list.id })),
    );
    if (t1 === undefined || t2 === undefined || t3 === undefined) throw new Error("fixture");
    expect((await expectJson<Task>(await moveTask(user, t2.id, { after_id: t1.id }))).version).toBe(2);
    expect((await expectJson<Task>(await moveTask(user, t2.id, { before_id: t3.id }))).version).toBe(3);
    expect((await expectJson<Task>(await moveTask(user, t1.id))).version).toBe(2);
    expect(await titles(user, list.id)).toEqual(["1", "2", "3"]);
  });

  it("into another list: its subtasks follow, id and versions go on, placed first or after after_id there", async () => {
    const user = newUser();
    const inbox = await inboxOf(user);
    const [p, other] = await createMany(user, [{ title: "P" }, { title: "other" }]);
    if (p === undefined || other === undefined) throw new Error("fixture");
    const [p1, p2] = await createMany(user, [
      { title: "p1", parent_id: p.id },
      { title: "p2", parent_id: p.id },
    ]);
    const target = await createList(user, { name: "target" });
    const [x, y] = await createMany(user, [
      { title: "X", list_id: target.id },
      { title: "Y", list_id: target.id },
    ]);
    if (x === undefined || y === undefined || p1 === undefined || p2 === undefined) throw new Error("fixture");
    const moved = await expectJson<Task>(await moveTask(user, p.id, { list_id: target.id, after_id: x.id }));
    expect(moved).toMatchObject({ id: p.id, list_id: target.id, parent_id: null, version: 2, created_at: p.created_at });
    expect(await titles(user, target.id)).toEqual(["X", "P", "Y", "P > p1", "P > p2"]);
    expect(await titles(user, inbox.id)).toEqual(["other"]);
    for (const sub of [p1, p2]) {
      expect(await expectJson<Task>(await call(taskPath(user, sub.id)))).toMatchObject({
        list_id: target.id,
        parent_id: p.id,
        version: 2,
        position: sub.position,
      });
    }
    // No anchor: first in the new list.
    await expectJson(await moveTask(user, other.id, { list_id: target.id }));
    expect(await titles(user, target.id)).toEqual(["other", "X", "P", "Y", "P > p1", "P > p2"]);
  });

  it("keeps the recurrence series: completing a moved recurring task makes the next occurrence in its new list, right after it", async () => {
    const user = newUser();
    const recurring = await createTask(user, {
      title: "daily",
      due_date: "2027-03-01T09:00:00Z",
      recurrence: { rule: "FREQ=DAILY", time_zone: "UTC" },
    });
    const list = await createList(user, { name: "routines" });
    const [x, y] = await createMany(user, [
      { title: "X", list_id: list.id },
      { title: "Y", list_id: list.id },
    ]);
    if (x === undefined || y === undefined) throw new Error("fixture");
    const moved = await expectJson<Task>(await moveTask(user, recurring.id, { list_id: list.id, after_id: x.id }));
    expect(moved).toMatchObject({ id: recurring.id, series_id: recurring.series_id, recurrence: recurring.recurrence, version: 2 });
    const done = await expectJson<Task>(
      await call(`${taskPath(user, recurring.id)}/complete`, { method: "PATCH", body: { completed: true } }),
    );
    expect(done).toMatchObject({ completed: true, version: 3, list_id: list.id });
    const tasks = await inOrder(user, list.id);
    expect(tasks.map((task) => task.title)).toEqual(["X", "daily", "daily", "Y"]);
    const next = tasks[2];
    expect(next).toMatchObject({
      id: done.next_id,
      series_id: recurring.series_id,
      due_date: "2027-03-02T09:00:00.000Z",
      list_id: list.id,
    });
  });

  it("a recurring subtask's next occurrence is a subtask of the same parent, right after it", async () => {
    const user = newUser();
    const parent = await createTask(user, { title: "P" });
    const recurring = await createTask(user, {
      title: "weekly",
      parent_id: parent.id,
      due_date: "2027-03-01T09:00:00Z",
      recurrence: { rule: "FREQ=WEEKLY", time_zone: "UTC" },
    });
    await createTask(user, { title: "after", parent_id: parent.id });
    const done = await expectJson<Task>(await call(`${taskPath(user, recurring.id)}/complete`, { method: "PATCH" }));
    const next = await expectJson<Task>(await call(taskPath(user, done.next_id ?? 0)));
    expect(next).toMatchObject({ parent_id: parent.id, list_id: parent.list_id, series_id: recurring.series_id });
    expect(await titles(user, parent.list_id)).toEqual(["P", "P > weekly", "P > weekly", "P > after"]);
  });

  it("makes a subtask (first among its new siblings, or at an anchor) and a top-level task again", async () => {
    const user = newUser();
    const { list, a, b, a1, a2 } = await fixture(user);
    const sub = await expectJson<Task>(await moveTask(user, b.id, { parent_id: a.id }));
    expect(sub).toMatchObject({ id: b.id, parent_id: a.id, list_id: list.id });
    expect(await titles(user, list.id)).toEqual(["A", "C", "D", "A > B", "A > a1", "A > a2", "C > c1"]);
    await expectJson(await moveTask(user, b.id, { parent_id: a.id, after_id: a2.id }));
    expect(await titles(user, list.id)).toEqual(["A", "C", "D", "A > a1", "A > a2", "A > B", "C > c1"]);
    const top = await expectJson<Task>(await moveTask(user, b.id, { parent_id: null, after_id: a.id }));
    expect(top.parent_id).toBeNull();
    expect(await titles(user, list.id)).toEqual(["A", "B", "C", "D", "A > a1", "A > a2", "C > c1"]);
    // A subtask moved without parent_id goes to the top level.
    await expectJson(await moveTask(user, a1.id, { before_id: a.id }));
    expect(await titles(user, list.id)).toEqual(["a1", "A", "B", "C", "D", "A > a2", "C > c1"]);
  });

  it("one level deep: under a subtask, under itself, or a task with subtasks under another: 422 naming parent_id, nothing moves", async () => {
    const user = newUser();
    const { list, a, c, d, a1 } = await fixture(user);
    const elsewhere = await createTask(user, { title: "elsewhere" });
    const before = await inOrder(user, list.id);
    await expectProblem(await moveTask(user, d.id, { parent_id: a1.id }), "validation_failed", "parent_id");
    await expectProblem(await moveTask(user, a.id, { parent_id: a.id }), "validation_failed", "parent_id");
    await expectProblem(await moveTask(user, c.id, { parent_id: a.id }), "validation_failed", "parent_id");
    // A parent in another list than the one the task goes to.
    await expectProblem(await moveTask(user, d.id, { parent_id: elsewhere.id }), "validation_failed", "parent_id");
    await expectProblem(await moveTask(user, d.id, { parent_id: 999_999_999 }), "validation_failed", "parent_id");
    // The same rules on create and PATCH.
    await expectProblem(
      await call(tasksPath(user), { method: "POST", body: { title: "x", parent_id: a1.id } }),
      "validation_failed",
      "parent_id",
    );
    await expectProblem(
      await call(tasksPath(user), { method: "POST", body: { title: "x", parent_id: a.id, list_id: elsewhere.list_id } }),
      "validation_failed",
      "parent_id",
    );
    await expectProblem(await call(taskPath(user, c.id), { method: "PATCH", body: { parent_id: a.id } }), "validation_failed", "parent_id");
    expect(await inOrder(user, list.id)).toEqual(before);
    // A subtask created with only its parent goes to the parent's list, last among its siblings.
    const created = await createTask(user, { title: "a3", parent_id: a.id });
    expect(created).toMatchObject({ list_id: list.id, parent_id: a.id });
    expect((await titles(user, list.id)).slice(4, 7)).toEqual(["A > a1", "A > a2", "A > a3"]);
  });

  it("an anchor that is not one of the new siblings is a 422 naming it, and nothing moves", async () => {
    const user = newUser();
    const { list, a, b, d, a1, c1 } = await fixture(user);
    const elsewhere = await createTask(user, { title: "elsewhere" });
    const trashed = await createTask(user, { title: "trashed", list_id: list.id });
    await deleteTask(user, trashed.id);
    const stranger = await createTask(newUser(), { title: "a stranger's" });
    const before = await inOrder(user, list.id);
    await expectProblem(await moveTask(user, d.id, { after_id: a1.id }), "validation_failed", "after_id");
    await expectProblem(await moveTask(user, a1.id, { parent_id: a.id, before_id: b.id }), "validation_failed", "before_id");
    await expectProblem(await moveTask(user, a1.id, { parent_id: a.id, after_id: c1.id }), "validation_failed", "after_id");
    await expectProblem(await moveTask(user, d.id, { after_id: elsewhere.id }), "validation_failed", "after_id");
    await expectProblem(await moveTask(user, d.id, { after_id: d.id }), "validation_failed", "after_id");
    await expectProblem(await moveTask(user, d.id, { before_id: trashed.id }), "validation_failed", "before_id");
    await expectProblem(await moveTask(user, d.id, { before_id: stranger.id }), "validation_failed", "before_id");
    await expectProblem(await moveTask(user, d.id, { after_id: a.id, before_id: b.id }), "validation_failed", "before_id");
    await expectProblem(await moveTask(user, d.id, { position: "a0" }), "validation_failed", "position");
    expect(await inOrder(user, list.id)).toEqual(before);
  });

  it("honours If-Match (412 when stale) and is a 404 for a task in the trash, missing or another user's", async () => {
    const user = newUser();
    const [t1, t2] = await createMany(user, [{ title: "1" }, { title: "2" }]);
    if (t1 === undefined || t2 === undefined) throw new Error("fixture");
    await expectProblem(await moveTask(user, t2.id, {}, { "If-Match": '"7"' }), "precondition_failed");
    expect((await expectJson<Task>(await moveTask(user, t2.id, {}, { "If-Match": '"1"' }))).version).toBe(2);
    await deleteTask(user, t1.id);
    await expectProblem(await moveTask(user, t1.id), "task_not_found");
    await expectProblem(await moveTask(user, 999_999_999), "task_not_found");
    await expectProblem(await moveTask(newUser(), t2.id), "task_not_found");
  });
});

describe("PATCH and PUT with list_id or parent_id", () => {
  it("another list_id moves the task to the end of that list (a subtask to its top level), its subtasks with it", async () => {
    const user = newUser();
    const { list, a, c1 } = await fixture(user);
    const target = await createList(user, { name: "target" });
    await createTask(user, { title: "X", list_id: target.id });
    const moved = await expectJson<Task>(
      await call(taskPath(user, a.id), { method: "PATCH", body: { list_id: target.id, priority: "high" } }),
    );
    expect(moved).toMatchObject({ id: a.id, list_id: target.id, parent_id: null, priority: "high", version: 2 });
    expect(await titles(user, target.id)).toEqual(["X", "A", "A > a1", "A > a2"]);
    await expectJson(await call(taskPath(user, c1.id), { method: "PATCH", body: { list_id: target.id } }));
    expect(await titles(user, target.id)).toEqual(["X", "A", "c1", "A > a1", "A > a2"]);
    expect(await titles(user, list.id)).toEqual(["B", "C", "D"]);
  });

  it("another parent_id makes it the last subtask there; parent_id null makes it the last top-level task", async () => {
    const user = newUser();
    const { list, a, d, a1 } = await fixture(user);
    await expectJson(await call(taskPath(user, d.id), { method: "PATCH", body: { parent_id: a.id } }));
    expect(await titles(user, list.id)).toEqual(["A", "B", "C", "A > a1", "A > a2", "A > D", "C > c1"]);
    await expectJson(await call(taskPath(user, a1.id), { method: "PUT", body: { parent_id: null } }));
    expect(await titles(user, list.id)).toEqual(["A", "B", "C", "a1", "A > a2", "A > D", "C > c1"]);
  });

  it("the same list_id and parent_id, or a whole task read back (position included, even altered), move nothing", async () => {
    const user = newUser();
    const { list, a, b, a2 } = await fixture(user);
    const before = await inOrder(user, list.id);
    const same = await expectJson<Task>(await call(taskPath(user, b.id), { method: "PATCH", body: { list_id: list.id, parent_id: null } }));
    expect(same).toMatchObject({ position: b.position, version: 2 });
    const readBack = await expectJson<Task>(await call(taskPath(user, a2.id)));
    const put = await expectJson<Task>(
      await call(taskPath(user, a2.id), { method: "PUT", body: { ...readBack, title: "a2 renamed", position: "0" } }),
    );
    expect(put).toMatchObject({ title: "a2 renamed", list_id: list.id, parent_id: a.id, position: a2.position });
    const after = await inOrder(user, list.id);
    expect(after.map((task) => [task.id, task.position])).toEqual(before.map((task) => [task.id, task.position]));
  });
});

describe("renumbering", () => {
  it("300 moves into the same gap grow the keys past 40 characters, which renumbers the group: the order stays right, keys short", async () => {
    const user = newUser();
    const list = await createList(user, { name: "gap" });
    const [a, x, y, b] = await createMany(
      user,
      ["A", "X", "Y", "B"].map((title) => ({ title, list_id: list.id })),
    );
    if (a === undefined || x === undefined || y === undefined || b === undefined) throw new Error("fixture");
    // X and Y in turn right after A: each key between A's and the other's, a little longer each time.
    const positions: string[] = [];
    for (let start = 0; start < 300; start += 100) {
      const operations = Array.from({ length: 100 }, (_, i) => ({ op: "move", id: (start + i) % 2 === 0 ? x.id : y.id, after_id: a.id }));
      const response = await call(`${tasksPath(user)}/batch`, { method: "POST", body: { operations } });
      positions.push(...(await expectJson<{ results: Array<{ task: Task }> }>(response)).results.map((result) => result.task.position));
    }
    // The longest key ever answered: short again after each renumbering, never past 40.
    expect(Math.max(...positions.map((key) => key.length))).toBeLessThanOrEqual(40);
    const tasks = await inOrder(user, list.id);
    expect(tasks.map((task) => task.title)).toEqual(["A", "Y", "X", "B"]);
    for (let i = 1; i < tasks.length; i++) expect(keyBefore(tasks[i - 1]?.position ?? "", tasks[i]?.position ?? "")).toBe(true);
    // A and B never moved: only a renumbering changed them.
    expect(tasks[0]?.version).toBeGreaterThan(1);
    expect(tasks[3]?.version).toBeGreaterThan(1);
    // A move after the renumbering still lands where it is asked to.
    await expectJson(await moveTask(user, b.id, { after_id: a.id }));
    expect(await titles(user, list.id)).toEqual(["A", "B", "Y", "X"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Concurrent moves in one list

/**
 * What is wrong with a list as read (in the order GET answered it) if its tasks should be exactly
 * `expected`: a task missing or listed twice, two tasks with one position, or an order that does
 * not follow the positions (then they are not a total order).
 */
function orderViolations(tasks: Task[], expected: number[]): string[] {
  const violations: string[] = [];
  const ids = tasks.map((task) => task.id);
  const missing = expected.filter((id) => !ids.includes(id));
  if (missing.length > 0) violations.push(`missing tasks ${missing.join(", ")}`);
  if (new Set(ids).size !== ids.length || ids.length !== expected.length)
    violations.push(`tasks listed ${ids.length} times for ${expected.length}`);
  const positions = tasks.map((task) => task.position);
  const repeated = positions.filter((position, index) => positions.indexOf(position) !== index);
  if (repeated.length > 0) violations.push(`two tasks at position ${repeated.join(", ")}`);
  for (let i = 1; i < tasks.length; i++) {
    if (!keyBefore(tasks[i - 1]?.position ?? "", tasks[i]?.position ?? "")) {
      violations.push(`out of order at ${i}: ${tasks[i - 1]?.position} then ${tasks[i]?.position}`);
    }
  }
  return violations;
}

const TASKS = 16;
const CLIENTS = 8;
const MOVES_PER_CLIENT = 25;

interface Outcome {
  /** What the final read shows wrong (orderViolations). */
  final: string[];
  /** What the reads while moves ran showed wrong. */
  during: string[];
  /** Rows of the list in the database with one key (sibling groups with a duplicate key). */
  duplicateKeys: number;
  statuses: Record<number, number>;
}

/**
 * CLIENTS clients make MOVES_PER_CLIENT moves each (first, after or before another task of the
 * list, picked at random) in one list of TASKS tasks, while a reader lists it all along.
 */
async function moveConcurrently(base: string, seed: number, countKeys: (listId: number) => Promise<number>): Promise<Outcome> {
  const user = newUser();
  const token = await tokenFor(user);
  const next = random(seed);
  // Plain fetch: thousands of answers whose shape other tests check; a 503 (a connection that did
  // not open in time on a busy machine) changed nothing and is sent again.
  const send = (path: string, init: { method?: string; body?: unknown } = {}) =>
    untilAvailable(() =>
      httpFetch(`${base}/api/${user}${path}`, {
        method: init.method ?? "GET",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      }),
    );
  const created = await send("/lists", { method: "POST", body: { name: "contended" } });
  const list = (await created.json()) as { id: number };
  const batch = await send("/tasks/batch", {
    method: "POST",
    body: { operations: Array.from({ length: TASKS }, (_, i) => ({ op: "create", task: { title: `t${i}`, list_id: list.id } })) },
  });
  if (batch.status !== 200) throw new Error(`seeding: ${batch.status} ${await batch.text()}`);
  const ids = ((await batch.json()) as { results: Array<{ task: Task }> }).results.map((result) => result.task.id);
  const pick = () => ids[Math.floor(next() * ids.length)] ?? 0;
  const read = async () => (await (await send(`/tasks?list_id=${list.id}&sort=position&limit=1000`)).json()) as Task[];

  const statuses: Record<number, number> = {};
  const client = async () => {
    for (let i = 0; i < MOVES_PER_CLIENT; i++) {
      const id = pick();
      let anchor = pick();
      while (anchor === id) anchor = pick();
      const roll = next();
      const body = roll < 0.2 ? {} : roll < 0.6 ? { after_id: anchor } : { before_id: anchor };
      const response = await send(`/tasks/${id}/move`, { method: "POST", body });
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      await response.arrayBuffer();
    }
  };
  let moving = true;
  const clients = Promise.all(Array.from({ length: CLIENTS }, client)).finally(() => {
    moving = false;
  });
  const during: string[] = [];
  while (moving) during.push(...orderViolations(await read(), ids));
  await clients;
  return { final: orderViolations(await read(), ids), during, duplicateKeys: await countKeys(list.id), statuses };
}

/** Rows of the list's active tasks that share their sibling group's key with another. */
const duplicateKeysQuery = `
  SELECT count(*)::int AS n FROM (
    SELECT count(*) AS c FROM tasks WHERE list_id = $1 AND deleted_at IS NULL
    GROUP BY COALESCE(parent_id, 0), sort_key HAVING count(*) > 1) d`;

// 2 seeded runs on the Hyperdrive project, 1 on the neon project (the same statements, another driver).
const RUNS = inject("transport") === "hyperdrive" ? 2 : 1;

describe("concurrent moves in one list", () => {
  let db: pg.Client;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: inject("databaseUrl") });
    await db.connect();
  });
  afterAll(() => db?.end());

  it(`${CLIENTS} clients × ${MOVES_PER_CLIENT} moves among ${TASKS} tasks, a reader all along: every task once, no two at one position, a total order, ${RUNS} runs`, {
    timeout: 600_000,
  }, async () => {
    const countKeys = async (listId: number) => (await db.query<{ n: number }>(duplicateKeysQuery, [listId])).rows[0]?.n ?? -1;
    for (let run = 1; run <= RUNS; run++) {
      const outcome = await moveConcurrently(inject("workerUrl"), 20261205 + run, countKeys);
      expect({ run, final: outcome.final, during: outcome.during, duplicateKeys: outcome.duplicateKeys }).toEqual({
        run,
        final: [],
        during: [],
        duplicateKeys: 0,
      });
      // Every move applied: all anchors are siblings, none is the task itself.
      expect(outcome.statuses).toEqual({ 200: CLIENTS * MOVES_PER_CLIENT });
    }
  });
});

describe("the naive design, for contrast: read the neighbours' positions, then write a number, without the user's lock", () => {
  let database: ScratchDatabase;
  let worker: RunningWorker;
  beforeAll(async () => {
    database = await scratchDatabase();
    // What stands between concurrent moves and a duplicate position is the user's lock, held from
    // reading the neighbours' keys to writing the new one (task_lock_user, task_key_at in
    // src/db/functions.sql), and the unique index tasks_list_order behind it. The naive design has
    // neither: positions are integers (written zero-padded, so that byte order is numeric order),
    // a move reads its new neighbours' and takes the number halfway between them (2^32 past the
    // last or before the first: no two sequential moves ever collide), with the statement's other
    // work between the read and the write (a sleep of 5 to 25 ms stands in for it), and no lock.
    // The change feed's positions come from a sequence (as in sync.test.ts's naive design), so that
    // concurrent writes do not collide there first.
    await database.admin.query(`
      DROP INDEX tasks_list_order;
      CREATE SEQUENCE naive_positions;
      ${NO_USER_LOCK}
      CREATE OR REPLACE FUNCTION task_next_position(p_user text, p_last bigint) RETURNS bigint LANGUAGE sql AS $$
        SELECT nextval('naive_positions')
      $$;
      CREATE OR REPLACE FUNCTION task_key_at(p_list bigint, p_parent bigint, p_self bigint, p_after bigint, p_before bigint, p_first boolean)
      RETURNS text LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_low bigint;
        v_high bigint;
        v_gap constant bigint := 4294967296;
      BEGIN
        IF p_after IS NOT NULL THEN
          SELECT t.sort_key::bigint INTO v_low FROM tasks t WHERE t.id = p_after AND t.id <> p_self AND t.list_id = p_list
            AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0) AND t.deleted_at IS NULL;
          IF NOT FOUND THEN RETURN NULL; END IF;
          SELECT min(t.sort_key::bigint) INTO v_high FROM tasks t WHERE t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0)
            AND t.deleted_at IS NULL AND t.id <> p_self AND t.sort_key::bigint > v_low;
        ELSIF p_before IS NOT NULL THEN
          SELECT t.sort_key::bigint INTO v_high FROM tasks t WHERE t.id = p_before AND t.id <> p_self AND t.list_id = p_list
            AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0) AND t.deleted_at IS NULL;
          IF NOT FOUND THEN RETURN NULL; END IF;
          SELECT max(t.sort_key::bigint) INTO v_low FROM tasks t WHERE t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0)
            AND t.deleted_at IS NULL AND t.id <> p_self AND t.sort_key::bigint < v_high;
        ELSIF p_first THEN
          SELECT min(t.sort_key::bigint) INTO v_high FROM tasks t WHERE t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0)
            AND t.deleted_at IS NULL AND t.id <> p_self;
        ELSE
          SELECT max(t.sort_key::bigint) INTO v_low FROM tasks t WHERE t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0)
            AND t.deleted_at IS NULL AND t.id <> p_self;
        END IF;
        PERFORM pg_sleep(0.005 + random() * 0.02);
        RETURN lpad((CASE
          WHEN v_low IS NULL AND v_high IS NULL THEN 2305843009213693952
          WHEN v_low IS NULL THEN v_high - v_gap
          WHEN v_high IS NULL THEN v_low + v_gap
          ELSE (v_low + v_high) / 2 END)::text, 19, '0');
      END $$;`);
    worker = await startTestWorker({ database: database.url, bindings: { BETTER_AUTH_SECRET: TEST_SECRET } });
  });
  afterAll(async () => {
    await worker?.stop();
    await database?.drop();
  });

  it("is caught: within a few runs two tasks share a position (or a task is lost)", { timeout: 600_000 }, async () => {
    const countKeys = async (listId: number) => (await database.admin.query<{ n: number }>(duplicateKeysQuery, [listId])).rows[0]?.n ?? -1;
    let caught: Outcome | undefined;
    let runs = 0;
    while (runs < 5 && caught === undefined) {
      runs++;
      const outcome = await moveConcurrently(worker.url, 7 + runs, countKeys);
      if (outcome.final.length + outcome.during.length + outcome.duplicateKeys > 0) caught = outcome;
    }
    expect(caught, "the naive design never broke the order in 5 runs").toBeDefined();
  });
});

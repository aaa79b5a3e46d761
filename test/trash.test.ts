// The trash (docs/api.md "Trash"): a deleted task or list stays 30 days, listed newest first by
// GET /trash (only what was deleted on its own) and restorable with everything that went with it,
// in its place when it can be (its list, its parent, its key), else where it can be (the Inbox,
// the top level, last); nothing else answers for it meanwhile. After the 30 days the hourly purge
// removes it for good, and a changes cursor from before it is a 410.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, createTask, expectProblem, newUser, type Task } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { suiteDatabase } from "./support/database.ts";
import {
  createList,
  deleteList,
  deleteTask,
  expectJson,
  inboxOf,
  inOrder,
  moveTask,
  restoreTask,
  type TrashEntry,
  titles,
  trashPages,
} from "./support/lists.ts";
import { startTestWorker } from "./support/transport.ts";

const db = suiteDatabase();

const taskPath = (user: string, id: number) => `/api/${user}/tasks/${id}`;
const DAY_MS = 24 * 60 * 60 * 1000;

async function trash(user: string): Promise<TrashEntry[]> {
  return expectJson<TrashEntry[]>(await call(`/api/${user}/trash`));
}

/** Each entry as [type, id], for comparing orders. */
const entryIds = (entries: TrashEntry[]) => entries.map((entry) => [entry.type, entry.task?.id ?? entry.list?.id]);

describe("deleting into the trash", () => {
  it("GET /trash lists what was deleted, newest first, with purge_at 30 days after deleted_at; subtasks that went with their parent are not listed apart", async () => {
    const user = newUser();
    const first = await createTask(user, { title: "first" });
    const parent = await createTask(user, { title: "parent" });
    const child = await createTask(user, { title: "child", parent_id: parent.id });
    const alone = await createTask(user, { title: "subtask deleted alone", parent_id: parent.id });
    const list = await createList(user, { name: "a list" });
    await deleteTask(user, first.id);
    await deleteTask(user, alone.id);
    await deleteTask(user, parent.id);
    await deleteList(user, list.id);
    const entries = await trash(user);
    expect(entryIds(entries)).toEqual([
      ["list", list.id],
      ["task", parent.id],
      ["task", alone.id],
      ["task", first.id],
    ]);
    for (const entry of entries) {
      expect(Object.keys(entry)).toEqual(["type", "deleted_at", "purge_at", entry.type]);
      expect(Date.parse(entry.purge_at) - Date.parse(entry.deleted_at)).toBe(30 * DAY_MS);
    }
    expect(entries[1]?.task).toMatchObject({ id: parent.id, title: "parent", version: 2 });
    expect(entries.some((entry) => entry.task?.id === child.id)).toBe(false);
  });

  it("a task in the trash is a 404 for GET, PUT, PATCH, complete, move, delete and occurrences, and GET /tasks leaves it out", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "trashed" });
    const kept = await createTask(user, { title: "kept" });
    await deleteTask(user, task.id);
    const path = taskPath(user, task.id);
    await expectProblem(await call(path), "task_not_found");
    await expectProblem(await call(path, { method: "PUT", body: { title: "x" } }), "task_not_found");
    await expectProblem(await call(path, { method: "PATCH", body: { title: "x" } }), "task_not_found");
    await expectProblem(await call(`${path}/complete`, { method: "PATCH" }), "task_not_found");
    await expectProblem(await moveTask(user, task.id), "task_not_found");
    await expectProblem(await call(path, { method: "DELETE" }), "task_not_found");
    await expectProblem(await call(`${path}/occurrences`), "task_not_found");
    expect((await expectJson<Task[]>(await call(`/api/${user}/tasks`))).map((t) => t.id)).toEqual([kept.id]);
    expect((await inOrder(user, kept.list_id)).map((t) => t.id)).toEqual([kept.id]);
    // Still the one in the trash, unchanged by those attempts.
    expect((await trash(user))[0]?.task).toMatchObject({ id: task.id, title: "trashed", version: 2 });
  });
});

describe("restoring a task", () => {
  it("brings back its id, its subtasks and its position among its siblings", async () => {
    const user = newUser();
    const [a, b] = [await createTask(user, { title: "a" }), await createTask(user, { title: "b" }), await createTask(user, { title: "c" })];
    await createTask(user, { title: "b1", parent_id: b.id });
    await createTask(user, { title: "b2", parent_id: b.id });
    const before = await inOrder(user, a.list_id);
    await deleteTask(user, b.id);
    expect(await titles(user, a.list_id)).toEqual(["a", "c"]);
    const response = await restoreTask(user, b.id);
    const restored = await expectJson<Task>(response);
    expect(restored).toMatchObject({ id: b.id, title: "b", list_id: b.list_id, parent_id: null, position: b.position, version: 3 });
    expect(response.headers.get("ETag")).toBe('"3"');
    const after = await inOrder(user, a.list_id);
    expect(after.map((task) => [task.id, task.parent_id, task.position])).toEqual(
      before.map((task) => [task.id, task.parent_id, task.position]),
    );
    expect(await titles(user, a.list_id)).toEqual(["a", "b", "c", "b > b1", "b > b2"]);
    expect(await trash(user)).toEqual([]);
  });

  it("a subtask deleted on its own comes back under its parent, in its place", async () => {
    const user = newUser();
    const parent = await createTask(user, { title: "P" });
    const s1 = await createTask(user, { title: "s1", parent_id: parent.id });
    await createTask(user, { title: "s2", parent_id: parent.id });
    await deleteTask(user, s1.id);
    expect(await titles(user, parent.list_id)).toEqual(["P", "P > s2"]);
    const restored = await expectJson<Task>(await restoreTask(user, s1.id));
    expect(restored).toMatchObject({ parent_id: parent.id, position: s1.position });
    expect(await titles(user, parent.list_id)).toEqual(["P", "P > s1", "P > s2"]);
  });

  it("to the Inbox, last, when its list is in the trash too", async () => {
    const user = newUser();
    const inbox = await inboxOf(user);
    await createTask(user, { title: "in the Inbox" });
    const list = await createList(user, { name: "gone" });
    const task = await createTask(user, { title: "deleted first", list_id: list.id });
    const sub = await createTask(user, { title: "its subtask", parent_id: task.id });
    await deleteTask(user, task.id);
    await deleteList(user, list.id);
    const restored = await expectJson<Task>(await restoreTask(user, task.id));
    expect(restored).toMatchObject({ id: task.id, list_id: inbox.id, parent_id: null });
    expect(await titles(user, inbox.id)).toEqual(["in the Inbox", "deleted first", "deleted first > its subtask"]);
    expect(await expectJson<Task>(await call(taskPath(user, sub.id)))).toMatchObject({ list_id: inbox.id, parent_id: task.id });
    // The list stays in the trash.
    expect(entryIds(await trash(user))).toEqual([["list", list.id]]);
  });

  it("with the subtasks that went with it in its list's deletion: restored alone from a deleted list, then the list restored, nothing is split", async () => {
    const user = newUser();
    const inbox = await inboxOf(user);
    const list = await createList(user, { name: "gone" });
    const task = await createTask(user, { title: "T", list_id: list.id });
    const sub = await createTask(user, { title: "S", parent_id: task.id });
    const other = await createTask(user, { title: "U", list_id: list.id });
    await deleteList(user, list.id);
    // The task alone, while its list stays in the trash: to the Inbox, its subtask with it.
    expect(await expectJson<Task>(await restoreTask(user, task.id))).toMatchObject({ list_id: inbox.id, parent_id: null });
    expect(await titles(user, inbox.id)).toEqual(["T", "T > S"]);
    // Then the list: what is left in it comes back; the subtask stays with its parent.
    expect(await expectJson(await call(`/api/${user}/lists/${list.id}/restore`, { method: "POST" }))).toMatchObject({ id: list.id });
    expect(await titles(user, list.id)).toEqual(["U"]);
    expect(await expectJson<Task>(await call(taskPath(user, sub.id)))).toMatchObject({ list_id: inbox.id, parent_id: task.id });
    expect(await expectJson<Task>(await call(taskPath(user, other.id)))).toMatchObject({ list_id: list.id, parent_id: null });
  });

  it("a subtask deleted on its own comes back under its parent in the parent's list, when the parent moved to another list meanwhile", async () => {
    const user = newUser();
    const inbox = await inboxOf(user);
    const list = await createList(user, { name: "elsewhere" });
    const parent = await createTask(user, { title: "P" });
    const sub = await createTask(user, { title: "s", parent_id: parent.id });
    await deleteTask(user, sub.id);
    await expectJson(await moveTask(user, parent.id, { list_id: list.id }));
    expect(await expectJson<Task>(await restoreTask(user, sub.id))).toMatchObject({ list_id: list.id, parent_id: parent.id });
    expect(await titles(user, list.id)).toEqual(["P", "P > s"]);
    expect(await titles(user, inbox.id)).toEqual([]);
  });

  it("takes no fields: a body with one is a 422, and nothing is restored", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "t" });
    await deleteTask(user, task.id);
    const response = await call(`/api/${user}/tasks/${task.id}/restore`, { method: "POST", body: { list_id: 1 } });
    expect((await expectProblem(response, "validation_failed")).errors?.[0]?.path).toBe("list_id");
    expect(entryIds(await trash(user))).toEqual([["task", task.id]]);
    expect((await call(`/api/${user}/tasks/${task.id}/restore`, { method: "POST", body: {} })).status).toBe(200);
  });

  it("to the top level, last, when its parent is gone", async () => {
    const user = newUser();
    const parent = await createTask(user, { title: "parent" });
    await createTask(user, { title: "other" });
    const sub = await createTask(user, { title: "sub", parent_id: parent.id });
    await deleteTask(user, sub.id);
    await deleteTask(user, parent.id);
    const restored = await expectJson<Task>(await restoreTask(user, sub.id));
    expect(restored).toMatchObject({ id: sub.id, parent_id: null, list_id: parent.list_id });
    expect(await titles(user, parent.list_id)).toEqual(["other", "sub"]);
  });

  it("last among its siblings when another task took its key meanwhile", async () => {
    const user = newUser();
    const [a, b, c] = [
      await createTask(user, { title: "a" }),
      await createTask(user, { title: "b" }),
      await createTask(user, { title: "c" }),
    ];
    await deleteTask(user, b.id);
    // Right after a, with b gone: c takes the key b had.
    const moved = await expectJson<Task>(await moveTask(user, c.id, { after_id: a.id }));
    expect(moved.position).toBe(b.position);
    const restored = await expectJson<Task>(await restoreTask(user, b.id));
    expect(restored.position).not.toBe(b.position);
    expect(await titles(user, a.list_id)).toEqual(["a", "c", "b"]);
  });

  it("is a 404 task_not_found for a task that is not in the trash, never was, or is another user's", async () => {
    const user = newUser();
    const active = await createTask(user, { title: "active" });
    await expectProblem(await restoreTask(user, active.id), "task_not_found");
    await expectProblem(await restoreTask(user, 999_999_999), "task_not_found");
    const owner = newUser();
    const theirs = await createTask(owner, { title: "theirs" });
    await deleteTask(owner, theirs.id);
    await expectProblem(await restoreTask(user, theirs.id), "task_not_found");
    expect(entryIds(await trash(owner))).toEqual([["task", theirs.id]]);
  });
});

describe("GET /trash paging", () => {
  it("keyset pages of every size walk every entry exactly once, newest first (ties by type, then id)", async () => {
    const user = newUser();
    const tasks: Task[] = [];
    for (const title of ["1", "2", "3", "4", "5"]) tasks.push(await createTask(user, { title }));
    const lists = [await createList(user, { name: "l1" }), await createList(user, { name: "l2" })];
    // One batch: three deletions at one instant (ties), then one at a time.
    const [t1, t2, t3, , t5] = tasks;
    const [l1, l2] = lists;
    if (t1 === undefined || t2 === undefined || t3 === undefined || t5 === undefined) throw new Error("fixture");
    if (l1 === undefined || l2 === undefined) throw new Error("fixture");
    const batch = await call(`/api/${user}/tasks/batch`, {
      method: "POST",
      body: {
        operations: [
          { op: "delete", id: t1.id },
          { op: "list_delete", id: l1.id },
          { op: "delete", id: t3.id },
        ],
      },
    });
    expect(batch.status).toBe(200);
    await deleteTask(user, t2.id);
    await deleteList(user, l2.id);
    await deleteTask(user, t5.id);
    const all = (await trashPages(user, 100)).flat();
    expect(all).toHaveLength(6);
    const times = all.map((entry) => Date.parse(entry.deleted_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    // The three of the batch share their deleted_at: tasks before lists, higher ids first.
    expect(entryIds(all).slice(3)).toEqual([
      ["task", t3.id],
      ["task", t1.id],
      ["list", l1.id],
    ]);
    for (let limit = 1; limit <= all.length; limit++) {
      const pages = await trashPages(user, limit);
      expect(pages.every((page) => page.length <= limit)).toBe(true);
      expect(entryIds(pages.flat()), `limit=${limit}`).toEqual(entryIds(all));
    }
  });

  it("answers 422 for a limit out of 1-100, an unknown parameter, or a cursor it did not issue", async () => {
    const user = newUser();
    for (const limit of ["0", "101", "x", ""])
      await expectProblem(await call(`/api/${user}/trash?limit=${limit}`), "validation_failed", "limit");
    await expectProblem(await call(`/api/${user}/trash?cursor=nope!`), "validation_failed", "cursor");
    await expectProblem(await call(`/api/${user}/trash?since=1`), "validation_failed", "since");
    const forged = Buffer.from(JSON.stringify(["trash", "not a time", "task", 1])).toString("base64url");
    await expectProblem(await call(`/api/${user}/trash?cursor=${forged}`), "validation_failed", "cursor");
  });
});

describe("after 30 days: purged for good", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET } });
  });
  afterAll(() => worker?.stop());

  /** Sets the deletion time of the user's trash `days` ago, as the clock would have. */
  const deletedDaysAgo = async (user: string, days: number) => {
    const at = new Date(Date.now() - days * DAY_MS).toISOString();
    for (const table of ["tasks", "lists"]) {
      await db.query(`UPDATE ${table} SET deleted_at = $2 WHERE user_id = $1 AND deleted_at IS NOT NULL`, [user, at]);
    }
  };
  const cron = "0 * * * *";

  it("29 days in: still restorable; 31 days in, after the hourly purge: restore is a 404, /trash is empty, an older cursor is a 410", async () => {
    const user = newUser();
    const base = worker.url;
    const kept = await createTask(user, { title: "kept" });
    const task = await createTask(user, { title: "deleted" });
    await createTask(user, { title: "sub", parent_id: task.id });
    const list = await createList(user, { name: "deleted list" });
    await createTask(user, { title: "in the list", list_id: list.id });
    const { cursor } = await expectJson<{ cursor: string }>(await call(`/api/${user}/changes`, { base }));
    await deleteTask(user, task.id);
    await deleteList(user, list.id);
    await deletedDaysAgo(user, 29);
    expect(await worker.scheduled(cron)).toBe("ok");
    // Deleted at one instant now: tasks before lists.
    expect(entryIds(await trash(user))).toEqual([
      ["task", task.id],
      ["list", list.id],
    ]);
    await deletedDaysAgo(user, 31);
    expect(await worker.scheduled(cron)).toBe("ok");
    expect(await trash(user)).toEqual([]);
    await expectProblem(await call(`/api/${user}/tasks/${task.id}/restore`, { method: "POST", base }), "task_not_found");
    await expectProblem(await call(`/api/${user}/lists/${list.id}/restore`, { method: "POST", base }), "list_not_found");
    await expectProblem(await call(`/api/${user}/changes?since=${cursor}`, { base }), "cursor_expired");
    // Gone from the database: the task, its subtask, the list and its task.
    const { rows } = await db.query<{ id: string }>("SELECT id FROM tasks WHERE user_id = $1 ORDER BY id", [user]);
    expect(rows.map((row) => Number(row.id))).toEqual([kept.id]);
    // A full sync starts over, without them.
    const full = await expectJson<{ changes: Array<{ task?: Task }> }>(await call(`/api/${user}/changes`, { base }));
    expect(full.changes.map((change) => change.task?.id)).toEqual([kept.id]);
  });
});

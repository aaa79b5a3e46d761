// GET /changes with lists (docs/api.md "Changes"): lists travel in `lists`, beside `changes`, in
// the same position space and pages, with their own deletions and restores; what a list's
// deletion does to its tasks is in `changes` (a deletion for each task it took to the trash, an
// upsert for each it moved), so a client written before lists, reading only `changes`, still
// ends with exactly GET /tasks.
import { describe, expect, it } from "vitest";
import { call, createTask, newUser, type Task } from "./support/api.ts";
import { createList, deleteList, deleteTask, expectJson, inboxOf, type List, moveTask, nextPath, restoreTask } from "./support/lists.ts";

interface ChangesPage {
  changes: Array<{ op: "upsert" | "delete"; task?: Task; id?: number }>;
  lists: Array<{ op: "upsert" | "delete"; list?: List; id?: number }>;
  cursor: string;
  has_more: boolean;
}

async function pull(user: string, query: Record<string, string> = {}): Promise<ChangesPage> {
  return expectJson<ChangesPage>(await call(`/api/${user}/changes?${new URLSearchParams(query)}`));
}

/** Every task GET /tasks lists, by id, as JSON text. */
async function listed(user: string): Promise<Map<number, string>> {
  const tasks = new Map<number, string>();
  let path: string | undefined = `/api/${user}/tasks?limit=1000&sort=created_at`;
  while (path !== undefined) {
    const response = await call(path);
    for (const task of await expectJson<Task[]>(response)) tasks.set(task.id, JSON.stringify(task));
    path = nextPath(response);
  }
  return tasks;
}

/** A sync client: `lists` false is one written before lists, which reads only `changes`. */
function syncClient(user: string, options: { lists: boolean; limit: string }) {
  const tasks = new Map<number, string>();
  const lists = new Map<number, string>();
  let cursor: string | undefined;
  return {
    tasks,
    lists,
    /** Pulls until has_more is false. */
    async sync(): Promise<void> {
      for (let pages = 0; ; pages++) {
        if (pages > 1000) throw new Error("the feed never ends");
        const page = await pull(user, { limit: options.limit, ...(cursor === undefined ? {} : { since: cursor }) });
        for (const change of page.changes) {
          if (change.task !== undefined) tasks.set(change.task.id, JSON.stringify(change.task));
          else if (change.id !== undefined) tasks.delete(change.id);
        }
        if (options.lists) {
          for (const change of page.lists) {
            if (change.list !== undefined) lists.set(change.list.id, JSON.stringify(change.list));
            else if (change.id !== undefined) lists.delete(change.id);
          }
        }
        cursor = page.cursor;
        if (!page.has_more) return;
      }
    },
  };
}

describe("lists in GET /changes", () => {
  it("travel in `lists` beside `changes`: created, changed (once, latest), deleted and restored, with their own deletions", async () => {
    const user = newUser();
    const full = await pull(user);
    const inbox = await inboxOf(user);
    expect(full).toEqual({ changes: [], lists: [{ op: "upsert", list: inbox }], members: [], cursor: expect.any(String), has_more: false });
    const list = await createList(user, { name: "first" });
    const created = await pull(user, { since: full.cursor });
    expect(created).toEqual({ changes: [], lists: [{ op: "upsert", list }], members: [], cursor: expect.any(String), has_more: false });
    await expectJson(await call(`/api/${user}/lists/${list.id}`, { method: "PATCH", body: { name: "second" } }));
    const renamed = await expectJson<List>(await call(`/api/${user}/lists/${list.id}`, { method: "PATCH", body: { color: "#00aa00" } }));
    expect((await pull(user, { since: created.cursor })).lists).toEqual([{ op: "upsert", list: renamed }]);
    const brief = await createList(user, { name: "brief" });
    await deleteList(user, brief.id);
    await deleteList(user, list.id);
    const deleted = await pull(user, { since: created.cursor });
    expect(deleted.lists).toEqual([
      { op: "delete", id: brief.id },
      { op: "delete", id: list.id },
    ]);
    const restored = await expectJson<List>(await call(`/api/${user}/lists/${list.id}/restore`, { method: "POST" }));
    expect((await pull(user, { since: deleted.cursor })).lists).toEqual([{ op: "upsert", list: restored }]);
    // The full state: what is there, no deletions.
    expect((await pull(user)).lists).toEqual([
      { op: "upsert", list: inbox },
      { op: "upsert", list: restored },
    ]);
  });

  it("deleting a list puts a deletion into `changes` for each of its tasks; with move_to, an upsert in the new list for each", async () => {
    const user = newUser();
    const inbox = await inboxOf(user);
    const doomed = await createList(user, { name: "doomed" });
    const t1 = await createTask(user, { title: "t1", list_id: doomed.id });
    const t1a = await createTask(user, { title: "t1a", parent_id: t1.id });
    const t2 = await createTask(user, { title: "t2", list_id: doomed.id });
    const emptied = await createList(user, { name: "emptied" });
    const u1 = await createTask(user, { title: "u1", list_id: emptied.id });
    const u1a = await createTask(user, { title: "u1a", parent_id: u1.id });
    const { cursor } = await pull(user);
    await deleteList(user, doomed.id);
    const afterDelete = await pull(user, { since: cursor });
    expect(new Set(afterDelete.changes)).toEqual(new Set([t1, t1a, t2].map((task) => ({ op: "delete", id: task.id }))));
    expect(afterDelete.lists).toEqual([{ op: "delete", id: doomed.id }]);
    await deleteList(user, emptied.id, inbox.id);
    const afterMove = await pull(user, { since: afterDelete.cursor });
    expect(afterMove.changes.map((change) => [change.op, change.task?.id, change.task?.list_id, change.task?.parent_id])).toEqual([
      ["upsert", u1.id, inbox.id, null],
      ["upsert", u1a.id, inbox.id, u1.id],
    ]);
    expect(afterMove.lists).toEqual([{ op: "delete", id: emptied.id }]);
  });

  it("a client reading only `changes` (the old shape) ends with exactly GET /tasks, through moves, list deletions and restores, pages of 3", async () => {
    const user = newUser();
    const old = syncClient(user, { lists: false, limit: "3" });
    const current = syncClient(user, { lists: true, limit: "2" });
    const both = async () => {
      await old.sync();
      await current.sync();
    };
    const inbox = await inboxOf(user);
    const a = await createTask(user, { title: "a" });
    const work = await createList(user, { name: "work" });
    const b = await createTask(user, { title: "b", list_id: work.id });
    await createTask(user, { title: "b1", parent_id: b.id });
    await both();
    // A move across lists (its subtask with it), a move back, a subtask made and deleted with its parent.
    await expectJson(await moveTask(user, b.id, { list_id: inbox.id, after_id: a.id }));
    await both();
    await expectJson(await moveTask(user, a.id, { parent_id: b.id }));
    await deleteTask(user, b.id);
    await both();
    await expectJson(await restoreTask(user, b.id));
    await expectJson(await moveTask(user, b.id, { list_id: work.id }));
    // The list to the trash with its tasks, back, then deleted into the Inbox.
    await deleteList(user, work.id);
    await both();
    await expectJson(await call(`/api/${user}/lists/${work.id}/restore`, { method: "POST" }));
    const home = await createList(user, { name: "home" });
    await createTask(user, { title: "c", list_id: home.id });
    await deleteList(user, home.id);
    await both();
    await deleteList(user, work.id, inbox.id);
    await both();
    const expected = await listed(user);
    expect(expected.size).toBe(3);
    expect(old.tasks).toEqual(expected);
    expect(current.tasks).toEqual(expected);
    const lists = await expectJson<List[]>(await call(`/api/${user}/lists`));
    expect(current.lists).toEqual(new Map(lists.map((list) => [list.id, JSON.stringify(list)])));
    expect(old.lists.size).toBe(0);
  });

  it("pages count lists and tasks together: a page may hold only lists, and has_more says so to a client of the old shape", async () => {
    const user = newUser();
    for (const name of ["l1", "l2", "l3"]) await createList(user, { name });
    const task = await createTask(user, { title: "after the lists" });
    const first = await pull(user, { limit: "2" });
    expect(first).toMatchObject({ changes: [], has_more: true });
    expect(first.lists).toHaveLength(2);
    const second = await pull(user, { limit: "2", since: first.cursor });
    expect([second.lists.length, second.changes.length, second.has_more]).toEqual([2, 0, true]);
    const third = await pull(user, { limit: "2", since: second.cursor });
    expect(third).toEqual({ changes: [{ op: "upsert", task }], lists: [], members: [], cursor: expect.any(String), has_more: false });
  });
});

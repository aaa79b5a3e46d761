// The list routes as docs/api.md "Lists" promises them: every user has exactly one Inbox, made on
// first use whatever the first request is (and however many arrive at once), which cannot be
// deleted; lists are created, read, renamed, recolored, reordered, deleted (into the trash with
// their tasks, or after moving their tasks to another list) and restored; at most 500 of them;
// conditional and idempotent like tasks; another user's list is never found, never used.
import { describe, expect, it } from "vitest";
import { call, createTask, expectProblem, newUser, type Task, untilAvailable } from "./support/api.ts";
import { suiteDatabase } from "./support/database.ts";
import {
  createList,
  deleteList,
  expectJson,
  inboxOf,
  inOrder,
  keyBefore,
  type List,
  moveTask,
  readLists,
  type TrashEntry,
  titles,
} from "./support/lists.ts";

const db = suiteDatabase();

const listPath = (user: string, id: number | string) => `/api/${user}/lists/${id}`;

interface ChangesPage {
  changes: Array<{ op: "upsert" | "delete"; task?: Task; id?: number }>;
  lists: Array<{ op: "upsert" | "delete"; list?: List; id?: number }>;
  cursor: string;
  has_more: boolean;
}

async function changes(user: string, since?: string): Promise<ChangesPage> {
  return expectJson<ChangesPage>(await call(`/api/${user}/changes?${new URLSearchParams(since === undefined ? {} : { since })}`));
}

/** The user's Inbox rows as stored (active or not). */
async function inboxRows(user: string): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>("SELECT id FROM lists WHERE user_id = $1 AND inbox", [user]);
  return rows.map((row) => Number(row.id));
}

/** The user's lists and tasks as stored, for "nothing changed". */
async function snapshot(user: string): Promise<unknown> {
  const lists = await db.query("SELECT id, name, color, sort_key, version, deleted_at FROM lists WHERE user_id = $1 ORDER BY id", [user]);
  const tasks = await db.query("SELECT id, list_id, parent_id, sort_key, version, deleted_at FROM tasks WHERE user_id = $1 ORDER BY id", [
    user,
  ]);
  return { lists: lists.rows, tasks: tasks.rows };
}

describe("the Inbox: every user has exactly one, made on first use", () => {
  it("GET /lists of a brand-new user answers exactly one list, the Inbox", async () => {
    const user = newUser();
    const lists = await readLists(user);
    expect(lists).toEqual([
      {
        id: expect.any(Number),
        user_id: user,
        name: "Inbox",
        color: null,
        inbox: true,
        position: expect.any(String),
        created_at: expect.any(String),
        updated_at: expect.any(String),
        version: 1,
        role: "owner",
        shared: false,
      },
    ]);
    expect(Object.keys(lists[0] ?? {})).toEqual([
      "id",
      "user_id",
      "name",
      "color",
      "inbox",
      "position",
      "created_at",
      "updated_at",
      "version",
      "role",
      "shared",
    ]);
  });

  it.each([
    ["GET /lists", "lists"],
    ["a full GET /changes", "changes"],
    ["a first POST /tasks", "create"],
  ] as const)("%s first: GET /lists, a full /changes and a new task all see the same one Inbox", async (_label, first) => {
    const user = newUser();
    const seen: number[] = [];
    const order = [first, ...(["lists", "changes", "create"] as const).filter((step) => step !== first)];
    for (const step of order) {
      if (step === "lists") seen.push(...(await readLists(user)).map((list) => list.id));
      if (step === "changes") seen.push(...(await changes(user)).lists.flatMap((change) => change.list?.id ?? []));
      if (step === "create") seen.push((await createTask(user, { title: "first" })).list_id);
    }
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);
    expect(await inboxRows(user)).toEqual([seen[0]]);
  });

  it("10 concurrent first requests (lists, changes, creates) make exactly one Inbox, which all of them see", async () => {
    const user = newUser();
    const kinds = ["lists", "changes", "create", "lists", "create", "changes", "create", "lists", "changes", "create"] as const;
    const answers = await Promise.all(
      kinds.map(async (kind): Promise<number[]> => {
        if (kind === "lists") {
          return (await expectJson<List[]>(await untilAvailable(() => call(`/api/${user}/lists`)))).map((list) => list.id);
        }
        if (kind === "changes") {
          const page = await expectJson<ChangesPage>(await untilAvailable(() => call(`/api/${user}/changes`)));
          // A full sync may come before or after the creates: it names the Inbox either way.
          return page.lists.flatMap((change) => change.list?.id ?? []);
        }
        const response = await untilAvailable(() => call(`/api/${user}/tasks`, { method: "POST", body: { title: "at once" } }));
        return [(await expectJson<Task>(response, 201)).list_id];
      }),
    );
    const inboxes = await inboxRows(user);
    expect(inboxes).toHaveLength(1);
    expect(answers.map((ids) => ids)).toEqual(kinds.map(() => inboxes));
    expect((await inOrder(user, inboxes[0] ?? 0)).length).toBe(4);
  });

  it("cannot be deleted: 409 inbox_not_deletable, with or without move_to, and nothing changes", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "stays" });
    const other = await createList(user, { name: "other" });
    const before = await snapshot(user);
    const { cursor } = await changes(user);
    await expectProblem(await call(listPath(user, task.list_id), { method: "DELETE" }), "inbox_not_deletable");
    await expectProblem(await call(`${listPath(user, task.list_id)}?move_to=${other.id}`, { method: "DELETE" }), "inbox_not_deletable");
    expect(await snapshot(user)).toEqual(before);
    expect(await changes(user, cursor)).toEqual({ changes: [], lists: [], members: [], cursor, has_more: false });
  });
});

describe("creating, reading and changing a list", () => {
  it("POST /lists: 201 with Location and ETag, the name trimmed, the color in lowercase, last in GET /lists", async () => {
    const user = newUser();
    const inbox = await inboxOf(user);
    const response = await call(`/api/${user}/lists`, { method: "POST", body: { name: "  Groceries  ", color: "#1A73E8" } });
    const list = await expectJson<List>(response, 201);
    expect(list).toMatchObject({ user_id: user, name: "Groceries", color: "#1a73e8", inbox: false, version: 1 });
    expect(list.updated_at).toBe(list.created_at);
    expect(response.headers.get("ETag")).toBe('"1"');
    expect(response.headers.get("Location")?.endsWith(`/api/${user}/lists/${list.id}`)).toBe(true);
    const plain = await createList(user, { name: "Plain" });
    expect(plain.color).toBeNull();
    expect((await readLists(user)).map((l) => l.id)).toEqual([inbox.id, list.id, plain.id]);
    const read = await call(listPath(user, list.id));
    expect(await expectJson<List>(read)).toEqual(list);
    expect(read.headers.get("ETag")).toBe('"1"');
  });

  it("PATCH and PUT change the fields sent and keep the rest; a list read back is accepted, its read-only fields ignored", async () => {
    const user = newUser();
    const list = await createList(user, { name: "Work", color: "#aabbcc" });
    const renamed = await expectJson<List>(await call(listPath(user, list.id), { method: "PATCH", body: { name: " Office " } }));
    expect(renamed).toMatchObject({ id: list.id, name: "Office", color: "#aabbcc", version: 2, position: list.position });
    const uncolored = await expectJson<List>(await call(listPath(user, list.id), { method: "PUT", body: { color: null } }));
    expect(uncolored).toMatchObject({ name: "Office", color: null, version: 3 });
    const sentBack = { ...uncolored, name: "Sent back", inbox: true, position: "zzz", version: 99, id: 1, created_at: "x" };
    const put = await expectJson<List>(await call(listPath(user, list.id), { method: "PUT", body: sentBack }));
    expect(put).toMatchObject({ id: list.id, name: "Sent back", inbox: false, position: list.position, version: 4 });
    expect(put.created_at).toBe(list.created_at);
    // The Inbox can be renamed too: it stays the Inbox.
    const inbox = await inboxOf(user);
    const named = await expectJson<List>(await call(listPath(user, inbox.id), { method: "PATCH", body: { name: "Eingang" } }));
    expect(named).toMatchObject({ name: "Eingang", inbox: true });
  });

  it.each([
    ["an empty name", { name: "" }, "name"],
    ["a name of spaces", { name: "   " }, "name"],
    ["a name of 101 characters", { name: "x".repeat(101) }, "name"],
    ["no name", { color: "#123456" }, "name"],
    ["a name that is not a string", { name: 5 }, "name"],
    ["a color name", { name: "n", color: "red" }, "color"],
    ["a short color", { name: "n", color: "#12345" }, "color"],
    ["a color with a non-hex digit", { name: "n", color: "#12345g" }, "color"],
    ["an unknown field", { name: "n", icon: "star" }, "icon"],
  ])("POST /lists with %s: 422 naming the field, nothing created", async (_label, body, path) => {
    const user = newUser();
    await expectProblem(await call(`/api/${user}/lists`, { method: "POST", body }), "validation_failed", path);
    expect((await readLists(user)).map((list) => list.name)).toEqual(["Inbox"]);
  });

  it("accepts a name of 100 characters (code points: emoji count one) after trimming", async () => {
    const user = newUser();
    const name = "🎉".repeat(100);
    expect((await createList(user, { name: `  ${name} ` })).name).toBe(name);
  });

  it("PATCH with nothing writable, or an invalid field, is a 422 and changes nothing", async () => {
    const user = newUser();
    const list = await createList(user, { name: "kept" });
    await expectProblem(await call(listPath(user, list.id), { method: "PATCH", body: {} }), "validation_failed");
    await expectProblem(await call(listPath(user, list.id), { method: "PATCH", body: { inbox: true } }), "validation_failed");
    await expectProblem(await call(listPath(user, list.id), { method: "PATCH", body: { name: "" } }), "validation_failed", "name");
    await expectProblem(await call(listPath(user, list.id), { method: "PATCH", body: { color: "blue" } }), "validation_failed", "color");
    expect(await expectJson<List>(await call(listPath(user, list.id)))).toEqual(list);
  });

  it("answers 422 naming list_id for a path id that is not a positive integer", async () => {
    const user = newUser();
    for (const id of ["abc", "0", "-1", "1.5"]) await expectProblem(await call(listPath(user, id)), "validation_failed", "list_id");
  });
});

describe("conditional requests and Idempotency-Key", () => {
  it("GET with If-None-Match: 304 for the current ETag, 200 otherwise", async () => {
    const user = newUser();
    const list = await createList(user);
    const same = await call(listPath(user, list.id), { headers: { "If-None-Match": '"1"' } });
    expect(same.status).toBe(304);
    expect(same.headers.get("ETag")).toBe('"1"');
    expect((await call(listPath(user, list.id), { headers: { "If-None-Match": '"2"' } })).status).toBe(200);
  });

  it("If-Match: a stale ETag is 412 for PATCH, PUT, move and DELETE, and changes nothing; the current one applies", async () => {
    const user = newUser();
    const list = await createList(user, { name: "guarded" });
    const before = await snapshot(user);
    const stale = { "If-Match": '"9"' };
    await expectProblem(
      await call(listPath(user, list.id), { method: "PATCH", body: { name: "x" }, headers: stale }),
      "precondition_failed",
    );
    await expectProblem(await call(listPath(user, list.id), { method: "PUT", body: { name: "x" }, headers: stale }), "precondition_failed");
    await expectProblem(await call(`${listPath(user, list.id)}/move`, { method: "POST", body: {}, headers: stale }), "precondition_failed");
    await expectProblem(await call(listPath(user, list.id), { method: "DELETE", headers: stale }), "precondition_failed");
    expect(await snapshot(user)).toEqual(before);
    const fresh = await call(listPath(user, list.id), { method: "PATCH", body: { name: "fresh" }, headers: { "If-Match": '"1"' } });
    expect((await expectJson<List>(fresh)).version).toBe(2);
    expect(fresh.headers.get("ETag")).toBe('"2"');
    expect((await call(listPath(user, list.id), { method: "DELETE", headers: { "If-Match": '"2"' } })).status).toBe(204);
  });

  it("POST /lists with an Idempotency-Key: a retry replays the first answer and creates nothing more; another body is a 422", async () => {
    const user = newUser();
    const headers = { "Idempotency-Key": `list-${crypto.randomUUID()}` };
    const first = await call(`/api/${user}/lists`, { method: "POST", body: { name: "once" }, headers });
    const created = await expectJson<List>(first, 201);
    const retry = await call(`/api/${user}/lists`, { method: "POST", body: { name: "once" }, headers });
    expect(await expectJson<List>(retry, 201)).toEqual(created);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.headers.get("Location")).toBe(first.headers.get("Location"));
    expect((await readLists(user)).map((list) => list.name)).toEqual(["Inbox", "once"]);
    await expectProblem(await call(`/api/${user}/lists`, { method: "POST", body: { name: "twice" }, headers }), "idempotency_key_reused");
    // A key first used for a task is another request here.
    const taskKey = { "Idempotency-Key": `task-${crypto.randomUUID()}` };
    expect((await call(`/api/${user}/tasks`, { method: "POST", body: { title: "x" }, headers: taskKey })).status).toBe(201);
    await expectProblem(
      await call(`/api/${user}/lists`, { method: "POST", body: { name: "x" }, headers: taskKey }),
      "idempotency_key_reused",
    );
  });
});

describe("at most 500 lists, the Inbox included, the trash not", () => {
  it("the 501st list is a 409 list_limit_reached; deleting one makes room, and restoring it past the limit is a 409 too", async () => {
    const user = newUser();
    const batch = (operations: unknown[]) => call(`/api/${user}/tasks/batch`, { method: "POST", body: { operations } });
    // The Inbox and 499 lists, in five batches.
    for (let start = 0; start < 499; start += 100) {
      const count = Math.min(100, 499 - start);
      const operations = Array.from({ length: count }, (_, i) => ({ op: "list_create", list: { name: `list ${start + i}` } }));
      expect((await batch(operations)).status).toBe(200);
    }
    const lists = await readLists(user);
    expect(lists).toHaveLength(500);
    expect(lists.filter((list) => list.inbox)).toHaveLength(1);
    await expectProblem(await call(`/api/${user}/lists`, { method: "POST", body: { name: "one too many" } }), "list_limit_reached");
    const refused = await expectProblem(await batch([{ op: "list_create", list: { name: "in a batch" } }]), "list_limit_reached");
    expect((refused as unknown as { operation: number }).operation).toBe(0);
    const doomed = lists[1];
    if (doomed === undefined) throw new Error("no list to delete");
    await deleteList(user, doomed.id);
    const replacement = await createList(user, { name: "room again" });
    expect(await readLists(user)).toHaveLength(500);
    await expectProblem(await call(`${listPath(user, doomed.id)}/restore`, { method: "POST" }), "list_limit_reached");
    await deleteList(user, replacement.id);
    expect((await expectJson<List>(await call(`${listPath(user, doomed.id)}/restore`, { method: "POST" }))).id).toBe(doomed.id);
  });
});

describe("another user's list is never found, never used", () => {
  it("is a 404 list_not_found for GET, PATCH, PUT, DELETE, move and restore, the same as a missing one, and stays as it was", async () => {
    const owner = newUser();
    const theirs = await createList(owner, { name: "theirs" });
    const gone = await createList(owner, { name: "gone" });
    await deleteList(owner, gone.id);
    const intruder = newUser();
    const before = await snapshot(owner);
    const attempts: Array<[string, (id: number) => string, number, unknown]> = [
      ["GET", (id) => listPath(intruder, id), theirs.id, undefined],
      ["PATCH", (id) => listPath(intruder, id), theirs.id, { name: "mine" }],
      ["PUT", (id) => listPath(intruder, id), theirs.id, { name: "mine" }],
      ["DELETE", (id) => listPath(intruder, id), theirs.id, undefined],
      ["POST", (id) => `${listPath(intruder, id)}/move`, theirs.id, {}],
      ["POST", (id) => `${listPath(intruder, id)}/restore`, gone.id, undefined],
    ];
    for (const [method, path, id, body] of attempts) {
      const { request_id: _, ...foreign } = await expectProblem(await call(path(id), { method, body }), "list_not_found");
      const { request_id: __, ...missing } = await expectProblem(await call(path(999_999_999), { method, body }), "list_not_found");
      expect(foreign).toEqual(missing);
    }
    expect(await snapshot(owner)).toEqual(before);
  });

  it("as list_id, move_to, after_id or parent_id in a body: a 422 naming the field, never their data", async () => {
    const owner = newUser();
    const theirs = await createList(owner, { name: "theirs" });
    const theirTask = await createTask(owner, { title: "their task", list_id: theirs.id });
    const intruder = newUser();
    const mine = await createTask(intruder, { title: "mine" });
    const myList = await createList(intruder, { name: "my list" });
    const before = await snapshot(owner);
    const tasks = `/api/${intruder}/tasks`;
    await expectProblem(await call(tasks, { method: "POST", body: { title: "x", list_id: theirs.id } }), "validation_failed", "list_id");
    await expectProblem(
      await call(tasks, { method: "POST", body: { title: "x", parent_id: theirTask.id } }),
      "validation_failed",
      "parent_id",
    );
    await expectProblem(
      await call(`${tasks}/${mine.id}`, { method: "PATCH", body: { list_id: theirs.id } }),
      "validation_failed",
      "list_id",
    );
    await expectProblem(await moveTask(intruder, mine.id, { list_id: theirs.id }), "validation_failed", "list_id");
    await expectProblem(await moveTask(intruder, mine.id, { after_id: theirTask.id }), "validation_failed", "after_id");
    await expectProblem(await moveTask(intruder, mine.id, { parent_id: theirTask.id }), "validation_failed", "parent_id");
    const deleteTo = await call(`${listPath(intruder, myList.id)}?move_to=${theirs.id}`, { method: "DELETE" });
    await expectProblem(deleteTo, "validation_failed", "move_to");
    await expectProblem(
      await call(`${listPath(intruder, myList.id)}/move`, { method: "POST", body: { after_id: theirs.id } }),
      "validation_failed",
      "after_id",
    );
    // Filtering by it shows nothing of theirs.
    expect(await expectJson<Task[]>(await call(`${tasks}?list_id=${theirs.id}`))).toEqual([]);
    expect(await expectJson<Task[]>(await call(`${tasks}?list_id=${theirs.id}&sort=position`))).toEqual([]);
    expect(await snapshot(owner)).toEqual(before);
    expect((await readLists(intruder)).map((list) => list.name)).toEqual(["Inbox", "my list"]);
  });
});

describe("deleting a list", () => {
  it("without move_to: the list and all its tasks go to the trash; /changes has a deletion for each, /trash lists the list alone", async () => {
    const user = newUser();
    const keep = await createTask(user, { title: "elsewhere" });
    const list = await createList(user, { name: "doomed" });
    const a = await createTask(user, { title: "a", list_id: list.id });
    const a1 = await createTask(user, { title: "a1", parent_id: a.id });
    const b = await createTask(user, { title: "b", list_id: list.id });
    const { cursor } = await changes(user);
    await deleteList(user, list.id);
    await expectProblem(await call(listPath(user, list.id)), "list_not_found");
    for (const task of [a, a1, b]) await expectProblem(await call(`/api/${user}/tasks/${task.id}`), "task_not_found");
    expect((await readLists(user)).map((l) => l.name)).toEqual(["Inbox"]);
    expect((await expectJson<Task[]>(await call(`/api/${user}/tasks`))).map((task) => task.id)).toEqual([keep.id]);
    const page = await changes(user, cursor);
    expect(new Set(page.changes)).toEqual(
      new Set([
        { op: "delete", id: a.id },
        { op: "delete", id: a1.id },
        { op: "delete", id: b.id },
      ]),
    );
    expect(page.lists).toEqual([{ op: "delete", id: list.id }]);
    const trash = await expectJson<TrashEntry[]>(await call(`/api/${user}/trash`));
    expect(trash.map((entry) => [entry.type, entry.list?.id ?? entry.task?.id])).toEqual([["list", list.id]]);
  });

  it("with move_to: its tasks go to the end of that list in their order, subtasks with their parents, ids kept; then the list goes", async () => {
    const user = newUser();
    const target = await createList(user, { name: "target" });
    const x = await createTask(user, { title: "x", list_id: target.id });
    await createTask(user, { title: "y", list_id: target.id });
    const source = await createList(user, { name: "source" });
    const a = await createTask(user, { title: "a", list_id: source.id });
    const b = await createTask(user, { title: "b", list_id: source.id });
    const b1 = await createTask(user, { title: "b1", parent_id: b.id });
    const b2 = await createTask(user, { title: "b2", parent_id: b.id });
    const c = await createTask(user, { title: "c", list_id: source.id });
    // Its own order, not the order of creation: c first, a last, b's subtasks swapped.
    await expectJson(await moveTask(user, c.id));
    await expectJson(await moveTask(user, a.id, { after_id: b.id }));
    await expectJson(await moveTask(user, b1.id, { parent_id: b.id, after_id: b2.id }));
    expect(await titles(user, source.id)).toEqual(["c", "b", "a", "b > b2", "b > b1"]);
    await deleteList(user, source.id, target.id);
    expect(await titles(user, target.id)).toEqual(["x", "y", "c", "b", "a", "b > b2", "b > b1"]);
    const moved = await inOrder(user, target.id);
    expect(moved.find((task) => task.id === b1.id)).toMatchObject({ list_id: target.id, parent_id: b.id });
    expect(moved.find((task) => task.id === x.id)?.version).toBe(1);
    expect((await readLists(user)).map((l) => l.name)).toEqual(["Inbox", "target"]);
    // The list is in the trash, empty: restoring it brings back no task.
    const restored = await expectJson<List>(await call(`${listPath(user, source.id)}/restore`, { method: "POST" }));
    expect(restored).toMatchObject({ id: source.id, name: "source" });
    expect(await inOrder(user, source.id)).toEqual([]);
  });

  it("with move_to itself, a list in the trash, or no list: 422 naming move_to (nor can a task go to a list in the trash), nothing changes", async () => {
    const user = newUser();
    const list = await createList(user, { name: "source" });
    await createTask(user, { title: "t", list_id: list.id });
    const trashed = await createList(user, { name: "trashed" });
    await deleteList(user, trashed.id);
    const task = await createTask(user, { title: "elsewhere" });
    const before = await snapshot(user);
    for (const moveTo of [list.id, trashed.id, 999_999_999]) {
      await expectProblem(await call(`${listPath(user, list.id)}?move_to=${moveTo}`, { method: "DELETE" }), "validation_failed", "move_to");
    }
    await expectProblem(await moveTask(user, task.id, { list_id: trashed.id }), "validation_failed", "list_id");
    await expectProblem(
      await call(`/api/${user}/tasks`, { method: "POST", body: { title: "x", list_id: trashed.id } }),
      "validation_failed",
      "list_id",
    );
    for (const moveTo of ["abc", "0"]) {
      await expectProblem(await call(`${listPath(user, list.id)}?move_to=${moveTo}`, { method: "DELETE" }), "validation_failed", "move_to");
    }
    expect(await snapshot(user)).toEqual(before);
  });
});

describe("the order of lists", () => {
  it("POST …/move places a list first (no anchor), right after after_id or right before before_id; GET /lists follows", async () => {
    const user = newUser();
    const inbox = await inboxOf(user);
    const [l1, l2, l3] = [
      await createList(user, { name: "1" }),
      await createList(user, { name: "2" }),
      await createList(user, { name: "3" }),
    ];
    const names = async () => (await readLists(user)).map((list) => list.name);
    expect(await names()).toEqual(["Inbox", "1", "2", "3"]);
    const first = await expectJson<List>(await call(`${listPath(user, l3.id)}/move`, { method: "POST", body: {} }));
    expect(first).toMatchObject({ id: l3.id, version: 2 });
    expect(await names()).toEqual(["3", "Inbox", "1", "2"]);
    await expectJson(await call(`${listPath(user, l1.id)}/move`, { method: "POST", body: { after_id: l2.id } }));
    expect(await names()).toEqual(["3", "Inbox", "2", "1"]);
    await expectJson(await call(`${listPath(user, inbox.id)}/move`, { method: "POST", body: { before_id: l3.id } }));
    expect(await names()).toEqual(["Inbox", "3", "2", "1"]);
    await expectJson(await call(`${listPath(user, l2.id)}/move`, { method: "POST", body: { after_id: l1.id } }));
    const lists = await readLists(user);
    expect(lists.map((list) => list.name)).toEqual(["Inbox", "3", "1", "2"]);
    // The positions are what the order is: strictly increasing byte by byte.
    for (let i = 1; i < lists.length; i++) expect(keyBefore(lists[i - 1]?.position ?? "", lists[i]?.position ?? "")).toBe(true);
  });

  it("an anchor that is the list itself, a list in the trash or no list is a 422 naming it; both anchors a 422 naming before_id", async () => {
    const user = newUser();
    const list = await createList(user, { name: "moved" });
    const other = await createList(user, { name: "other" });
    const trashed = await createList(user, { name: "trashed" });
    await deleteList(user, trashed.id);
    const before = await snapshot(user);
    const move = (body: unknown) => call(`${listPath(user, list.id)}/move`, { method: "POST", body });
    for (const anchor of [list.id, trashed.id, 999_999_999]) {
      await expectProblem(await move({ after_id: anchor }), "validation_failed", "after_id");
      await expectProblem(await move({ before_id: anchor }), "validation_failed", "before_id");
    }
    await expectProblem(await move({ after_id: other.id, before_id: other.id }), "validation_failed", "before_id");
    await expectProblem(await move({ list_id: other.id }), "validation_failed", "list_id");
    expect(await snapshot(user)).toEqual(before);
  });
});

describe("renumbering lists", () => {
  it("300 moves into the same gap renumber the user's lists once the keys grow past 40 characters: the order stays right", async () => {
    const user = newUser();
    const inbox = await inboxOf(user);
    const [x, y, last] = [
      await createList(user, { name: "X" }),
      await createList(user, { name: "Y" }),
      await createList(user, { name: "B" }),
    ];
    const positions: string[] = [];
    for (let start = 0; start < 300; start += 100) {
      const operations = Array.from({ length: 100 }, (_, i) => ({
        op: "list_move",
        id: (start + i) % 2 === 0 ? x.id : y.id,
        after_id: inbox.id,
      }));
      const response = await call(`/api/${user}/tasks/batch`, { method: "POST", body: { operations } });
      positions.push(...(await expectJson<{ results: Array<{ list: List }> }>(response)).results.map((result) => result.list.position));
    }
    expect(Math.max(...positions.map((key) => key.length))).toBeLessThanOrEqual(40);
    const lists = await readLists(user);
    expect(lists.map((list) => list.name)).toEqual(["Inbox", "Y", "X", "B"]);
    for (let i = 1; i < lists.length; i++) expect(keyBefore(lists[i - 1]?.position ?? "", lists[i]?.position ?? "")).toBe(true);
    // The Inbox and B never moved: only a renumbering changed them.
    expect(lists.find((list) => list.id === inbox.id)?.version).toBeGreaterThan(1);
    expect(lists.find((list) => list.id === last.id)?.version).toBeGreaterThan(1);
  });
});

describe("restoring a list", () => {
  it("brings it back in its place with the tasks deleted with it, subtasks under their parents, in their order", async () => {
    const user = newUser();
    const before = await createList(user, { name: "before" });
    const list = await createList(user, { name: "restored" });
    await createList(user, { name: "after" });
    const a = await createTask(user, { title: "a", list_id: list.id });
    await createTask(user, { title: "a1", parent_id: a.id });
    await createTask(user, { title: "a2", parent_id: a.id });
    const b = await createTask(user, { title: "b", list_id: list.id });
    await expectJson(await moveTask(user, b.id));
    const tasksBefore = await inOrder(user, list.id);
    await deleteList(user, list.id);
    const { cursor } = await changes(user);
    const restored = await expectJson<List>(await call(`${listPath(user, list.id)}/restore`, { method: "POST" }));
    expect(restored).toMatchObject({ id: list.id, name: "restored", position: list.position, version: 3 });
    expect((await readLists(user)).map((l) => l.name)).toEqual(["Inbox", "before", "restored", "after"]);
    const tasksAfter = await inOrder(user, list.id);
    expect(tasksAfter.map((task) => [task.id, task.parent_id, task.position])).toEqual(
      tasksBefore.map((task) => [task.id, task.parent_id, task.position]),
    );
    expect(await titles(user, list.id)).toEqual(["b", "a", "a > a1", "a > a2"]);
    const page = await changes(user, cursor);
    expect(page.lists).toEqual([{ op: "upsert", list: restored }]);
    expect(page.changes.map((change) => change.op)).toEqual(["upsert", "upsert", "upsert", "upsert"]);
    expect(before.id).toBeLessThan(list.id);
  });

  it("puts it last when another list took its place meanwhile", async () => {
    const user = newUser();
    const inbox = await inboxOf(user);
    const list = await createList(user, { name: "L" });
    const other = await createList(user, { name: "M" });
    await deleteList(user, list.id);
    // Right after the Inbox, with L gone: M takes the key L had.
    const moved = await expectJson<List>(await call(`${listPath(user, other.id)}/move`, { method: "POST", body: { after_id: inbox.id } }));
    expect(moved.position).toBe(list.position);
    const restored = await expectJson<List>(await call(`${listPath(user, list.id)}/restore`, { method: "POST" }));
    expect(restored.position).not.toBe(list.position);
    expect((await readLists(user)).map((l) => l.name)).toEqual(["Inbox", "M", "L"]);
  });

  it("leaves in the trash a task deleted on its own before the list went", async () => {
    const user = newUser();
    const list = await createList(user, { name: "l" });
    const kept = await createTask(user, { title: "kept", list_id: list.id });
    const alone = await createTask(user, { title: "alone", list_id: list.id });
    expect((await call(`/api/${user}/tasks/${alone.id}`, { method: "DELETE" })).status).toBe(204);
    await deleteList(user, list.id);
    await expectJson(await call(`${listPath(user, list.id)}/restore`, { method: "POST" }));
    expect((await inOrder(user, list.id)).map((task) => task.id)).toEqual([kept.id]);
    const trash = await expectJson<TrashEntry[]>(await call(`/api/${user}/trash`));
    expect(trash.map((entry) => entry.task?.id)).toEqual([alone.id]);
  });

  it("is a 404 list_not_found for a list that is not in the trash, or never was", async () => {
    const user = newUser();
    const list = await createList(user);
    await expectProblem(await call(`${listPath(user, list.id)}/restore`, { method: "POST" }), "list_not_found");
    await expectProblem(await call(`${listPath(user, 999_999_999)}/restore`, { method: "POST" }), "list_not_found");
    const inbox = await inboxOf(user);
    await expectProblem(await call(`${listPath(user, inbox.id)}/restore`, { method: "POST" }), "list_not_found");
  });
});

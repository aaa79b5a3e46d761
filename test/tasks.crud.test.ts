// The task routes as API.md promises them: create, read, replace, patch, complete, delete,
// ownership, and the {id} path segment.
import { describe, expect, it } from "vitest";
import { call, createTask, expectProblem, newUser, type Task, tokenFor } from "./support/api.ts";

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** Slack for comparing server timestamps with this process's clock (same machine). */
const CLOCK_SLACK_MS = 2000;

const tasksPath = (user: string) => `/api/${user}/tasks`;
const taskPath = (user: string, id: number | string) => `/api/${user}/tasks/${id}`;
const completePath = (user: string, id: number | string) => `/api/${user}/tasks/${id}/complete`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The task as its owner reads it now. */
async function readTask(user: string, id: number): Promise<Task> {
  const response = await call(taskPath(user, id));
  expect(response.status).toBe(200);
  return (await response.json()) as Task;
}

async function listTasks(user: string): Promise<Task[]> {
  const response = await call(tasksPath(user));
  expect(response.status).toBe(200);
  return (await response.json()) as Task[];
}

function expectWithin(timestamp: string | null, before: number, after: number): void {
  expect(timestamp).toMatch(RFC3339_UTC);
  const at = Date.parse(timestamp ?? "");
  expect(at).toBeGreaterThanOrEqual(before - CLOCK_SLACK_MS);
  expect(at).toBeLessThanOrEqual(after + CLOCK_SLACK_MS);
}

/** A task with every writable field away from its default. */
const FULL = {
  title: "Full task",
  description: "some words",
  completed: true,
  priority: "high",
  tags: ["home", "work"],
  due_date: "2026-12-01T17:00:00.000Z",
} as const;

describe("POST /api/{user}/tasks", () => {
  it("returns 201 with all 20 fields, in the contract's order, and their defaults (the Inbox, top level, first)", async () => {
    const user = newUser();
    const before = Date.now();
    const response = await call(tasksPath(user), { method: "POST", body: { title: "Buy milk" } });
    const after = Date.now();
    expect(response.status).toBe(201);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    const task = (await response.json()) as Task;
    expect(Object.keys(task)).toEqual([
      "id",
      "user_id",
      "title",
      "description",
      "completed",
      "completed_at",
      "priority",
      "tags",
      "due_date",
      "created_at",
      "updated_at",
      "version",
      "recurrence",
      "series_id",
      "next_id",
      "list_id",
      "parent_id",
      "position",
      "created_by",
      "assignee_id",
    ]);
    expect(task).toMatchObject({
      user_id: user,
      created_by: user,
      assignee_id: null,
      title: "Buy milk",
      description: null,
      completed: false,
      completed_at: null,
      priority: "medium",
      tags: [],
      due_date: null,
      version: 1,
      recurrence: null,
      series_id: null,
      next_id: null,
      parent_id: null,
      position: "a0",
    });
    const lists = (await (await call(`/api/${user}/lists`)).json()) as Array<{ id: number; inbox: boolean }>;
    expect(lists.filter((list) => list.inbox).map((list) => list.id)).toEqual([task.list_id]);
    expect(Number.isSafeInteger(task.id)).toBe(true);
    expect(task.id).toBeGreaterThan(0);
    expectWithin(task.created_at, before, after);
    expect(task.updated_at).toBe(task.created_at);
  });

  it("stores every writable field sent", async () => {
    const user = newUser();
    const before = Date.now();
    const task = await createTask(user, { ...FULL });
    const after = Date.now();
    expect(task).toMatchObject({ ...FULL, tags: [...FULL.tags] });
    expectWithin(task.completed_at, before, after);
  });

  it("answers with a Location header ending in /api/{user}/tasks/{id} that GET answers", async () => {
    const user = newUser();
    const response = await call(tasksPath(user), { method: "POST", body: { title: "located" } });
    expect(response.status).toBe(201);
    const task = (await response.json()) as Task;
    const location = response.headers.get("Location") ?? "";
    expect(location.endsWith(`/api/${user}/tasks/${task.id}`)).toBe(true);
    const followed = await fetch(new URL(location, response.url), {
      headers: { Authorization: `Bearer ${await tokenFor(user)}` },
    });
    expect(followed.status).toBe(200);
    expect(await followed.json()).toEqual(task);
  });

  it("never reuses an id: create, delete, create gives a greater id", async () => {
    const user = newUser();
    const first = await createTask(user);
    expect((await call(taskPath(user, first.id), { method: "DELETE" })).status).toBe(204);
    const second = await createTask(user);
    expect(second.id).toBeGreaterThan(first.id);
  });
});

describe("GET /api/{user}/tasks/{id}", () => {
  it("returns the task as it was created", async () => {
    const user = newUser();
    const task = await createTask(user, { ...FULL });
    const response = await call(taskPath(user, task.id));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(task);
  });

  it("returns 404 problem+json for a task that does not exist", async () => {
    const user = newUser();
    const task = await createTask(user);
    await call(taskPath(user, task.id), { method: "DELETE" });
    await expectProblem(await call(taskPath(user, task.id)), "task_not_found");
  });

  it("returns 404 for the largest well-formed id, not 422 or 500", async () => {
    const user = newUser();
    await expectProblem(await call(taskPath(user, Number.MAX_SAFE_INTEGER)), "task_not_found");
  });

  it("returns 404, not 403, for another user's task, with the same problem as a missing one", async () => {
    const owner = newUser();
    const other = newUser();
    const theirs = await createTask(owner);
    const gone = await createTask(other);
    await call(taskPath(other, gone.id), { method: "DELETE" });

    const foreign = await expectProblem(await call(taskPath(other, theirs.id)), "task_not_found");
    const missing = await expectProblem(await call(taskPath(other, gone.id)), "task_not_found");
    const { request_id: _a, ...foreignRest } = foreign;
    const { request_id: _b, ...missingRest } = missing;
    expect(foreignRest).toEqual(missingRest);
    // The other user's task really exists.
    expect(await readTask(owner, theirs.id)).toEqual(theirs);
  });
});

describe("PUT /api/{user}/tasks/{id} (the same as PATCH: the fields sent replaced, the rest kept)", () => {
  it("renames a completed task without un-completing it: completed, completed_at, priority, tags and due date are kept", async () => {
    const user = newUser();
    const task = await createTask(user, { ...FULL });
    expect(task.completed).toBe(true);
    const response = await call(taskPath(user, task.id), { method: "PUT", body: { title: "Only a title" } });
    expect(response.status).toBe(200);
    const { title: _, version, updated_at: __, ...kept } = task;
    expect(await response.json()).toMatchObject({ ...kept, title: "Only a title", version: version + 1 });
  });

  it("renames with title and description and keeps the rest", async () => {
    const user = newUser();
    const task = await createTask(user, { ...FULL });
    const response = await call(taskPath(user, task.id), { method: "PUT", body: { title: "Renamed", description: "new words" } });
    expect(await response.json()).toMatchObject({
      title: "Renamed",
      description: "new words",
      completed: true,
      completed_at: task.completed_at,
      priority: "high",
      tags: ["home", "work"],
      due_date: FULL.due_date,
    });
  });

  it('completes with PUT {"completed": true}, as one of the frontends does', async () => {
    const user = newUser();
    const task = await createTask(user, { title: "to do", priority: "low" });
    const response = await call(taskPath(user, task.id), { method: "PUT", body: { completed: true } });
    expect(response.status).toBe(200);
    const done = (await response.json()) as Task;
    expect(done).toMatchObject({ title: "to do", priority: "low", completed: true });
    expect(done.completed_at).toMatch(RFC3339_UTC);
  });

  it("clears a nullable field sent as null", async () => {
    const user = newUser();
    const task = await createTask(user, { ...FULL });
    const response = await call(taskPath(user, task.id), { method: "PUT", body: { description: null, due_date: null } });
    expect(await response.json()).toMatchObject({ title: FULL.title, description: null, due_date: null, completed: true });
  });

  it("replaces every writable field when a whole task read back is sent with every field changed", async () => {
    const user = newUser();
    const task = await createTask(user, { ...FULL });
    const edited = {
      ...task,
      title: "Edited",
      description: "other words",
      completed: false,
      priority: "low",
      tags: ["errands"],
      due_date: "2031-01-01T09:00:00.000Z",
    };
    const response = await call(taskPath(user, task.id), { method: "PUT", body: edited });
    expect(response.status).toBe(200);
    const written = (await response.json()) as Task;
    expect(written).toMatchObject({
      id: task.id,
      title: "Edited",
      description: "other words",
      completed: false,
      completed_at: null,
      priority: "low",
      tags: ["errands"],
      due_date: "2031-01-01T09:00:00.000Z",
      created_at: task.created_at,
      version: task.version + 1,
    });
  });

  it("is a 422 for an empty body and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user, { ...FULL });
    await expectProblem(await call(taskPath(user, task.id), { method: "PUT", body: {} }), "validation_failed");
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("bumps version by one and updated_at, and keeps created_at", async () => {
    const user = newUser();
    const task = await createTask(user);
    await sleep(5);
    const before = Date.now();
    const response = await call(taskPath(user, task.id), { method: "PUT", body: { title: "replaced" } });
    const after = Date.now();
    expect(response.status).toBe(200);
    const replaced = (await response.json()) as Task;
    expect(replaced.version).toBe(task.version + 1);
    expect(replaced.created_at).toBe(task.created_at);
    expect(Date.parse(replaced.updated_at)).toBeGreaterThan(Date.parse(task.updated_at));
    expectWithin(replaced.updated_at, before, after);
  });

  it("stores every writable field sent", async () => {
    const user = newUser();
    const task = await createTask(user);
    const response = await call(taskPath(user, task.id), { method: "PUT", body: { ...FULL } });
    expect(response.status).toBe(200);
    const replaced = (await response.json()) as Task;
    expect(replaced).toMatchObject({ ...FULL, tags: [...FULL.tags] });
    expect(await readTask(user, task.id)).toEqual(replaced);
  });

  it("changes the description alone without asking for a title", async () => {
    const user = newUser();
    const task = await createTask(user, { ...FULL });
    const response = await call(taskPath(user, task.id), { method: "PUT", body: { description: "no title" } });
    expect(await response.json()).toMatchObject({ title: FULL.title, description: "no title" });
  });

  it("accepts back the object it read, ignoring the read-only fields", async () => {
    const user = newUser();
    const task = await createTask(user, { ...FULL });
    const response = await call(taskPath(user, task.id), { method: "PUT", body: task });
    expect(response.status).toBe(200);
    const replaced = (await response.json()) as Task;
    const { version, updated_at, ...unchanged } = task;
    expect(replaced).toMatchObject(unchanged);
    expect(replaced.version).toBe(version + 1);
  });

  it("ignores read-only fields sent with wrong values", async () => {
    const user = newUser();
    const task = await createTask(user);
    const body = {
      title: "edited",
      id: task.id + 1000,
      user_id: newUser(),
      completed_at: "2001-01-01T00:00:00Z",
      created_at: "not even a timestamp",
      updated_at: 12345,
      version: 999,
    };
    const response = await call(taskPath(user, task.id), { method: "PUT", body });
    expect(response.status).toBe(200);
    const replaced = (await response.json()) as Task;
    expect(replaced).toMatchObject({
      id: task.id,
      user_id: user,
      title: "edited",
      completed_at: null,
      created_at: task.created_at,
      version: task.version + 1,
    });
    expect(replaced.updated_at).toMatch(RFC3339_UTC);
  });

  it("sets completed_at when it sets completed to true", async () => {
    const user = newUser();
    const task = await createTask(user);
    const before = Date.now();
    const response = await call(taskPath(user, task.id), { method: "PUT", body: { title: "done", completed: true } });
    const after = Date.now();
    expect(response.status).toBe(200);
    const replaced = (await response.json()) as Task;
    expect(replaced.completed).toBe(true);
    expectWithin(replaced.completed_at, before, after);
  });

  it("keeps completed_at when the task was already completed", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "done", completed: true });
    await sleep(5);
    const response = await call(taskPath(user, task.id), { method: "PUT", body: { title: "still done", completed: true } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Task).completed_at).toBe(task.completed_at);
  });
});

describe("PATCH /api/{user}/tasks/{id}", () => {
  it("changes only the fields sent", async () => {
    const user = newUser();
    const task = await createTask(user, { ...FULL });
    const response = await call(taskPath(user, task.id), { method: "PATCH", body: { priority: "low" } });
    expect(response.status).toBe(200);
    const patched = (await response.json()) as Task;
    const { priority: _p, version: _v, updated_at: _u, ...rest } = task;
    expect(patched).toMatchObject({ ...rest, priority: "low", version: task.version + 1 });
  });

  it("clears description with null", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "t", description: "words" });
    const response = await call(taskPath(user, task.id), { method: "PATCH", body: { description: null } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Task).description).toBeNull();
    expect((await readTask(user, task.id)).description).toBeNull();
  });

  it("clears due_date with null", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "t", due_date: "2026-12-01T17:00:00Z" });
    expect(task.due_date).not.toBeNull();
    const response = await call(taskPath(user, task.id), { method: "PATCH", body: { due_date: null } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Task).due_date).toBeNull();
    expect((await readTask(user, task.id)).due_date).toBeNull();
  });

  it("rejects null for title, which is not nullable, and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    await expectProblem(await call(taskPath(user, task.id), { method: "PATCH", body: { title: null } }), "validation_failed", "title");
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("rejects an empty object with 422 and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    await expectProblem(await call(taskPath(user, task.id), { method: "PATCH", body: {} }), "validation_failed");
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("rejects a body of only read-only fields with 422 and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    const body = { id: task.id, user_id: user, version: 7, created_at: task.created_at };
    await expectProblem(await call(taskPath(user, task.id), { method: "PATCH", body }), "validation_failed");
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("rejects an unknown field with 422 naming it and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    await expectProblem(await call(taskPath(user, task.id), { method: "PATCH", body: { title: "x", foo: 1 } }), "validation_failed", "foo");
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("sets completed_at when it sets completed to true", async () => {
    const user = newUser();
    const task = await createTask(user);
    const before = Date.now();
    const response = await call(taskPath(user, task.id), { method: "PATCH", body: { completed: true } });
    const after = Date.now();
    expect(response.status).toBe(200);
    const patched = (await response.json()) as Task;
    expect(patched.completed).toBe(true);
    expectWithin(patched.completed_at, before, after);
  });

  it("keeps completed_at when the task was already completed", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "done", completed: true });
    await sleep(5);
    const response = await call(taskPath(user, task.id), { method: "PATCH", body: { completed: true } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Task).completed_at).toBe(task.completed_at);
  });

  it("keeps completed_at when a patch does not touch completed", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "done", completed: true });
    const response = await call(taskPath(user, task.id), { method: "PATCH", body: { title: "renamed" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ completed: true, completed_at: task.completed_at });
  });

  it("clears completed_at when it sets completed to false", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "done", completed: true });
    const response = await call(taskPath(user, task.id), { method: "PATCH", body: { completed: false } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ completed: false, completed_at: null });
  });
});

describe("DELETE /api/{user}/tasks/{id}", () => {
  it("returns 204 with an empty body", async () => {
    const user = newUser();
    const task = await createTask(user);
    const response = await call(taskPath(user, task.id), { method: "DELETE" });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
  });

  it("makes the task answer 404 afterwards", async () => {
    const user = newUser();
    const task = await createTask(user);
    await call(taskPath(user, task.id), { method: "DELETE" });
    await expectProblem(await call(taskPath(user, task.id)), "task_not_found");
    expect(await listTasks(user)).toEqual([]);
  });

  it("returns 404 when deleting the same task again", async () => {
    const user = newUser();
    const task = await createTask(user);
    expect((await call(taskPath(user, task.id), { method: "DELETE" })).status).toBe(204);
    await expectProblem(await call(taskPath(user, task.id), { method: "DELETE" }), "task_not_found");
  });
});

describe("PATCH /api/{user}/tasks/{id}/complete", () => {
  it("with no body toggles false to true and sets completed_at", async () => {
    const user = newUser();
    const task = await createTask(user);
    const before = Date.now();
    const response = await call(completePath(user, task.id), { method: "PATCH" });
    const after = Date.now();
    expect(response.status).toBe(200);
    const done = (await response.json()) as Task;
    expect(done.completed).toBe(true);
    expectWithin(done.completed_at, before, after);
    expect(done.version).toBe(task.version + 1);
  });

  it("with no body toggles true to false and clears completed_at", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "done", completed: true });
    const response = await call(completePath(user, task.id), { method: "PATCH" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ completed: false, completed_at: null, version: task.version + 1 });
  });

  it('with {"completed": true} sets the task completed', async () => {
    const user = newUser();
    const task = await createTask(user);
    const before = Date.now();
    const response = await call(completePath(user, task.id), { method: "PATCH", body: { completed: true } });
    const after = Date.now();
    expect(response.status).toBe(200);
    const done = (await response.json()) as Task;
    expect(done.completed).toBe(true);
    expectWithin(done.completed_at, before, after);
  });

  it('with {"completed": true} twice stays completed and keeps completed_at', async () => {
    const user = newUser();
    const task = await createTask(user);
    const first = await call(completePath(user, task.id), { method: "PATCH", body: { completed: true } });
    const done = (await first.json()) as Task;
    await sleep(5);
    const second = await call(completePath(user, task.id), { method: "PATCH", body: { completed: true } });
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ completed: true, completed_at: done.completed_at });
  });

  it('with {"completed": false} sets the task pending', async () => {
    const user = newUser();
    const task = await createTask(user, { title: "done", completed: true });
    const response = await call(completePath(user, task.id), { method: "PATCH", body: { completed: false } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ completed: false, completed_at: null });
  });

  it('rejects {"completed": "yes"} with 422 naming completed and leaves the task unchanged', async () => {
    const user = newUser();
    const task = await createTask(user);
    await expectProblem(
      await call(completePath(user, task.id), { method: "PATCH", body: { completed: "yes" } }),
      "validation_failed",
      "completed",
    );
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("rejects {} with 422 naming completed and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    await expectProblem(await call(completePath(user, task.id), { method: "PATCH", body: {} }), "validation_failed", "completed");
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("rejects an unknown field with 422 naming it and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    const response = await call(completePath(user, task.id), { method: "PATCH", body: { completed: true, title: "sneaky" } });
    await expectProblem(response, "validation_failed", "title");
    expect(await readTask(user, task.id)).toEqual(task);
  });
});

describe("version", () => {
  it("increments by exactly 1 per successful write, and not on reads", async () => {
    const user = newUser();
    const task = await createTask(user);
    expect(task.version).toBe(1);
    const writes: Array<[string, string, unknown]> = [
      [taskPath(user, task.id), "PATCH", { priority: "high" }],
      [taskPath(user, task.id), "PUT", { title: "replaced" }],
      [completePath(user, task.id), "PATCH", undefined],
      [completePath(user, task.id), "PATCH", { completed: false }],
    ];
    let expected = task.version;
    for (const [path, method, body] of writes) {
      const response = await call(path, { method, body });
      expect(response.status).toBe(200);
      expected += 1;
      expect(((await response.json()) as Task).version).toBe(expected);
      expect((await readTask(user, task.id)).version).toBe(expected);
    }
  });
});

describe("another user's task", () => {
  const attempts: Array<[string, (user: string, id: number) => Promise<Response>]> = [
    ["PUT", (user, id) => call(taskPath(user, id), { method: "PUT", body: { title: "hijacked" } })],
    ["PATCH", (user, id) => call(taskPath(user, id), { method: "PATCH", body: { title: "hijacked" } })],
    ["DELETE", (user, id) => call(taskPath(user, id), { method: "DELETE" })],
    ["PATCH /complete", (user, id) => call(completePath(user, id), { method: "PATCH" })],
  ];
  for (const [name, attempt] of attempts) {
    it(`returns 404 for ${name} on another user's task and does not change it`, async () => {
      const owner = newUser();
      const intruder = newUser();
      const task = await createTask(owner);
      await expectProblem(await attempt(intruder, task.id), "task_not_found");
      expect(await readTask(owner, task.id)).toEqual(task);
    });
  }

  it("returns 403 problem+json for a token of user A on /api/B/tasks, and creates nothing", async () => {
    const a = newUser();
    const b = newUser();
    const tokenA = await tokenFor(a);
    await expectProblem(await call(tasksPath(b), { method: "POST", token: tokenA, body: { title: "planted" } }), "forbidden");
    await expectProblem(await call(tasksPath(b), { token: tokenA }), "forbidden");
    expect(await listTasks(b)).toEqual([]);
  });

  it("returns 403 for a token of user A on one of B's tasks, and does not change it", async () => {
    const a = newUser();
    const b = newUser();
    const task = await createTask(b);
    const response = await call(taskPath(b, task.id), { method: "PATCH", token: await tokenFor(a), body: { title: "x" } });
    await expectProblem(response, "forbidden");
    expect(await readTask(b, task.id)).toEqual(task);
  });
});

describe("the {id} path segment", () => {
  const badIds = ["abc", "0", "-1", "1.5", "99999999999999999999", String(Number.MAX_SAFE_INTEGER + 2)];
  for (const id of badIds) {
    it(`returns 422 naming "id" for GET with id ${JSON.stringify(id)}`, async () => {
      const user = newUser();
      await expectProblem(await call(taskPath(user, id)), "validation_failed", "id");
    });
  }

  const writes: Array<[string, (user: string, id: string) => Promise<Response>]> = [
    ["PUT", (user, id) => call(taskPath(user, id), { method: "PUT", body: { title: "x" } })],
    ["PATCH", (user, id) => call(taskPath(user, id), { method: "PATCH", body: { title: "x" } })],
    ["DELETE", (user, id) => call(taskPath(user, id), { method: "DELETE" })],
    ["PATCH /complete", (user, id) => call(completePath(user, id), { method: "PATCH" })],
  ];
  for (const [name, write] of writes) {
    for (const id of ["abc", "0"]) {
      it(`returns 422 naming "id" for ${name} with id ${JSON.stringify(id)}`, async () => {
        const user = newUser();
        await expectProblem(await write(user, id), "validation_failed", "id");
      });
    }
  }
});

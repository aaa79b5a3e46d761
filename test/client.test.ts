// The typed client for frontends (client/: types generated from /openapi.json by
// openapi-typescript, calls by openapi-fetch) against the real Worker: the sync loop a frontend
// runs, with its batch, works end to end, a problem arrives typed with its code, lists page
// through their Link header, and watchChanges keeps a copy in step through /live, across an
// expired token. (test/client-package.test.ts installs the built package; test/unit/client-live.test.ts
// covers watchChanges' reconnections with a fake socket.)
import { describe, expect, it } from "vitest";
import {
  type Change,
  createTaskClient,
  type List,
  nextCursor,
  pullChanges,
  type Task,
  TaskApiError,
  unwrap,
  watchChanges,
} from "../client/index.ts";
import { createTask, newUser, tokenFor, workerUrl } from "./support/api.ts";

describe("client/ (openapi-typescript + openapi-fetch)", () => {
  it("creates in a batch, pulls the changes, and keeps a local copy equal to the list", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const api = createTaskClient({ baseUrl: workerUrl(), token: () => token });
    const local = new Map<number, Task>();
    const apply = (change: Parameters<Parameters<typeof pullChanges>[3]>[0]) => {
      if (change.op === "upsert") local.set(change.task.id, change.task);
      else local.delete(change.id);
    };

    let cursor = await pullChanges(api, user, undefined, apply);
    expect(local.size).toBe(0);
    const { data, error } = await api.POST("/api/{user_id}/tasks/batch", {
      params: { path: { user_id: user } },
      body: {
        operations: [
          { op: "create", task: { title: "from the typed client" } },
          { op: "create", task: { title: "and another" } },
        ],
      },
    });
    expect(error).toBeUndefined();
    const [first] = data?.results ?? [];
    if (first === undefined || !("task" in first)) throw new Error("no task created");
    await api.DELETE("/api/{user_id}/tasks/{id}", { params: { path: { user_id: user, id: first.task.id } } });
    cursor = await pullChanges(api, user, cursor, apply);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);

    const listed = await api.GET("/api/{user_id}/tasks", { params: { path: { user_id: user } } });
    expect([...local.values()].sort((a, b) => a.id - b.id)).toEqual([...(listed.data ?? [])].sort((a, b) => a.id - b.id));
    expect([...local.values()].map((task) => task.title)).toEqual(["and another"]);
  });

  it("hands a list created through the API to the list callback, and its trip to the trash as a delete", async () => {
    const user = newUser();
    const api = createTaskClient({ baseUrl: workerUrl(), token: () => tokenFor(user) });
    const lists = new Map<number, List>();
    const tasks = new Map<number, Task>();
    const sync = (cursor: string | undefined) =>
      pullChanges(
        api,
        user,
        cursor,
        (change) => (change.op === "upsert" ? tasks.set(change.task.id, change.task) : tasks.delete(change.id)),
        { onList: (change) => (change.op === "upsert" ? lists.set(change.list.id, change.list) : lists.delete(change.id)) },
      );
    // A full sync includes the Inbox (created on first use).
    let cursor = await sync(undefined);
    expect([...lists.values()].map((list) => [list.name, list.inbox])).toEqual([["Inbox", true]]);

    const path = { user_id: user };
    const work = unwrap(await api.POST("/api/{user_id}/lists", { params: { path }, body: { name: "Work", color: "#1A73E8" } }));
    const task = unwrap(await api.POST("/api/{user_id}/tasks", { params: { path }, body: { title: "in Work", list_id: work.id } }));
    cursor = await sync(cursor);
    expect(lists.get(work.id)).toEqual(work);
    expect(lists.get(work.id)?.color).toBe("#1a73e8");
    expect(tasks.get(task.id)?.list_id).toBe(work.id);

    unwrap(await api.DELETE("/api/{user_id}/lists/{list_id}", { params: { path: { ...path, list_id: work.id } } }));
    await sync(cursor);
    expect([...lists.keys()]).not.toContain(work.id);
    expect(tasks.has(task.id)).toBe(false);
  });

  it("throws the API's problem, typed, with its code", async () => {
    const user = newUser();
    const api = createTaskClient({ baseUrl: workerUrl(), token: () => tokenFor(user) });
    const error = await pullChanges(api, user, "not-a-cursor", () => {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TaskApiError);
    expect((error as TaskApiError).problem).toMatchObject({ code: "validation_failed", status: 422 });
  });

  it("unwraps a result to its data, a 204 to undefined, and a problem to a TaskApiError", async () => {
    const user = newUser();
    const api = createTaskClient({ baseUrl: workerUrl(), token: () => tokenFor(user) });
    const task = unwrap(await api.POST("/api/{user_id}/tasks", { params: { path: { user_id: user } }, body: { title: "unwrapped" } }));
    expect(task).toMatchObject({ title: "unwrapped", version: 1 });
    const one = { path: { user_id: user, id: task.id } };
    expect(unwrap(await api.DELETE("/api/{user_id}/tasks/{id}", { params: one }))).toBeUndefined();
    const gone = await api.GET("/api/{user_id}/tasks/{id}", { params: one });
    expect(() => unwrap(gone)).toThrow(TaskApiError);
    expect(() => unwrap(gone)).toThrow(expect.objectContaining({ code: "task_not_found", status: 404 }));
  });

  it("pages through a list with nextCursor(), to exactly the tasks there are", async () => {
    const user = newUser();
    for (const title of ["a", "b", "c"]) await createTask(user, { title });
    const api = createTaskClient({ baseUrl: workerUrl(), token: () => tokenFor(user) });
    const titles: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api.GET("/api/{user_id}/tasks", {
        params: { path: { user_id: user }, query: { sort: "title", limit: 2, ...(cursor === undefined ? {} : { cursor }) } },
      });
      titles.push(...unwrap(page).map((task) => task.title));
      cursor = nextCursor(page.response);
      pages++;
    } while (cursor !== undefined);
    expect([titles, pages]).toEqual([["a", "b", "c"], 2]);
  });

  it("nextCursor() resolves a relative Link against the response's URL", () => {
    const response = new Response(null, { headers: { Link: '</api/u/tasks?limit=2&cursor=abc_-1>; rel="next"' } });
    Object.defineProperty(response, "url", { value: "https://tasks.example.com/api/u/tasks?limit=2" });
    expect(nextCursor(response)).toBe("abc_-1");
    expect(nextCursor(new Response(null))).toBeUndefined();
    expect(nextCursor(new Response(null, { headers: { Link: '<https://x.example/?cursor=p>; rel="prev"' } }))).toBeUndefined();
  });
});

/** `promise`, or a failure naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("watchChanges against the Worker", () => {
  /** Starts watchChanges for `user` and resolves `until` once a sync leaves the copy satisfying it. */
  function follow(user: string, token: () => Promise<string>, cursor?: string) {
    const tasks = new Map<number, Task>();
    const errors: unknown[] = [];
    const waiters: Array<{ test: () => boolean; resolve: () => void }> = [];
    const synced: string[] = [];
    const close = watchChanges({
      baseUrl: workerUrl(),
      userId: user,
      token,
      cursor,
      onChange: (change: Change) => {
        if (change.op === "upsert") tasks.set(change.task.id, change.task);
        else tasks.delete(change.id);
      },
      onReset: () => tasks.clear(),
      onSync: (at) => {
        synced.push(at);
        for (const waiter of waiters.splice(0)) {
          if (waiter.test()) waiter.resolve();
          else waiters.push(waiter);
        }
      },
      onError: (error) => errors.push(error),
    });
    const until = async (test: () => boolean, what: string, ms = 30_000) => {
      const reached = new Promise<void>((resolve) => {
        if (test()) resolve();
        else waiters.push({ test, resolve });
      });
      await within(reached, ms, what).catch((error: Error) => {
        throw new Error(`${error.message}; errors on the way: ${errors.map(String).join("; ") || "none"}`);
      });
    };
    return { tasks, errors, synced, close, until };
  }

  const titles = (tasks: Map<number, Task>) => [...tasks.values()].map((task) => task.title).sort();

  it("syncs in full after ready, then hears of each write elsewhere", async () => {
    const user = newUser();
    await createTask(user, { title: "before" });
    const token = await tokenFor(user);
    const watcher = follow(user, async () => token);
    try {
      await watcher.until(() => watcher.tasks.size === 1, "synced in full");
      const later = await createTask(user, { title: "after" });
      await watcher.until(() => watcher.tasks.has(later.id), "told of the create");
      const api = createTaskClient({ baseUrl: workerUrl(), token: () => token });
      unwrap(await api.DELETE("/api/{user_id}/tasks/{id}", { params: { path: { user_id: user, id: later.id } } }));
      await watcher.until(() => !watcher.tasks.has(later.id), "told of the delete");
      expect(titles(watcher.tasks)).toEqual(["before"]);
      expect(watcher.errors).toEqual([]);
    } finally {
      watcher.close();
    }
  });

  it("starts from a kept cursor: only what changed since arrives", async () => {
    const user = newUser();
    await createTask(user, { title: "already here" });
    const api = createTaskClient({ baseUrl: workerUrl(), token: () => tokenFor(user) });
    const cursor = await pullChanges(api, user, undefined, () => {});
    await createTask(user, { title: "new since" });
    const watcher = follow(user, () => tokenFor(user), cursor);
    try {
      await watcher.until(() => watcher.tasks.size > 0, "synced since the cursor");
      expect(titles(watcher.tasks)).toEqual(["new since"]);
    } finally {
      watcher.close();
    }
  });

  it("after expired (4401), connects again with a fresh token and keeps hearing writes", async () => {
    const user = newUser();
    let asked = 0;
    let renewed: () => void = () => {};
    const secondToken = new Promise<void>((resolve) => {
      renewed = resolve;
    });
    // The first token expires in 3 s (the Worker says expired and closes with 4401); the next ones last.
    const token = () => {
      asked++;
      if (asked === 2) renewed();
      return tokenFor(user, { expiresIn: asked === 1 ? 3 : 3600 });
    };
    const watcher = follow(user, token);
    try {
      await watcher.until(() => watcher.synced.length > 0, "synced in full");
      await within(secondToken, 30_000, "a second token() after expired");
      const task = await createTask(user, { title: "after the new token" });
      await watcher.until(() => watcher.tasks.has(task.id), "told of a write on the new connection");
      expect(watcher.errors).toEqual([]);
    } finally {
      watcher.close();
    }
  });
});

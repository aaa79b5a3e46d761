// GET /api/{user_id}/changes (API.md "Changes"): the full state, then only what changed, each
// task once in its latest state, deletions kept 30 days (in the trash; older cursors are a 410),
// pages with has_more, cursors that are opaque, checked, and useless for another user's data.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, createTask, expectProblem, newUser, type Task } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { startTestWorker } from "./support/transport.ts";

interface Change {
  op: "upsert" | "delete";
  task?: Task;
  id?: number;
}
interface ListChange {
  op: "upsert" | "delete";
  list?: { id: number; inbox: boolean };
  id?: number;
}
interface ChangesPage {
  changes: Change[];
  lists: ListChange[];
  cursor: string;
  has_more: boolean;
}

let db: pg.Client;
beforeAll(async () => {
  db = new pg.Client({ connectionString: inject("databaseUrl") });
  await db.connect();
});
afterAll(() => db.end());

async function pull(user: string, query: Record<string, string> = {}, base?: string): Promise<ChangesPage> {
  const response = await call(`/api/${user}/changes?${new URLSearchParams(query)}`, base === undefined ? {} : { base });
  if (response.status !== 200) throw new Error(`pull: ${response.status} ${await response.text()}`);
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  return (await response.json()) as ChangesPage;
}

const ids = (page: ChangesPage) => page.changes.map((change) => change.task?.id ?? change.id);

describe("GET /api/{user_id}/changes", () => {
  it("without since: every current task as an upsert, in the order they changed, and a cursor", async () => {
    const user = newUser();
    const a = await createTask(user, { title: "a" });
    const b = await createTask(user, { title: "b" });
    const page = await pull(user);
    expect(page).toEqual({
      changes: [
        { op: "upsert", task: a },
        { op: "upsert", task: b },
      ],
      // And the lists beside them: the Inbox, where both are.
      lists: [{ op: "upsert", list: expect.objectContaining({ id: a.list_id, inbox: true }) }],
      // No shared lists, no memberships.
      members: [],
      cursor: expect.any(String),
      has_more: false,
    });
    expect(page.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("for a user with nothing yet: no changes and a cursor, which later shows the first task", async () => {
    const user = newUser();
    const empty = await pull(user);
    expect(empty.changes).toEqual([]);
    const task = await createTask(user, { title: "first" });
    expect((await pull(user, { since: empty.cursor })).changes).toEqual([{ op: "upsert", task }]);
  });

  it("with since: only what changed after it; an unchanged user gets [] and a cursor to reuse", async () => {
    const user = newUser();
    await createTask(user, { title: "old" });
    const changed = await createTask(user, { title: "to change" });
    const first = await pull(user);
    const again = await pull(user, { since: first.cursor });
    expect(again).toEqual({ changes: [], lists: [], members: [], cursor: first.cursor, has_more: false });
    const patched = (await (
      await call(`/api/${user}/tasks/${changed.id}`, { method: "PATCH", body: { priority: "high" } })
    ).json()) as Task;
    expect((await pull(user, { since: first.cursor })).changes).toEqual([{ op: "upsert", task: patched }]);
  });

  it("shows a task changed twice once, in its latest state", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "twice" });
    const { cursor } = await pull(user);
    await call(`/api/${user}/tasks/${task.id}`, { method: "PATCH", body: { title: "once" } });
    const latest = (await (await call(`/api/${user}/tasks/${task.id}/complete`, { method: "PATCH" })).json()) as Task;
    const page = await pull(user, { since: cursor });
    expect(page.changes).toEqual([{ op: "upsert", task: latest }]);
    expect(latest).toMatchObject({ title: "once", completed: true, version: 3 });
  });

  it("shows a deletion as {op: delete, id}, and a task created and deleted since as just its deletion", async () => {
    const user = newUser();
    const kept = await createTask(user, { title: "kept" });
    const doomed = await createTask(user, { title: "doomed" });
    const { cursor } = await pull(user);
    const brief = await createTask(user, { title: "brief" });
    expect((await call(`/api/${user}/tasks/${doomed.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/api/${user}/tasks/${brief.id}`, { method: "DELETE" })).status).toBe(204);
    const page = await pull(user, { since: cursor });
    expect(page.changes).toEqual([
      { op: "delete", id: doomed.id },
      { op: "delete", id: brief.id },
    ]);
    // The full state has no deletions, only what is there.
    expect((await pull(user)).changes).toEqual([{ op: "upsert", task: kept }]);
  });

  it("records nothing for a write that changed nothing (412, 404)", async () => {
    const user = newUser();
    const task = await createTask(user);
    const { cursor } = await pull(user);
    const stale = await call(`/api/${user}/tasks/${task.id}`, { method: "PATCH", body: { title: "x" }, headers: { "If-Match": '"99"' } });
    await expectProblem(stale, "precondition_failed");
    await expectProblem(await call(`/api/${user}/tasks/999999999`, { method: "DELETE" }), "task_not_found");
    expect(await pull(user, { since: cursor })).toEqual({ changes: [], lists: [], members: [], cursor, has_more: false });
  });

  describe("pages", () => {
    it("limit=1 walks every change once (the lists' and the tasks' together), with has_more on all pages but the last", async () => {
      const user = newUser();
      const tasks = [
        await createTask(user, { title: "1" }),
        await createTask(user, { title: "2" }),
        await createTask(user, { title: "3" }),
      ];
      const seen: string[] = [];
      const hasMore: boolean[] = [];
      let since: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await pull(user, { limit: "1", ...(since === undefined ? {} : { since }) });
        seen.push(...ids(page).map((id) => `task ${id}`), ...page.lists.map((change) => `list ${change.list?.id ?? change.id}`));
        hasMore.push(page.has_more);
        since = page.cursor;
        if (!page.has_more) break;
      }
      // The Inbox first: the first task's create made it.
      expect(seen).toEqual([`list ${tasks[0]?.list_id}`, ...tasks.map((task) => `task ${task.id}`)]);
      expect(hasMore).toEqual([true, true, true, false]);
    });

    it("has_more is false when the page is exactly full, and the next pull is empty", async () => {
      const user = newUser();
      await createTask(user);
      await createTask(user);
      // Two tasks and their Inbox.
      const page = await pull(user, { limit: "3" });
      expect(page.changes).toHaveLength(2);
      expect(page.lists).toHaveLength(1);
      expect(page.has_more).toBe(false);
      expect((await pull(user, { since: page.cursor })).changes).toEqual([]);
    });

    it("accepts limit 1 and 1000 and defaults to 500", async () => {
      const user = newUser();
      await createTask(user);
      const all = await pull(user, { limit: "1000" });
      expect([all.changes.length, all.lists.length]).toEqual([1, 1]);
      // The Inbox, made before its first task, is the first change.
      const one = await pull(user, { limit: "1" });
      expect([one.changes.length, one.lists.length, one.has_more]).toEqual([0, 1, true]);
      const doc = (await (await call("/openapi.json")).json()) as {
        paths: Record<string, { get: { parameters: Array<{ name: string; schema: { default?: number } }> } }>;
      };
      expect(doc.paths["/api/{user_id}/changes"]?.get.parameters.find((p) => p.name === "limit")?.schema.default).toBe(500);
    });

    it.each([["0"], ["1001"], ["-1"], ["1.5"], ["ten"], [""]])("answers 422 naming limit for limit=%s", async (limit) => {
      await expectProblem(await call(`/api/${newUser()}/changes?limit=${limit}`), "validation_failed", "limit");
    });

    it("answers 422 for an unknown or repeated query parameter", async () => {
      const user = newUser();
      await expectProblem(await call(`/api/${user}/changes?cursor=abc`), "validation_failed", "cursor");
      await expectProblem(await call(`/api/${user}/changes?limit=1&limit=2`), "validation_failed", "limit");
    });
  });

  describe("cursors", () => {
    const base64url = (text: string) => Buffer.from(text).toString("base64url");

    it.each([
      ["garbage", "not a cursor!"],
      ["base64url of something else", base64url('{"position":3}')],
      ["a negative position", base64url("c1.-1")],
      ["a leading zero", base64url("c1.01")],
      ["a huge position", base64url(`c1.${"9".repeat(30)}`)],
      ["too long", "A".repeat(200)],
    ])("answers 422 naming since for %s", async (_label, since) => {
      await expectProblem(await call(`/api/${newUser()}/changes?since=${encodeURIComponent(since)}`), "validation_failed", "since");
    });

    it("answers 422 for a cursor past anything this user's feed handed out (another user's, say)", async () => {
      const busy = newUser();
      for (let i = 0; i < 3; i++) await createTask(busy);
      const { cursor } = await pull(busy);
      const quiet = newUser();
      await createTask(quiet);
      await expectProblem(await call(`/api/${quiet}/changes?since=${cursor}`), "validation_failed", "since");
    });

    it("shows only the caller's own tasks for a cursor taken from another user", async () => {
      const alice = newUser();
      const bob = newUser();
      await createTask(bob, { title: "bob's" });
      const { cursor: bobsCursor } = await pull(bob);
      for (let i = 0; i < 3; i++) await createTask(alice, { title: `alice's ${i}` });
      const page = await pull(alice, { since: bobsCursor });
      expect(page.changes.length).toBeGreaterThan(0);
      for (const change of page.changes) expect(change.task?.user_id).toBe(alice);
    });

    it("reveals no task content: it decodes to no title, id or tag", async () => {
      const user = newUser();
      await createTask(user, { title: "secret title", tags: ["secret-tag"] });
      const { cursor } = await pull(user);
      const decoded = Buffer.from(cursor, "base64url").toString("utf8");
      expect(decoded).not.toMatch(/secret/);
      expect(decoded).toMatch(/^c1\.\d+$/);
    });
  });
});

describe("deletions and retention: the trash, purged after 30 days", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET } });
  });
  afterAll(() => worker?.stop());

  /** Moves a user's deletions (in the trash, and old tombstones) `days` into the past, as the clock would. */
  const age = async (user: string, days: number) => {
    for (const table of ["tasks", "lists", "task_tombstones"]) {
      await db.query(
        `UPDATE ${table} SET deleted_at = deleted_at - make_interval(days => $2) WHERE user_id = $1 AND deleted_at IS NOT NULL`,
        [user, days],
      );
    }
  };
  const cron = "0 * * * *";

  it("keeps deletions 30 days; after the hourly purge, a cursor from before a purged deletion is a 410 cursor_expired", async () => {
    const user = newUser();
    const old = await createTask(user, { title: "deleted long ago" });
    const { cursor: before } = await pull(user, {}, worker.url);
    await call(`/api/${user}/tasks/${old.id}`, { method: "DELETE", base: worker.url });
    const { cursor: afterOld } = await pull(user, { since: before }, worker.url);
    await age(user, 29);
    expect(await worker.scheduled(cron)).toBe("ok");
    // 29 days old: still there.
    expect((await pull(user, { since: before }, worker.url)).changes).toEqual([{ op: "delete", id: old.id }]);
    await age(user, 2);
    expect(await worker.scheduled(cron)).toBe("ok");
    await expectProblem(await call(`/api/${user}/changes?since=${before}`, { base: worker.url }), "cursor_expired");
    // Gone for good: no longer restorable.
    await expectProblem(await call(`/api/${user}/tasks/${old.id}/restore`, { method: "POST", base: worker.url }), "task_not_found");
    // A cursor from after the purged deletion still works, and a full sync always does.
    expect((await pull(user, { since: afterOld }, worker.url)).changes).toEqual([]);
    expect((await pull(user, {}, worker.url)).changes).toEqual([]);
  });

  it("purges only what is over 30 days in the trash: tasks, lists with their tasks, and the old tombstones", async () => {
    const user = newUser();
    const old = await createTask(user, { title: "old" });
    const recent = await createTask(user, { title: "recent" });
    const kept = await createTask(user, { title: "kept" });
    const list = (await (await call(`/api/${user}/lists`, { method: "POST", body: { name: "old list" } })).json()) as { id: number };
    const inList = await createTask(user, { title: "in the old list", list_id: list.id });
    expect((await call(`/api/${user}/tasks/${old.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/api/${user}/lists/${list.id}`, { method: "DELETE" })).status).toBe(204);
    await age(user, 31);
    expect((await call(`/api/${user}/tasks/${recent.id}`, { method: "DELETE" })).status).toBe(204);
    // Tombstones as deletions wrote them before the trash existed (migration 0008): one 31 days
    // old, one recent, at the user's next two change positions.
    await db.query(
      `WITH s AS (UPDATE sync_state SET position = position + 2 WHERE user_id = $1 RETURNING position)
       INSERT INTO task_tombstones (user_id, position, task_id, deleted_at)
       SELECT $1, s.position - 1, 999999991, statement_timestamp() - interval '31 days' FROM s
       UNION ALL SELECT $1, s.position, 999999992, statement_timestamp() FROM s`,
      [user],
    );
    expect(await worker.scheduled(cron)).toBe("ok");
    const { rows: tasks } = await db.query<{ id: string; deleted: boolean }>(
      "SELECT id, deleted_at IS NOT NULL AS deleted FROM tasks WHERE user_id = $1 ORDER BY id",
      [user],
    );
    expect(tasks.map((row) => [Number(row.id), row.deleted])).toEqual([
      [recent.id, true],
      [kept.id, false],
    ]);
    expect(inList.id).toBeGreaterThan(kept.id);
    const { rows: lists } = await db.query<{ inbox: boolean }>("SELECT inbox FROM lists WHERE user_id = $1", [user]);
    expect(lists).toEqual([{ inbox: true }]);
    const { rows: tombstones } = await db.query<{ task_id: string }>("SELECT task_id FROM task_tombstones WHERE user_id = $1", [user]);
    expect(tombstones.map((row) => Number(row.task_id))).toEqual([999999992]);
  });
});

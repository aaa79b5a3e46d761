// Migration 0008 (lists, order, trash) on a database as the previous release left it (migrated up
// to 0007, with users' tasks and change feeds): every user gets exactly one Inbox, their tasks go
// into it in the order they were created with distinct order keys, and the change feed reports
// the Inbox to a client whose cursor is from before the migration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../scripts/lib/migrate.ts";
import { newUser } from "./support/api.ts";
import { type ScratchDatabase, scratchDatabase } from "./support/database.ts";

let database: ScratchDatabase;
const alice = newUser();
const bob = newUser();
/** A user whose tasks were all deleted before the trash existed: a change feed and tombstones, no task. */
const carol = newUser();
const ALICE_TASKS = 70;
const heads = new Map<string, number>();

beforeAll(async () => {
  database = await scratchDatabase({ upTo: "0007_search-index" });
  const db = database.admin;
  // Alice's tasks are created in the reverse of their ids' order, two of them at one instant (ties
  // go by id); 70 of them, past the 62 one-character keys. Each change took the next position.
  await db.query(
    `INSERT INTO tasks (user_id, title, created_at, updated_at, position)
     SELECT $1, 'alice ' || i, timestamptz '2026-01-01T00:00:00Z' - make_interval(secs => CASE WHEN i = 2 THEN 1 ELSE i END),
            timestamptz '2026-01-02T00:00:00Z', i
     FROM generate_series(1, $2::integer) AS i`,
    [alice, ALICE_TASKS],
  );
  await db.query(
    `INSERT INTO tasks (user_id, title, created_at, updated_at, position)
     SELECT $1, 'bob ' || i, timestamptz '2026-03-01T00:00:00Z' + make_interval(secs => i), timestamptz '2026-03-02T00:00:00Z', i
     FROM generate_series(1, 3) AS i`,
    [bob],
  );
  await db.query("INSERT INTO task_tombstones (user_id, position, task_id, deleted_at) VALUES ($1, 2, 1, statement_timestamp())", [carol]);
  await db.query("INSERT INTO sync_state (user_id, position) VALUES ($1, $2), ($3, 3), ($4, 2)", [alice, ALICE_TASKS, bob, carol]);
  for (const [user, head] of [
    [alice, ALICE_TASKS],
    [bob, 3],
    [carol, 2],
  ] as const)
    heads.set(user, head);
  expect(await migrate(database.url)).toContain("0008_lists");
}, 120_000);

afterAll(async () => {
  await database?.drop();
});

describe("migration 0008 on a database with tasks", () => {
  it("gives every user with tasks or a change feed exactly one list, their Inbox", async () => {
    const { rows } = await database.admin.query<{ user_id: string; name: string; inbox: boolean; deleted: boolean }>(
      "SELECT user_id, name, inbox, deleted_at IS NOT NULL AS deleted FROM lists WHERE user_id = ANY ($1) ORDER BY user_id",
      [[alice, bob, carol]],
    );
    expect(rows).toEqual([alice, bob, carol].sort().map((user_id) => ({ user_id, name: "Inbox", inbox: true, deleted: false })));
  });

  it.each([
    ["alice", alice, ALICE_TASKS],
    ["bob", bob, 3],
  ])("puts every task of %s into the Inbox, top level, in created order, with distinct keys", async (_name, user, count) => {
    const { rows } = await database.admin.query<{
      id: string;
      list_ok: boolean;
      parent_id: string | null;
      deleted: boolean;
      sort_key: string;
    }>(
      `SELECT t.id, t.list_id = l.id AS list_ok, t.parent_id, t.deleted_at IS NOT NULL AS deleted, t.sort_key
       FROM tasks t JOIN lists l ON l.user_id = t.user_id AND l.inbox
       WHERE t.user_id = $1 ORDER BY t.created_at, t.id`,
      [user],
    );
    expect(rows).toHaveLength(count);
    expect(rows.every((row) => row.list_ok && row.parent_id === null && !row.deleted)).toBe(true);
    const keys = rows.map((row) => row.sort_key);
    expect(new Set(keys).size).toBe(count);
    // Byte order of the keys is the created order.
    const byKey = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(byKey).toEqual(keys);
    const { rows: listed } = await database.admin.query<{ id: string }>(
      `SELECT t.id FROM tasks t WHERE t.user_id = $1 ORDER BY COALESCE(t.parent_id, 0), t.sort_key`,
      [user],
    );
    expect(listed.map((row) => row.id)).toEqual(rows.map((row) => row.id));
  });

  it.each([
    ["alice", alice],
    ["carol", carol],
  ])("reports the Inbox in %s's change feed after a cursor from before the migration, at the next position", async (_name, user) => {
    const head = heads.get(user) ?? 0;
    const { rows } = await database.admin.query<{ kind: string; pos: string | null; body: string | null; head: string | null }>(
      "SELECT kind, pos, body, head FROM task_changes($1, $2, 100)",
      [user, head],
    );
    expect(rows.find((row) => row.kind === "state")?.head).toBe(String(head + 1));
    const changed = rows.filter((row) => row.kind !== "state");
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ kind: "list", pos: String(head + 1) });
    expect(JSON.parse(changed[0]?.body ?? "null")).toMatchObject({ user_id: user, name: "Inbox", inbox: true, version: 1 });
  });

  it("puts a task created after the migration last in the Inbox", async () => {
    const task = { title: "new", description: null, completed: false, priority: "medium", tags: [], due_date: null, recurrence: null };
    const { rows } = await database.admin.query<{ status: number; task: string }>(
      "SELECT status, task FROM task_write($1, $2::jsonb, NULL, NULL, '{}'::jsonb)",
      [bob, JSON.stringify([{ op: "create", task }])],
    );
    expect(rows.map((row) => row.status)).toEqual([201]);
    const created = JSON.parse(rows[0]?.task ?? "null") as { id: number };
    const { rows: last } = await database.admin.query<{ id: string }>(
      "SELECT id FROM tasks WHERE user_id = $1 ORDER BY sort_key DESC LIMIT 1",
      [bob],
    );
    expect(Number(last[0]?.id)).toBe(created.id);
  });
});

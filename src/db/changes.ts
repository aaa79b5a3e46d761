// The change feed (docs/api.md "Changes"): what changed for a user after a position, tasks and
// lists, in one statement (task_changes in src/db/functions.sql) on the (user_id, position)
// indexes, whatever the user's size. Why `position > since` is exact under concurrent writes:
// see task_lock_user in functions.sql.
import type { Db } from "./client.ts";
import { type Sql, sql } from "./sql.ts";

export type ChangesPage =
  | {
      kind: "page";
      /** Each task change as the API's JSON: {"op":"upsert","task":…} or {"op":"delete","id":…}. */
      changes: string[];
      /** Each list change: {"op":"upsert","list":…} or {"op":"delete","id":…}. */
      lists: string[];
      /** Each membership change of a shared list: {"op":"upsert","member":…} or {"op":"delete","id":…}. */
      members: string[];
      /** Where the next pull starts. */
      position: number;
      hasMore: boolean;
    }
  /** `since` is older than the deletions kept: the client must sync again from the start. */
  | { kind: "expired" }
  /** `since` is past anything this user's feed ever handed out: not one of this user's cursors. */
  | { kind: "unknown" };

interface Row {
  pos: string | null;
  kind: "state" | "task" | "list" | "member";
  id: string | null;
  body: string | null;
  head: string | null;
  horizon: string | null;
}

/** The statement of GET …/changes: a full sync (since null) first makes sure the Inbox exists. */
export const changesStatement = (userId: string, since: number | null, limit: number): Sql =>
  sql`SELECT * FROM task_changes(${userId}, ${since}::bigint, ${limit}::integer)`;

/** The rows of that statement, as a plain query the benchmark's plan check can EXPLAIN. */
export const changesRowsStatement = (userId: string, since: number | null, limit: number): Sql =>
  sql`SELECT * FROM task_changes_rows(${userId}, ${since}::bigint, ${limit}::integer)`;

/**
 * The changes after `since` (null: the full state, every current task and list and no
 * deletions), in position order, at most `limit`; each task or list at most once, in its latest
 * state (a row holds only its last position; ids are never reused).
 */
export async function changesSince(db: Db, userId: string, since: number | null, limit: number): Promise<ChangesPage> {
  const after = since ?? 0;
  const rows = await db.query<Row>(changesStatement(userId, since, limit));
  const state = rows.find((row) => row.kind === "state");
  const head = Number(state?.head ?? 0);
  if (since !== null && since > head) return { kind: "unknown" };
  if (since !== null && since < Number(state?.horizon ?? 0)) return { kind: "expired" };
  const changed = rows.filter((row) => row.kind !== "state");
  const page = changed.slice(0, limit);
  const hasMore = changed.length > limit;
  const last = page.at(-1);
  const entry = (row: Row, field: "task" | "list" | "member") =>
    row.body === null ? `{"op":"delete","id":${row.id}}` : `{"op":"upsert","${field}":${row.body}}`;
  return {
    kind: "page",
    changes: page.filter((row) => row.kind === "task").map((row) => entry(row, "task")),
    lists: page.filter((row) => row.kind === "list").map((row) => entry(row, "list")),
    members: page.filter((row) => row.kind === "member").map((row) => entry(row, "member")),
    // The head, when nothing more follows: every position up to it is visible in this statement's
    // snapshot (the counter row and the rows are read together), so the next pull misses nothing.
    position: hasMore && last !== undefined ? Number(last.pos) : Math.max(head, after),
    hasMore,
  };
}

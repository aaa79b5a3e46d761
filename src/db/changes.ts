// The change feed (API.md "Changes"): what changed for a user after a position, in one statement
// on the (user_id, position) indexes of tasks and tombstones, whatever the user's size. Why
// `position > since` is exact under concurrent writes: see task_lock_user in functions.sql.
import type { Db } from "./client.ts";
import { type Sql, sql } from "./sql.ts";

export type ChangesPage =
  | {
      kind: "page";
      /** Each change as the API's JSON: {"op":"upsert","task":…} or {"op":"delete","id":…}. */
      changes: string[];
      /** Where the next pull starts. */
      position: number;
      hasMore: boolean;
    }
  /** `since` is older than the tombstones kept: the client must sync again from the start. */
  | { kind: "expired" }
  /** `since` is past anything this user's feed ever handed out: not one of this user's cursors. */
  | { kind: "unknown" };

interface Row {
  position: string | null;
  task_id: string | null;
  task: string | null;
  head: string | null;
  horizon: string | null;
}

/**
 * The changes after `since` (null: the full state, every current task and no deletions), in
 * position order, at most `limit`; each task at most once, in its latest state (a task row holds
 * only its last position; ids are never reused, so a deleted task has one tombstone and no row).
 */
/** The statement of GET …/changes (also EXPLAINed by the benchmark's plan check). */
export function changesStatement(userId: string, since: number | null, limit: number): Sql {
  const after = since ?? 0;
  return sql`
    WITH changed AS (
      (SELECT t.position, t.id AS task_id, task_json(t) AS task
       FROM tasks t WHERE t.user_id = ${userId} AND t.position > ${after}::bigint
       ORDER BY t.position LIMIT ${limit + 1}::integer)
      UNION ALL
      (SELECT d.position, d.task_id, NULL
       FROM task_tombstones d WHERE d.user_id = ${userId} AND d.position > ${after}::bigint AND ${since !== null}::boolean
       ORDER BY d.position LIMIT ${limit + 1}::integer))
    SELECT NULL::bigint AS position, NULL::bigint AS task_id, NULL::text AS task, s.position AS head, s.horizon
    FROM (SELECT 1) one LEFT JOIN sync_state s ON s.user_id = ${userId}
    UNION ALL
    (SELECT c.position, c.task_id, c.task, NULL, NULL FROM changed c ORDER BY c.position LIMIT ${limit + 1}::integer)`;
}

export async function changesSince(db: Db, userId: string, since: number | null, limit: number): Promise<ChangesPage> {
  const after = since ?? 0;
  const rows = await db.query<Row>(changesStatement(userId, since, limit));
  const state = rows.find((row) => row.position === null);
  const head = Number(state?.head ?? 0);
  if (since !== null && since > head) return { kind: "unknown" };
  if (since !== null && since < Number(state?.horizon ?? 0)) return { kind: "expired" };
  const changes = rows.filter((row) => row.position !== null);
  const page = changes.slice(0, limit);
  const hasMore = changes.length > limit;
  const last = page.at(-1);
  return {
    kind: "page",
    changes: page.map((row) => (row.task === null ? `{"op":"delete","id":${row.task_id}}` : `{"op":"upsert","task":${row.task}}`)),
    // The head, when nothing more follows: every position up to it is visible in this statement's
    // snapshot (the counter row and the tasks are read together), so the next pull misses nothing.
    position: hasMore && last !== undefined ? Number(last.position) : Math.max(head, after),
    hasMore,
  };
}

// The hourly Cron Trigger's one statement: Idempotency-Keys past their 24 hours; tasks and lists
// in the trash past the 30 days they stay restorable (and reported as deletions in the change
// feed), old tombstones (tasks deleted before the trash existed), and members' entries for what
// is gone for good (shared_changes, 30 days after they were written). Each user whose deletions
// went gets a horizon past them, so a cursor older than what is kept is a 410 rather than a
// silent gap.
import type { Db } from "./client.ts";
import { sql } from "./sql.ts";

/** How long deletions stay in the trash and in /changes: docs/api.md promises at least 30 days. */
export const TOMBSTONE_RETENTION = sql`interval '30 days'`;

export async function purgeExpired(db: Db): Promise<{ keys: number; tombstones: number; tasks: number; lists: number }> {
  const [row] = await db.query<{ keys: number; tombstones: number; tasks: number; lists: number }>(sql`
    WITH keys AS (
      DELETE FROM idempotency_keys WHERE created_at <= statement_timestamp() - interval '24 hours' RETURNING 1),
    tombstones AS (
      DELETE FROM task_tombstones WHERE deleted_at <= statement_timestamp() - ${TOMBSTONE_RETENTION} RETURNING user_id, position),
    purged_tasks AS (
      DELETE FROM tasks WHERE deleted_at <= statement_timestamp() - ${TOMBSTONE_RETENTION} RETURNING user_id, position),
    purged_lists AS (
      -- A list goes with the tasks it took to the trash (the same deleted_at): none is left in it.
      DELETE FROM lists WHERE deleted_at <= statement_timestamp() - ${TOMBSTONE_RETENTION} RETURNING user_id, position),
    shared AS (
      -- A member's entry for a task, list or membership that is gone for good (purged before this
      -- run, or a membership ended), 30 days after it was written: a deletion kept as long as any.
      DELETE FROM shared_changes c WHERE c.changed_at <= statement_timestamp() - ${TOMBSTONE_RETENTION} AND NOT CASE c.kind
        WHEN 'task' THEN EXISTS (SELECT 1 FROM tasks t WHERE t.id = c.id)
        WHEN 'list' THEN EXISTS (SELECT 1 FROM lists l WHERE l.id = c.id)
        ELSE EXISTS (SELECT 1 FROM list_members m WHERE m.id = c.id) END
      RETURNING user_id, position),
    horizons AS (
      UPDATE sync_state s SET horizon = GREATEST(s.horizon, purged.position)
      FROM (SELECT user_id, max(position) AS position
            FROM (SELECT * FROM tombstones UNION ALL SELECT * FROM purged_tasks UNION ALL SELECT * FROM purged_lists UNION ALL SELECT * FROM shared) gone
            GROUP BY user_id) purged
      WHERE s.user_id = purged.user_id
      RETURNING 1)
    SELECT (SELECT count(*)::int FROM keys) AS keys, (SELECT count(*)::int FROM tombstones) AS tombstones,
           (SELECT count(*)::int FROM purged_tasks) AS tasks, (SELECT count(*)::int FROM purged_lists) AS lists,
           (SELECT count(*)::int FROM horizons) AS users`);
  return { keys: row?.keys ?? 0, tombstones: row?.tombstones ?? 0, tasks: row?.tasks ?? 0, lists: row?.lists ?? 0 };
}

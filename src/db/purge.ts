// The hourly Cron Trigger's one statement: Idempotency-Keys past their 24 hours, and tombstones
// past the 30 days the change feed keeps them; each user whose tombstones went gets a horizon
// past them, so a cursor older than what is kept is a 410 rather than a silent gap.
import type { Db } from "./client.ts";
import { sql } from "./sql.ts";

/** How long deletions stay in /changes: API.md promises at least 30 days. */
export const TOMBSTONE_RETENTION = sql`interval '30 days'`;

export async function purgeExpired(db: Db): Promise<{ keys: number; tombstones: number }> {
  const [row] = await db.query<{ keys: number; tombstones: number }>(sql`
    WITH keys AS (
      DELETE FROM idempotency_keys WHERE created_at <= statement_timestamp() - interval '24 hours' RETURNING 1),
    tombstones AS (
      DELETE FROM task_tombstones WHERE deleted_at <= statement_timestamp() - ${TOMBSTONE_RETENTION} RETURNING user_id, position),
    horizons AS (
      UPDATE sync_state s SET horizon = GREATEST(s.horizon, purged.position)
      FROM (SELECT user_id, max(position) AS position FROM tombstones GROUP BY user_id) purged
      WHERE s.user_id = purged.user_id
      RETURNING 1)
    SELECT (SELECT count(*)::int FROM keys) AS keys, (SELECT count(*)::int FROM tombstones) AS tombstones,
           (SELECT count(*)::int FROM horizons) AS users`);
  return { keys: row?.keys ?? 0, tombstones: row?.tombstones ?? 0 };
}

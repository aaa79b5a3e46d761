// GET /trash: what a user deleted in the last 30 days and can restore, newest first, in keyset
// pages, one statement: their own tasks and lists, and the tasks of lists shared with them as an
// editor (whoever deleted them). Only what was deleted on its own: the subtasks that went with a task, and
// the tasks that went with a list, come back when it does and are not listed apart.
import type { Db } from "./client.ts";
import { type Sql, sql } from "./sql.ts";

/** Where a trash page ends: the last entry's deletion time, kind and id. */
export interface TrashKeyset {
  deletedAt: string;
  kind: "list" | "task";
  id: number;
}

export interface TrashPage {
  /** Each entry as the API's JSON: {"type","deleted_at","purge_at","task"|"list"}. */
  entries: string[];
  next: TrashKeyset | undefined;
}

const timestamp = (column: Sql) => sql`to_char((${column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export async function readTrash(db: Db, userId: string, limit: number, after: TrashKeyset | undefined): Promise<TrashPage> {
  const before = (deletedAt: Sql, kind: string, id: Sql) =>
    after === undefined
      ? sql`true`
      : sql`(${deletedAt}, ${kind}::text, ${id}) < (${after.deletedAt}::timestamptz, ${after.kind}::text, ${after.id}::bigint)`;
  const rows = await db.query<{ kind: "list" | "task"; id: string; deleted: string; entry: string }>(sql`
    SELECT x.kind, x.id, ${timestamp(sql`x.deleted_at`)} AS deleted,
           '{"type":"' || x.kind || '","deleted_at":"' || ${timestamp(sql`x.deleted_at`)} || '","purge_at":"'
             || ${timestamp(sql`x.deleted_at + interval '30 days'`)} || '","' || x.kind || '":' || x.body || '}' AS entry
    FROM (
      (SELECT 'task'::text AS kind, t.id, t.deleted_at, task_body(t) AS body FROM tasks t
       WHERE t.user_id = ${userId} AND t.deleted_at IS NOT NULL AND t.deleted_with_task IS NULL AND t.deleted_with_list IS NULL
         AND ${before(sql`t.deleted_at`, "task", sql`t.id`)}
       ORDER BY t.deleted_at DESC, t.id DESC LIMIT ${limit + 1}::integer)
      UNION ALL
      -- The tasks deleted on their own in lists shared with the user as an editor: theirs to restore too.
      (SELECT 'task'::text AS kind, t.id, t.deleted_at, task_body(t) AS body
       FROM list_members m JOIN tasks t ON t.list_id = m.list_id
       WHERE m.user_id = ${userId} AND m.role = 'editor'
         AND t.deleted_at IS NOT NULL AND t.deleted_with_task IS NULL AND t.deleted_with_list IS NULL
         AND ${before(sql`t.deleted_at`, "task", sql`t.id`)}
       ORDER BY t.deleted_at DESC, t.id DESC LIMIT ${limit + 1}::integer)
      UNION ALL
      (SELECT 'list'::text, l.id, l.deleted_at, list_json(l, 'owner') FROM lists l
       WHERE l.user_id = ${userId} AND l.deleted_at IS NOT NULL AND ${before(sql`l.deleted_at`, "list", sql`l.id`)}
       ORDER BY l.deleted_at DESC, l.id DESC LIMIT ${limit + 1}::integer)) x
    ORDER BY x.deleted_at DESC, x.kind DESC, x.id DESC
    LIMIT ${limit + 1}::integer`);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    entries: page.map((row) => row.entry),
    next: rows.length > limit && last !== undefined ? { deletedAt: last.deleted, kind: last.kind, id: Number(last.id) } : undefined,
  };
}

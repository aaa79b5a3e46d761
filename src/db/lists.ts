// The reads of lists, each one statement with the owner in its WHERE. Every list write is an
// operation of task_write (src/db/tasks.ts, src/db/functions.sql), like every task write.
import type { Db } from "./client.ts";
import { sql } from "./sql.ts";
import type { StoredList } from "./tasks.ts";

interface Row {
  id: string;
  version: number;
  body: string;
}

const stored = (row: Row): StoredList => ({ id: Number(row.id), version: row.version, json: row.body });

/** Every list of the user, in their order; the Inbox is created on first use (list_read). */
export async function readLists(db: Db, userId: string): Promise<StoredList[]> {
  return (await db.query<Row>(sql`SELECT * FROM list_read(${userId})`)).map(stored);
}

export async function findList(db: Db, userId: string, id: number): Promise<StoredList | undefined> {
  const [row] = await db.query<Row>(sql`
    SELECT l.id, l.version, list_json(l) AS body FROM lists l WHERE l.id = ${id} AND l.user_id = ${userId} AND l.deleted_at IS NULL`);
  return row === undefined ? undefined : stored(row);
}

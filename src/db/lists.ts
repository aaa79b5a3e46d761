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

/** A list the user is a member of (its owner, or one it is shared with), as their role sees it. */
export async function findList(db: Db, userId: string, id: number): Promise<StoredList | undefined> {
  const [row] = await db.query<Row>(sql`
    SELECT l.id, l.version, list_json(l, r.role) AS body
    FROM lists l CROSS JOIN LATERAL (SELECT list_role(${userId}, l.id) AS role) r
    WHERE l.id = ${id} AND l.deleted_at IS NULL AND r.role IS NOT NULL`);
  return row === undefined ? undefined : stored(row);
}

/** What a member read of a list's members or invitations finds: the rows, or why not. */
export type MemberRead = { kind: "found"; json: string } | { kind: "not_found" } | { kind: "owner_only" };

/**
 * GET …/members: every member of a list, the owner first (any member may read them); at most
 * 101 (the owner and 100 others).
 */
export async function readMembers(db: Db, userId: string, listId: number): Promise<MemberRead> {
  const [row] = await db.query<{ role: string | null; json: string | null }>(sql`
    SELECT list_role(${userId}, l.id) AS role,
           '[' || member_json(l.id, l.user_id) || COALESCE((SELECT string_agg(',' || member_json(l.id, m.user_id), '' ORDER BY m.created_at, m.user_id)
                                                    FROM list_members m WHERE m.list_id = l.id), '') || ']' AS json
    FROM lists l WHERE l.id = ${listId} AND l.deleted_at IS NULL`);
  if (row?.role == null || row.json === null) return { kind: "not_found" };
  return { kind: "found", json: row.json };
}

/** GET …/invitations: a list's pending invitations, newest first (at most 100); the owner's only. */
export async function readInvitations(db: Db, userId: string, listId: number): Promise<MemberRead> {
  const [row] = await db.query<{ role: string | null; json: string }>(sql`
    SELECT list_role(${userId}, l.id) AS role,
           '[' || COALESCE((SELECT string_agg(invitation_json(i), ',' ORDER BY i.id DESC) FROM list_invitations i
                            WHERE i.list_id = l.id AND i.accepted_at IS NULL AND i.revoked_at IS NULL
                              AND i.expires_at > statement_timestamp()), '') || ']' AS json
    FROM lists l WHERE l.id = ${listId} AND l.deleted_at IS NULL`);
  if (row?.role == null) return { kind: "not_found" };
  if (row.role !== "owner") return { kind: "owner_only" };
  return { kind: "found", json: row.json };
}

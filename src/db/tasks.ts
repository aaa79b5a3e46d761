// Every SQL statement on the tasks table, each one statement (one round trip) with the owner
// in its WHERE, each returning a typed outcome: routes never decode special rows. Reads are
// written here; every write is one call of task_write (src/db/functions.sql), which applies a
// list of operations in order, all or none, and records each change's position for /changes.

import { Budget, BudgetExceeded } from "../recurrence/budget.ts";
import { nextDue } from "../recurrence/next.ts";
import { parseRecurrence, type Recurrence } from "../recurrence/schema.ts";
import type { Keyset } from "../schemas/cursor.ts";
import type { ListQuery, SortKey } from "../schemas/listing.ts";
import type { ListInput, ListPatch } from "../schemas/lists.ts";
import type { TaskInput, TaskPatch } from "../schemas/task.ts";
import type { Db } from "./client.ts";
import { join, type Sql, sql } from "./sql.ts";

/**
 * A task as stored: its id, its version (for the ETag) and the API's JSON, built by Postgres
 * (task_json) so the Worker neither parses rows nor serializes objects (a measured third of a
 * list call's CPU went to that).
 */
export interface StoredTask {
  id: number;
  version: number;
  json: string;
}

/** A list as stored: the same shape (its JSON built by list_json). */
export type StoredList = StoredTask;

type IfMatch = number[] | null;

/**
 * One operation of a write (docs/api.md "Batch"), with validated input; if_match null:
 * unconditional. Task operations, then list operations (each result's JSON is then a list's).
 */
export type Operation =
  | { op: "create"; task: TaskInput }
  | { op: "update"; id: number; task: TaskPatch; if_match: IfMatch }
  | { op: "complete"; id: number; completed: boolean | null; if_match: IfMatch }
  | { op: "delete"; id: number; if_match: IfMatch }
  | {
      op: "move";
      id: number;
      /** null: the task's own list. */
      list_id: number | null;
      /** null: the top level. */
      parent_id: number | null;
      /** Neither: first among its new siblings. */
      after_id: number | null;
      before_id: number | null;
      if_match: IfMatch;
    }
  | { op: "restore"; id: number }
  | { op: "list_create"; list: ListInput }
  | { op: "list_update"; id: number; list: ListPatch; if_match: IfMatch }
  | { op: "list_move"; id: number; after_id: number | null; before_id: number | null; if_match: IfMatch }
  | { op: "list_delete"; id: number; move_to: number | null; if_match: IfMatch }
  | { op: "list_restore"; id: number }
  | { op: "invitation_create"; list_id: number; role: "editor" | "viewer"; token_hash: string; expires_at: string }
  | { op: "invitation_revoke"; list_id: number; id: number }
  | { op: "invitation_accept"; token_hash: string }
  | { op: "member_update"; list_id: number; user_id: string; role: "owner" | "editor" | "viewer" }
  | { op: "member_remove"; list_id: number; user_id: string };

/** Whether an operation writes a list (its result's JSON is a list's) rather than a task. */
export const isListOperation = (operation: Operation): boolean => operation.op.startsWith("list_");

export type OperationResult = { status: 200 | 201; task: StoredTask } | { status: 204; id: number };

/**
 * Why a write changed nothing, at one operation: no task (missing) or list (list_missing) there,
 * a stale If-Match (stale), a field naming what cannot be (invalid, with its path: list_id,
 * parent_id, after_id, before_id, move_to, due_date), a recurrence budget spent (too_complex),
 * the Inbox deleted (inbox), or one list too many (list_limit).
 */
export type FailureReason =
  | "missing"
  | "list_missing"
  | "stale"
  | "invalid"
  | "too_complex"
  | "inbox"
  | "list_limit"
  // Sharing: a viewer's write; what only the owner may do; an invitation or member not there; an
  // invitation used, expired or revoked; the caller a member already; the owner leaving or
  // demoted; the Inbox shared; 100 members or pending invitations; two writes that waited for
  // each other (deadlock): nothing written, try again.
  | "read_only"
  | "owner_only"
  | "invitation_missing"
  | "member_missing"
  | "invitation_used"
  | "invitation_expired"
  | "invitation_revoked"
  | "already_member"
  | "owner_leave"
  | "owner_role"
  | "inbox_share"
  | "member_limit"
  | "invitation_limit"
  | "busy";

/** The outcome of a write of one or more operations. */
export type WriteOutcome =
  | {
      kind: "written";
      results: OperationResult[];
      /** The user's change position after the write (null for a replay, which changed nothing). */
      head: number | null;
      /** An Idempotency-Key's earlier answer, replayed. */
      replayed: boolean;
      /** Someone may be listening on /live for this user: announce the write (src/live/notify.ts). */
      live: boolean;
      /** Other users whose feeds the write advanced (members of shared lists) and who may be listening. */
      others: { userId: string; position: number }[];
    }
  /** Nothing was written: operation `operation` failed for `reason` (see FailureReason). */
  | { kind: "failed"; operation: number; reason: FailureReason; path?: string }
  | { kind: "in_flight" }
  | { kind: "key_reused" };

/** A write's outcome once an Idempotency-Key conflict is out of the way: written, or failed at an operation. */
export type Settled = Exclude<WriteOutcome, { kind: "in_flight" | "key_reused" }>;

/** The outcome of a write to one existing task or list. */
export type Written =
  | { kind: "written"; task: StoredTask }
  | { kind: "deleted" }
  | { kind: Exclude<FailureReason, "invalid"> }
  | { kind: "invalid"; path: string };

interface WriteRow {
  op: number;
  status: number;
  task_id: string | null; // bigint arrives as a string
  version: number | null;
  task: string | null;
  head: string | null;
  replayed: boolean;
  live: boolean;
  others: string | null; // [[user, head], …]
}

/** What task_write needs to know to create the next occurrence of a completed recurring task. */
interface Need {
  op: number;
  version: number;
  recurrence: Recurrence;
  due_date: string;
  series_start: string;
  series_index: number;
}

/** The next due dates task_write asked for, by operation index (see src/db/functions.sql). */
type Next = Record<string, { version: number; due: string | null }>;

/** Rounds of "which next due dates?" before giving up: each one means the task changed in between. */
const NEXT_ATTEMPTS = 3;

/** task_write's 403, 404, 409 and 410 details, as reasons. */
const DETAILS: Record<string, FailureReason> = {
  "403:read_only": "read_only",
  "403:owner_only": "owner_only",
  "404:list": "list_missing",
  "404:invitation": "invitation_missing",
  "404:member": "member_missing",
  "409:inbox": "inbox",
  "409:list_limit": "list_limit",
  "409:inbox_share": "inbox_share",
  "409:member_limit": "member_limit",
  "409:invitation_limit": "invitation_limit",
  "409:already_member": "already_member",
  "409:owner_leave": "owner_leave",
  "409:owner_role": "owner_role",
  "410:used": "invitation_used",
  "410:expired": "invitation_expired",
  "410:revoked": "invitation_revoked",
};

/** A failure task_write answered: a row with the status it stands for (see src/db/functions.sql). */
function failure(status: number, operation: number, detail?: string): WriteOutcome | undefined {
  const known = DETAILS[`${status}:${detail ?? ""}`];
  if (known !== undefined) return { kind: "failed", operation, reason: known };
  switch (status) {
    case 404:
      return { kind: "failed", operation, reason: "missing" };
    case 412:
      return { kind: "failed", operation, reason: "stale" };
    case 422:
      return operation < 0 ? { kind: "key_reused" } : { kind: "failed", operation, reason: "invalid", path: detail ?? "due_date" };
    case 409:
      return { kind: "in_flight" };
    case 503:
      return { kind: "failed", operation, reason: "busy" };
    default:
      return undefined;
  }
}

function result(row: WriteRow): OperationResult {
  const id = Number(row.task_id);
  if (row.status === 204 || row.task === null || row.version === null) return { status: 204, id };
  return { status: row.status === 201 ? 201 : 200, task: { id, version: row.version, json: row.task } };
}

/**
 * The next due date of each completed recurring occurrence, computed here (src/recurrence/), all
 * from one budget; or the operation whose computation the budget could not pay for. A fresh budget
 * each round, so whether a write fits never depends on a race with another writer.
 */
function nextDueDates(needs: Need[], now: Date): { kind: "next"; next: Next } | { kind: "too_complex"; operation: number } {
  const next: Next = {};
  const budget = new Budget();
  for (const need of needs) {
    const series = { ...parseRecurrence(need.recurrence), dtstart: new Date(need.series_start), index: need.series_index };
    try {
      next[need.op] = { version: need.version, due: nextDue(series, new Date(need.due_date), now, budget)?.toISOString() ?? null };
    } catch (error) {
      if (error instanceof BudgetExceeded) return { kind: "too_complex", operation: need.op };
      throw error;
    }
  }
  return { kind: "next", next };
}

/**
 * Applies `operations` for `userId` in order, all or none, in one statement. With an
 * Idempotency-Key, a repeat of the same request (same `requestHash`) within 24 hours gets the
 * first answer back and changes nothing. Completing a recurring occurrence takes a second
 * statement: the first tells what the occurrence math needs, the second writes with its result.
 */
export async function write(
  db: Db,
  userId: string,
  operations: Operation[],
  idempotency?: { key: string; requestHash: string },
): Promise<WriteOutcome> {
  let next: Next = {};
  for (let attempt = 1; ; attempt++) {
    const outcome = await writeOnce(db, userId, operations, idempotency, next);
    if (outcome.kind !== "needs") return outcome;
    // The task changed between the two statements every time: its user is writing it very fast.
    if (attempt === NEXT_ATTEMPTS) throw new Error("the next occurrence's due date went stale three times");
    const computed = nextDueDates(outcome.needs, new Date());
    // The first statement wrote nothing: refusing here leaves the user's tasks as they were.
    if (computed.kind === "too_complex") return { kind: "failed", operation: computed.operation, reason: "too_complex" };
    next = computed.next;
  }
}

async function writeOnce(
  db: Db,
  userId: string,
  operations: Operation[],
  idempotency: { key: string; requestHash: string } | undefined,
  next: Next,
): Promise<WriteOutcome | { kind: "needs"; needs: Need[] }> {
  const rows = await db.query<WriteRow>(sql`
    SELECT * FROM task_write(${userId}, ${JSON.stringify(operations)}::jsonb, ${idempotency?.key ?? null},
      ${idempotency?.requestHash ?? null}, ${JSON.stringify(next)}::jsonb)`);
  const [first] = rows;
  if (first?.status === 0) return { kind: "needs", needs: rows.map((row) => JSON.parse(row.task ?? "null") as Need) };
  const failed = first === undefined ? undefined : failure(first.status, first.op, first.task ?? undefined);
  if (failed !== undefined) return failed;
  return {
    kind: "written",
    results: rows.map(result),
    head: first?.head == null ? null : Number(first.head),
    replayed: first?.replayed ?? false,
    live: first?.live ?? false,
    others: (JSON.parse(first?.others ?? "[]") as [string, number][]).map(([userId, position]) => ({ userId, position })),
  };
}

/** The outcome of a write of one operation, as a single-resource route answers it. */
export function single(outcome: Settled): Written {
  switch (outcome.kind) {
    case "failed":
      return outcome.reason === "invalid" ? { kind: "invalid", path: outcome.path ?? "due_date" } : { kind: outcome.reason };
    case "written": {
      const [only] = outcome.results;
      if (only === undefined || only.status === 204) return { kind: "deleted" };
      return { kind: "written", task: only.task };
    }
  }
}

/** A timestamp as the API writes it: RFC 3339, UTC, milliseconds, "Z". */
const timestamp = (column: Sql) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The statement of GET …/tasks/{id} (also run by the benchmark's floor Worker). */
export const findTaskStatement = (userId: string, id: number): Sql =>
  sql`SELECT t.id, t.version, task_body(t) AS json FROM tasks t WHERE t.id = ${id} AND ${visibleTo(userId)} AND t.deleted_at IS NULL`;

/**
 * Whether task `t` is there for the user: theirs (the owner of its list), or in a list shared with
 * them. Every read of a task names it, so a non-member's 404 is decided in the statement.
 */
export const visibleTo = (userId: string): Sql =>
  sql`(t.user_id = ${userId} OR EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = t.list_id AND m.user_id = ${userId}))`;

export async function findTask(db: Db, userId: string, id: number): Promise<StoredTask | undefined> {
  const [row] = await db.query<{ id: string; version: number; json: string }>(findTaskStatement(userId, id));
  return row === undefined ? undefined : { id: Number(row.id), version: row.version, json: row.json };
}

/** Each sort key's column: the only identifiers a list statement is built from. */
const SORT_COLUMNS: Record<SortKey, Sql> = {
  created_at: sql`t.created_at`,
  updated_at: sql`t.updated_at`,
  due_date: sql`t.due_date`,
  priority: sql`t.priority`,
  title: sql`t.title`,
  // A list's tasks: the top level first, then each parent's subtasks, each group by its keys
  // (the order of the unique index tasks_list_order).
  position: sql`COALESCE(t.parent_id, 0), t.sort_key`,
};

/** Each sort key's value as the cursor carries it (the API's own text for timestamps). */
const CURSOR_VALUES: Record<SortKey, Sql> = {
  created_at: timestamp(sql`t.created_at`),
  updated_at: timestamp(sql`t.updated_at`),
  due_date: timestamp(sql`t.due_date`),
  priority: sql`t.priority::text`,
  title: sql`t.title`,
  position: sql`COALESCE(t.parent_id, 0) || ':' || t.sort_key`,
};

/** A cursor's value as its column's type (position's: its parent, then its key). */
const CURSOR_CASTS: Record<SortKey, (value: string) => Sql> = {
  created_at: (value) => sql`${value}::timestamptz`,
  updated_at: (value) => sql`${value}::timestamptz`,
  due_date: (value) => sql`${value}::timestamptz`,
  priority: (value) => sql`${value}::task_priority`,
  title: (value) => sql`${value}::text`,
  position: (value) => sql`${cursorPart(value, 0)}::bigint, ${cursorPart(value, 1)}::text COLLATE "C"`,
};

/** The parts of a position cursor's value, "parent:key" (checked by src/schemas/cursor.ts). */
function cursorPart(value: string, index: 0 | 1): string {
  const separator = value.indexOf(":");
  return index === 0 ? value.slice(0, separator) : value.slice(separator + 1);
}

/** The expression of the trigram index tasks_user_text_trgm (migrations/0007), exactly. */
const SEARCHED_TEXT = sql`(t.title || ' ' || coalesce(t.description, ''))`;

/** `%`, `_` and `\` in a search term match themselves. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, "\\$&")}%`;
}

export interface Page {
  /** The tasks' JSON, in order. */
  tasks: string[];
  /** Where the next page starts; undefined on the last page. */
  next: Keyset | undefined;
}

/** The WHERE of a list: whose tasks (`owner`), the filters, and the keyset after `cursor`. */
function listConditions(owner: Sql, query: ListQuery, cursor: Keyset | undefined): Sql {
  const where = [owner, sql`t.deleted_at IS NULL`];
  if (query.list_id !== undefined) where.push(sql`t.list_id = ${query.list_id}::bigint`);
  if (query.parent_id !== undefined) where.push(sql`COALESCE(t.parent_id, 0) = ${query.parent_id}::bigint`);
  if (query.status === "pending") where.push(sql`NOT t.completed`);
  if (query.status === "completed") where.push(sql`t.completed`);
  if (query.priority !== undefined) where.push(sql`t.priority = ${query.priority}::task_priority`);
  if (query.tag !== undefined) where.push(sql`t.tags @> ARRAY[${query.tag}::text]`);
  if (query.q !== undefined) {
    const pattern = likePattern(query.q);
    // The first test is what the trigram index (migrations/0007) holds: title and description
    // joined. It is implied by the second, the definition, which alone decides (so that a match
    // across the joint never counts).
    where.push(sql`${SEARCHED_TEXT} ILIKE ${pattern}`);
    where.push(sql`(t.title ILIKE ${pattern} OR t.description ILIKE ${pattern})`);
  }
  if (query.due_before !== undefined) where.push(sql`t.due_date < ${query.due_before}::timestamptz`);
  if (query.due_after !== undefined) where.push(sql`t.due_date >= ${query.due_after}::timestamptz`);
  if (cursor !== undefined) {
    const key = sortKey(query);
    const column = SORT_COLUMNS[key];
    const after = query.sort.startsWith("-") ? sql`<` : sql`>`;
    if (cursor.value === null) {
      where.push(sql`(${column} IS NULL AND t.id ${after} ${cursor.id}::bigint)`);
    } else {
      // A position is unique among a list's tasks (parent and key): no id needed to break ties.
      const keyset =
        key === "position"
          ? sql`(${column}) ${after} (${CURSOR_CASTS[key](cursor.value)})`
          : sql`(${column}, t.id) ${after} (${CURSOR_CASTS[key](cursor.value)}, ${cursor.id}::bigint)`;
      // Tasks without a due date sort last in both directions.
      where.push(key === "due_date" ? sql`(${keyset} OR t.due_date IS NULL)` : keyset);
    }
  }
  return join(where, sql` AND `);
}

const sortKey = (query: ListQuery) => query.sort.replace(/^-/, "") as SortKey;

/**
 * The statement of one page: one row more than `limit`, so the caller knows whether another
 * follows. The user's own tasks (every sort has an index led by user_id) and the tasks of lists
 * shared with them (by list, from list_members; nothing to read for a user with none), each
 * ordered and cut to the page, then merged; or, with list_id, that list's tasks alone.
 */
export function listStatement(userId: string, query: ListQuery, cursor: Keyset | undefined): Sql {
  const key = sortKey(query);
  const direction = query.sort.startsWith("-") ? sql`DESC` : sql`ASC`;
  const nulls = key === "due_date" ? sql` NULLS LAST` : sql``;
  const limit = sql`LIMIT ${query.limit + 1}::integer`;
  const keys = key === "position" ? sql`COALESCE(t.parent_id, 0) AS k1, t.sort_key AS k2` : sql`${SORT_COLUMNS[key]} AS k1, t.id AS k2`;
  const order = sql`ORDER BY k1 ${direction}${nulls}, k2 ${direction}`;
  const branch = (owner: Sql) => sql`
      (SELECT t.id, task_body(t) AS json, ${CURSOR_VALUES[key]} AS cursor_value, ${keys}
       FROM tasks t
       WHERE ${listConditions(owner, query, cursor)}
       ${order} ${limit})`;
  if (query.list_id !== undefined) {
    // One list: its tasks are all its owner's, so the owner's indexes serve it as before sharing,
    // whoever asks; the owner is looked up once, and only for a member of the list (else no rows).
    const owner = sql`(SELECT l.user_id FROM lists l WHERE l.id = ${query.list_id}::bigint
        AND (l.user_id = ${userId} OR EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = l.id AND m.user_id = ${userId})))`;
    return sql`SELECT x.id, x.json, x.cursor_value FROM ${branch(sql`t.user_id = ${owner}`)} x`;
  }
  return sql`
      SELECT x.id, x.json, x.cursor_value FROM (
        ${branch(sql`t.user_id = ${userId}`)}
        UNION ALL
        ${branch(sql`t.list_id IN (SELECT m.list_id FROM list_members m WHERE m.user_id = ${userId})`)}) x
      ${order} ${limit}`;
}

/** One page of the tasks a user sees (their own and shared ones): filters, keyset pagination after `cursor`. */
export async function listTasks(db: Db, userId: string, query: ListQuery, cursor: Keyset | undefined): Promise<Page> {
  const rows = await db.query<{ id: string; json: string; cursor_value: string | null }>(listStatement(userId, query, cursor));
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    tasks: page.map((row) => row.json),
    next: rows.length > query.limit && last !== undefined ? { value: last.cursor_value, id: Number(last.id) } : undefined,
  };
}

/** A task's place in its series, for GET …/occurrences; recurrence null when it does not recur. */
export interface SeriesOf {
  recurrence: Recurrence | null;
  dueDate: string | null;
  seriesStart: string | null;
  seriesIndex: number | null;
}

export async function findSeries(db: Db, userId: string, id: number): Promise<SeriesOf | undefined> {
  const [row] = await db.query<{
    rule: string | null;
    zone: string | null;
    anchor: "due" | "completion" | null;
    due: string | null;
    start: string | null;
    index: number | null;
  }>(sql`
    SELECT t.recurrence_rule AS rule, t.recurrence_zone AS zone, t.recurrence_anchor AS anchor,
           ${timestamp(sql`t.due_date`)} AS due, ${timestamp(sql`t.series_start`)} AS start, t.series_index AS index
    FROM tasks t WHERE t.id = ${id} AND ${visibleTo(userId)} AND t.deleted_at IS NULL`);
  if (row === undefined) return undefined;
  return {
    recurrence:
      row.rule === null || row.zone === null || row.anchor === null ? null : { rule: row.rule, time_zone: row.zone, anchor: row.anchor },
    dueDate: row.due,
    seriesStart: row.start,
    seriesIndex: row.index,
  };
}

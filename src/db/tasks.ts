// Every SQL statement on the tasks table. Each is one statement (one round trip), and each
// has the owner in its WHERE, so ownership can be audited by reading this file alone.
import type { Cursor } from "../schemas/cursor.ts";
import type { ListQuery, SortKey } from "../schemas/list.ts";
import type { TaskInput, TaskPatch } from "../schemas/task.ts";
import type { Statement } from "./client.ts";

/**
 * What every task statement returns: the id, and the task as the API's JSON, built by Postgres
 * so the Worker neither parses rows nor serializes objects (a measured third of a list call's
 * CPU went to that). Lists add the row's sort value, for the next page's cursor.
 */
export interface TaskRow {
  id: string; // bigint arrives as a string
  json: string;
  cursor_value?: string | null;
}

/**
 * What single-task statements return: the task and its version (for the ETag). A conditional
 * write whose If-Match failed on an existing task returns one row with `json` null (412); a
 * missing task returns no row (404).
 */
export interface OneTaskRow {
  id: string;
  version: number | null;
  json: string | null;
}

/** A create with an Idempotency-Key: `replay_hash` is set when the key was used before. */
export interface CreatedRow extends OneTaskRow {
  replay_hash: string | null;
}

/** A timestamp as the API writes it: RFC 3339, UTC, milliseconds, "Z". */
const timestamp = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The task of row `t` as JSON text, fields in the contract's order. */
const TASK_JSON = `(SELECT row_to_json(task)::text FROM (SELECT t.id, t.user_id, t.title, t.description, t.completed,
    ${timestamp("t.completed_at")} AS completed_at, t.priority, t.tags, ${timestamp("t.due_date")} AS due_date,
    ${timestamp("t.created_at")} AS created_at, ${timestamp("t.updated_at")} AS updated_at, t.version) AS task)`;
/** Ends a write: `WITH t AS (… RETURNING *)` followed by this returns the task. */
const SELECT_WRITTEN = `SELECT t.id, t.version, ${TASK_JSON} AS json FROM t`;

/**
 * A conditional write: the task as written, or, when nothing was written because the task's
 * version is not one of If-Match's, a row with a null json so the caller can
 * tell 412 from 404 within the same statement. Without If-Match, just the written task.
 */
function selectWrittenIf(versions: number[] | undefined, idParam: string, userParam: string): string {
  if (versions === undefined) return SELECT_WRITTEN;
  return `${SELECT_WRITTEN}
      UNION ALL
      SELECT NULL, NULL, NULL FROM tasks WHERE id = ${idParam} AND user_id = ${userParam} AND NOT EXISTS (SELECT 1 FROM t)`;
}

/** The WHERE of a conditional write: the version must be one If-Match names. */
const versionIn = (versions: number[] | undefined, param: string) => (versions === undefined ? "" : ` AND version = ANY(${param}::int[])`);
// Timestamps are kept to the millisecond, the precision of the API and of its cursors.
const NOW = "date_trunc('milliseconds', statement_timestamp())";

export function insertTask(userId: string, task: TaskInput): Statement {
  return {
    text: `
      WITH t AS (
        INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, tags, due_date)
        VALUES ($1, $2, $3, $4::boolean, CASE WHEN $4::boolean THEN ${NOW} END, $5::task_priority, $6::text[], $7::timestamptz)
        RETURNING *)
      ${SELECT_WRITTEN}`,
    values: [userId, task.title, task.description, task.completed, task.priority, task.tags, task.due_date],
  };
}

/** Keys are kept (and replayed) this long; older ones may be reclaimed and are purged by cron. */
export const IDEMPOTENCY_WINDOW = "interval '24 hours'";

/**
 * POST with an Idempotency-Key, in one statement: the new task's row is computed first (its id
 * drawn from the sequence), the key is claimed with that task's JSON as the stored response, and
 * the task is inserted only if the claim succeeded. Outcomes, told apart by the rows returned:
 * - the created task (replay_hash null): the key was new, or older than 24 hours;
 * - the stored response and its request_hash: the key was used before, a replay (or a 422 when
 *   the hash differs);
 * - no row: another request claimed the key after this statement began and had not committed
 *   (it was in flight): 409. Postgres made this statement wait for it, and nothing was created.
 */
export function insertTaskIdempotent(userId: string, task: TaskInput, key: string, requestHash: string): Statement {
  return {
    text: `
      WITH input AS (
        SELECT nextval(pg_get_serial_sequence('tasks', 'id')) AS id, $1::text AS user_id, $2::text AS title,
          $3::text AS description, $4::boolean AS completed, CASE WHEN $4::boolean THEN ${NOW} END AS completed_at,
          $5::task_priority AS priority, $6::text[] AS tags, $7::timestamptz AS due_date,
          ${NOW} AS created_at, ${NOW} AS updated_at, 1 AS version),
      claim AS (
        INSERT INTO idempotency_keys AS k (user_id, key, request_hash, task_id, response, created_at)
        SELECT $1, $8, $9, t.id, ${TASK_JSON}, statement_timestamp() FROM input t
        ON CONFLICT (user_id, key) DO UPDATE
          SET request_hash = EXCLUDED.request_hash, task_id = EXCLUDED.task_id, response = EXCLUDED.response,
              created_at = EXCLUDED.created_at
          WHERE k.created_at <= statement_timestamp() - ${IDEMPOTENCY_WINDOW}
        RETURNING task_id),
      t AS (
        INSERT INTO tasks (id, user_id, title, description, completed, completed_at, priority, tags, due_date, created_at, updated_at, version)
        OVERRIDING SYSTEM VALUE
        SELECT input.* FROM input JOIN claim ON claim.task_id = input.id
        RETURNING *)
      SELECT t.id, t.version, ${TASK_JSON} AS json, NULL AS replay_hash FROM t
      UNION ALL
      SELECT k.task_id, 1, k.response, k.request_hash FROM idempotency_keys k
      WHERE k.user_id = $1 AND k.key = $8 AND k.created_at > statement_timestamp() - ${IDEMPOTENCY_WINDOW}
        AND NOT EXISTS (SELECT 1 FROM claim)`,
    values: [userId, task.title, task.description, task.completed, task.priority, task.tags, task.due_date, key, requestHash],
  };
}

/** The Cron Trigger's purge of keys past the replay window. */
export function purgeIdempotencyKeys(): Statement {
  return {
    text: `WITH d AS (DELETE FROM idempotency_keys WHERE created_at <= statement_timestamp() - ${IDEMPOTENCY_WINDOW} RETURNING 1)
      SELECT count(*)::int AS purged FROM d`,
    values: [],
  };
}

export function selectTask(userId: string, id: number): Statement {
  return {
    text: `SELECT t.id, t.version, ${TASK_JSON} AS json FROM tasks t WHERE t.id = $1 AND t.user_id = $2`,
    values: [id, userId],
  };
}

/**
 * PUT and PATCH: sets the fields present in `changes` and leaves the rest. PUT passes every
 * writable field (defaults filled in); PATCH only those sent. Every update bumps `version`.
 */
export function updateTask(userId: string, id: number, changes: TaskInput | TaskPatch, ifMatch?: number[]): Statement {
  return {
    text: `
      WITH t AS (
      UPDATE tasks SET
        title        = CASE WHEN 'title'       = ANY($3::text[]) THEN $4::text ELSE title END,
        description  = CASE WHEN 'description' = ANY($3::text[]) THEN $5::text ELSE description END,
        completed    = CASE WHEN 'completed'   = ANY($3::text[]) THEN $6::boolean ELSE completed END,
        completed_at = CASE WHEN NOT 'completed' = ANY($3::text[]) THEN completed_at
                            WHEN $6::boolean THEN COALESCE(completed_at, ${NOW}) END,
        priority     = CASE WHEN 'priority'    = ANY($3::text[]) THEN $7::task_priority ELSE priority END,
        tags         = CASE WHEN 'tags'        = ANY($3::text[]) THEN $8::text[] ELSE tags END,
        due_date     = CASE WHEN 'due_date'    = ANY($3::text[]) THEN $9::timestamptz ELSE due_date END,
        updated_at   = ${NOW},
        version      = version + 1
      WHERE id = $1 AND user_id = $2${versionIn(ifMatch, "$10")}
      RETURNING *)
      ${selectWrittenIf(ifMatch, "$1", "$2")}`,
    values: [
      id,
      userId,
      Object.keys(changes),
      changes.title ?? null,
      changes.description ?? null,
      changes.completed ?? null,
      changes.priority ?? null,
      changes.tags ?? null,
      changes.due_date ?? null,
      ...(ifMatch === undefined ? [] : [ifMatch]),
    ],
  };
}

/** PATCH .../complete: sets `completed` to `completed`, or toggles it when undefined. */
export function completeTask(userId: string, id: number, completed: boolean | undefined, ifMatch?: number[]): Statement {
  return {
    text: `
      WITH t AS (
      UPDATE tasks SET
        completed    = COALESCE($3::boolean, NOT completed),
        completed_at = CASE WHEN COALESCE($3::boolean, NOT completed) THEN COALESCE(completed_at, ${NOW}) END,
        updated_at   = ${NOW},
        version      = version + 1
      WHERE id = $1 AND user_id = $2${versionIn(ifMatch, "$4")}
      RETURNING *)
      ${selectWrittenIf(ifMatch, "$1", "$2")}`,
    values: [id, userId, completed ?? null, ...(ifMatch === undefined ? [] : [ifMatch])],
  };
}

/** Returns the deleted id; with If-Match, a row with a null id when the version did not match. */
export function deleteTask(userId: string, id: number, ifMatch?: number[]): Statement {
  if (ifMatch === undefined) {
    return { text: "DELETE FROM tasks WHERE id = $1 AND user_id = $2 RETURNING id", values: [id, userId] };
  }
  return {
    text: `
      WITH t AS (DELETE FROM tasks WHERE id = $1 AND user_id = $2 AND version = ANY($3::int[]) RETURNING id)
      SELECT id FROM t
      UNION ALL
      SELECT NULL FROM tasks WHERE id = $1 AND user_id = $2 AND NOT EXISTS (SELECT 1 FROM t)`,
    values: [id, userId, ifMatch],
  };
}

/** Each sort key's value as the cursor carries it (the API's own text for timestamps). */
const CURSOR_VALUES: Record<SortKey, string> = {
  created_at: timestamp("t.created_at"),
  updated_at: timestamp("t.updated_at"),
  due_date: timestamp("t.due_date"),
  priority: "t.priority::text",
  title: "t.title",
};

/** Each sort key's column type, for casting cursor values. */
const SORT_TYPES: Record<SortKey, string> = {
  created_at: "timestamptz",
  updated_at: "timestamptz",
  due_date: "timestamptz",
  priority: "task_priority",
  title: "text",
};

/** `%`, `_` and `\` in a search term match themselves. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, "\\$&")}%`;
}

/**
 * One page of a user's tasks: filters, keyset pagination after `cursor`, and one row more than
 * `limit` so the caller knows whether another page follows. Every sort has an index that
 * starts with user_id (see migrations/).
 */
export function listTasks(userId: string, query: ListQuery, cursor: Cursor | undefined): Statement {
  const values: unknown[] = [userId];
  const param = (value: unknown, type: string) => {
    values.push(value);
    return `$${values.length}::${type}`;
  };
  const where = ["t.user_id = $1"];
  if (query.status === "pending") where.push("NOT completed");
  if (query.status === "completed") where.push("completed");
  if (query.priority !== undefined) where.push(`priority = ${param(query.priority, "task_priority")}`);
  if (query.tag !== undefined) where.push(`tags @> ARRAY[${param(query.tag, "text")}]`);
  if (query.q !== undefined) {
    const pattern = param(likePattern(query.q), "text");
    where.push(`(title ILIKE ${pattern} OR description ILIKE ${pattern})`);
  }
  if (query.due_before !== undefined) where.push(`due_date < ${param(query.due_before, "timestamptz")}`);
  if (query.due_after !== undefined) where.push(`due_date >= ${param(query.due_after, "timestamptz")}`);

  const descending = query.sort.startsWith("-");
  const key = query.sort.replace(/^-/, "") as SortKey;
  const direction = descending ? "DESC" : "ASC";
  const after = descending ? "<" : ">";
  // Tasks without a due date sort last in both directions.
  const nulls = key === "due_date" ? " NULLS LAST" : "";

  if (cursor !== undefined) {
    const id = param(cursor.id, "bigint");
    if (cursor.value === null) {
      where.push(`(${key} IS NULL AND id ${after} ${id})`);
    } else {
      const value = param(cursor.value, SORT_TYPES[key]);
      const keyset = `(${key}, id) ${after} (${value}, ${id})`;
      where.push(key === "due_date" ? `(${keyset} OR due_date IS NULL)` : keyset);
    }
  }

  return {
    text: `
      SELECT t.id, ${TASK_JSON} AS json, ${CURSOR_VALUES[key]} AS cursor_value
      FROM tasks t
      WHERE ${where.join(" AND ")}
      ORDER BY ${key} ${direction}${nulls}, id ${direction}
      LIMIT ${param(query.limit + 1, "integer")}`,
    values,
  };
}

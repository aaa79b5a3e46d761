// Every SQL statement on the tasks table. Each is one statement (one round trip), and each
// has the owner in its WHERE, so ownership can be audited by reading this file alone.
import type { Cursor } from "../schemas/cursor";
import type { ListQuery, SortKey } from "../schemas/list";
import type { TaskInput, TaskPatch } from "../schemas/task";
import type { Statement } from "./client";

export interface TaskRow {
  id: string; // bigint arrives as a string
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  completed_at: Date | null;
  priority: "low" | "medium" | "high";
  tags: string[];
  due_date: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const COLUMNS = "id, user_id, title, description, completed, completed_at, priority, tags, due_date, created_at, updated_at, version";
// Timestamps are kept to the millisecond, the precision of the API and of its cursors.
const NOW = "date_trunc('milliseconds', statement_timestamp())";

export function insertTask(userId: string, task: TaskInput): Statement {
  return {
    text: `
      INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, tags, due_date)
      VALUES ($1, $2, $3, $4::boolean, CASE WHEN $4::boolean THEN ${NOW} END, $5::task_priority, $6::text[], $7::timestamptz)
      RETURNING ${COLUMNS}`,
    values: [userId, task.title, task.description, task.completed, task.priority, task.tags, task.due_date],
  };
}

export function selectTask(userId: string, id: number): Statement {
  return {
    text: `SELECT ${COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2`,
    values: [id, userId],
  };
}

/**
 * PUT and PATCH: sets the fields present in `changes` and leaves the rest. PUT passes every
 * writable field (defaults filled in); PATCH only those sent. Every update bumps `version`.
 */
export function updateTask(userId: string, id: number, changes: TaskInput | TaskPatch): Statement {
  return {
    text: `
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
      WHERE id = $1 AND user_id = $2
      RETURNING ${COLUMNS}`,
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
    ],
  };
}

/** PATCH .../complete: sets `completed` to `completed`, or toggles it when undefined. */
export function completeTask(userId: string, id: number, completed: boolean | undefined): Statement {
  return {
    text: `
      UPDATE tasks SET
        completed    = COALESCE($3::boolean, NOT completed),
        completed_at = CASE WHEN COALESCE($3::boolean, NOT completed) THEN COALESCE(completed_at, ${NOW}) END,
        updated_at   = ${NOW},
        version      = version + 1
      WHERE id = $1 AND user_id = $2
      RETURNING ${COLUMNS}`,
    values: [id, userId, completed ?? null],
  };
}

export function deleteTask(userId: string, id: number): Statement {
  return {
    text: "DELETE FROM tasks WHERE id = $1 AND user_id = $2 RETURNING id",
    values: [id, userId],
  };
}

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
  const where = ["user_id = $1"];
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
      SELECT ${COLUMNS} FROM tasks
      WHERE ${where.join(" AND ")}
      ORDER BY ${key} ${direction}${nulls}, id ${direction}
      LIMIT ${param(query.limit + 1, "integer")}`,
    values,
  };
}

// Bulk-loads benchmark data straight into Postgres with COPY (not through the API): one heavy
// user with 10,000 varied tasks in 50 lists (a fifth of them subtasks) among 1,000,000 tasks of
// 1,000 other users (each with an Inbox), plus a pool of tasks for the delete scenario. Ids are
// given here, so the scenarios know every list and task without asking the database; order keys
// are order_key_nth's (src/db/functions.sql), computed the same way here and checked against it.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

export const HEAVY_USER = "bench-heavy-user";
export const WRITER_USER = "bench-writer";
export const DELETE_USER = "bench-deleter";
/** The heavy user's lists, the Inbox included; its tasks are spread over them in turn. */
export const HEAVY_LISTS = 50;

export interface LoadPlan {
  heavyTasks: number;
  otherUsers: number;
  tasksPerOtherUser: number;
  deletePool: number;
}

/** What was loaded, and where: enough for the scenarios to address any list or task. */
export interface Loaded {
  /** Tasks loaded. */
  rows: number;
  lists: number;
  seconds: number;
  /** The heavy user's lists in their order (the Inbox first), each with its top-level tasks' ids in their order. */
  heavyLists: { id: number; topLevel: number[] }[];
  /** The other users: each one's tasks are the ids firstId … firstId + count - 1, all top-level, in its Inbox, in that order. */
  others: { user: string; firstId: number; count: number }[];
}

const WORDS = ["report", "email", "call", "groceries", "invoice", "review", "plan", "fix", "write", "book", "clean", "pay"];
const TAG_SETS = ["{}", "{work}", "{home}", "{work,urgent}", "{home,errands}", "{work,report}", "{family}"];
const PRIORITIES = ["low", "medium", "high"];
const COLORS = ["\\N", "#1a73e8", "#0b8043", "#d50000", "#f4511e", "#8e24aa"];
const START = Date.parse("2025-11-23T00:00:00.000Z");
const YEAR_MS = 365 * 24 * 3600 * 1000;
const KEY_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * The n-th key of a fresh sequence of order keys (n from 0): a0 … az, b00 … bzz, c000 …; the same
 * as order_key_nth in src/db/functions.sql (loadData checks that it is).
 */
export function orderKeyNth(n: number): string {
  let width = 1;
  let span = 62;
  let rest = n;
  while (rest >= span) {
    rest -= span;
    width++;
    span *= 62;
  }
  let key = "";
  for (let i = 0; i < width; i++) {
    key = `${KEY_DIGITS[rest % 62]}${key}`;
    rest = Math.floor(rest / 62);
  }
  return `${String.fromCharCode("a".charCodeAt(0) + width - 1)}${key}`;
}

/**
 * Where task i of the heavy user goes: list i mod 50, the (i div 50)th task of that list. In each
 * list, of every ten tasks the 9th and 10th are subtasks of the 1st (one level deep, as the API
 * allows), so a fifth of the tasks are subtasks. Keys are the list's sequence (unique among any
 * siblings, in creation order).
 */
function heavyPlace(i: number): { list: number; index: number; parentIndex: number | null } {
  const list = i % HEAVY_LISTS;
  const index = Math.floor(i / HEAVY_LISTS);
  const parentIndex = index % 10 >= 8 ? index - (index % 10) : null;
  return { list, index, parentIndex };
}

interface TaskRow {
  id: number;
  userId: string;
  /** Its number among its user's tasks: the text, dates and flags follow from it. */
  i: number;
  listId: number;
  parentId: number | null;
  key: string;
  /** Its user's change position. */
  position: number;
}

/** One COPY text-format line of the tasks table. */
function taskLine(task: TaskRow): string {
  const { i } = task;
  const word = WORDS[i % WORDS.length] as string;
  const created = new Date(START + ((i * 7919) % YEAR_MS) + (i % 1000)).toISOString();
  const completed = i % 2 === 0;
  const due = i % 5 === 0 ? "\\N" : new Date(START + ((i * 104729) % (2 * YEAR_MS))).toISOString();
  const description = i % 3 === 0 ? "\\N" : `Details for ${word} number ${i}`;
  return [
    task.id,
    task.userId,
    `${word.charAt(0).toUpperCase()}${word.slice(1)} ${i}`,
    description,
    completed ? "t" : "f",
    completed ? created : "\\N",
    PRIORITIES[i % 3],
    TAG_SETS[i % TAG_SETS.length],
    due,
    created,
    created,
    task.position,
    task.listId,
    task.parentId ?? "\\N",
    task.key,
  ].join("\t");
}

/** The plan's lists and tasks, with their ids, in the order they are copied. */
function layout(plan: LoadPlan) {
  const users: [string, number][] = [
    [HEAVY_USER, plan.heavyTasks],
    [DELETE_USER, plan.deletePool],
    ...Array.from({ length: plan.otherUsers }, (_, u): [string, number] => [`bench-user-${u}`, plan.tasksPerOtherUser]),
  ];
  const created = new Date(START).toISOString();
  const lists: string[] = [];
  const listIds = new Map<string, number[]>();
  for (const [user] of users) {
    const count = user === HEAVY_USER ? HEAVY_LISTS : 1;
    const ids: number[] = [];
    for (let l = 0; l < count; l++) {
      const id = lists.length + 1;
      ids.push(id);
      // id, user_id, name, color, inbox, sort_key, created_at, updated_at, position (its user's first changes)
      const name = l === 0 ? "Inbox" : `List ${l}`;
      lists.push([id, user, name, COLORS[l % COLORS.length], l === 0 ? "t" : "f", orderKeyNth(l), created, created, l + 1].join("\t"));
    }
    listIds.set(user, ids);
  }
  const heavyListIds = listIds.get(HEAVY_USER) ?? [];
  const heavyLists = heavyListIds.map((id) => ({ id, topLevel: [] as number[] }));
  const others: Loaded["others"] = [];
  let nextId = 1;
  function* tasks(): Generator<TaskRow> {
    for (const [user, count] of users) {
      const firstId = nextId;
      const ids = listIds.get(user) ?? [];
      for (let i = 0; i < count; i++) {
        const id = nextId++;
        // The user's lists took the first positions.
        const position = ids.length + i + 1;
        if (user === HEAVY_USER) {
          const place = heavyPlace(i);
          const parentId = place.parentIndex === null ? null : firstId + (place.parentIndex * HEAVY_LISTS + place.list);
          if (parentId === null) heavyLists[place.list]?.topLevel.push(id);
          yield { id, userId: user, i, listId: heavyListIds[place.list] as number, parentId, key: orderKeyNth(place.index), position };
        } else {
          yield { id, userId: user, i, listId: ids[0] as number, parentId: null, key: orderKeyNth(i), position };
        }
      }
      if (user !== HEAVY_USER && user !== DELETE_USER) others.push({ user, firstId, count });
    }
  }
  return { lists, tasks, heavyLists, others };
}

/** Text lines in COPY-sized chunks. */
function* chunks(lines: Iterable<string>): Generator<string> {
  let batch: string[] = [];
  for (const line of lines) {
    batch.push(line);
    if (batch.length === 5000) {
      yield `${batch.join("\n")}\n`;
      batch = [];
    }
  }
  if (batch.length > 0) yield `${batch.join("\n")}\n`;
}

function* mapped<T>(items: Iterable<T>, line: (item: T) => string): Generator<string> {
  for (const item of items) yield line(item);
}

/** Loads the data and returns what went in, where, and how long it took. */
export async function loadData(databaseUrl: string, plan: LoadPlan): Promise<Loaded> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = performance.now();
  try {
    // The role's 5 s statement_timeout is for API calls, not for bulk loads.
    await client.query("SET statement_timeout = 0");
    // The keys computed here must be the database's own.
    const samples = [0, 1, 61, 62, 63, 3905, 3906, 3907, 10_000, 250_000];
    const { rows: keys } = await client.query<{ n: string; key: string }>("SELECT n, order_key_nth(n) AS key FROM unnest($1::bigint[]) n", [
      samples,
    ]);
    for (const { n, key } of keys) {
      if (orderKeyNth(Number(n)) !== key) throw new Error(`orderKeyNth(${n}) is ${orderKeyNth(Number(n))}, order_key_nth says ${key}`);
    }
    const data = layout(plan);
    // COPY writes the ids given, identity columns included (as INSERT … OVERRIDING SYSTEM VALUE).
    await pipeline(
      Readable.from(chunks(data.lists)),
      client.query(copyFrom("COPY lists (id, user_id, name, color, inbox, sort_key, created_at, updated_at, position) FROM STDIN")),
    );
    await pipeline(
      Readable.from(chunks(mapped(data.tasks(), taskLine))),
      client.query(
        copyFrom(
          "COPY tasks (id, user_id, title, description, completed, completed_at, priority, tags, due_date, created_at, updated_at, position, list_id, parent_id, sort_key) FROM STDIN",
        ),
      ),
    );
    // The identities go on after the ids given.
    await client.query("SELECT setval(pg_get_serial_sequence('lists', 'id'), (SELECT max(id) FROM lists))");
    await client.query("SELECT setval(pg_get_serial_sequence('tasks', 'id'), GREATEST((SELECT max(id) FROM tasks), 1))");
    // Each user's change feed stands at their last position.
    await client.query(`
      INSERT INTO sync_state (user_id, position)
      SELECT user_id, max(position) FROM (SELECT user_id, position FROM tasks UNION ALL SELECT user_id, position FROM lists) changed
      GROUP BY user_id`);
    await client.query("ANALYZE lists");
    await client.query("ANALYZE tasks");
    const { rows: counted } = await client.query<{ tasks: string; lists: string }>(
      "SELECT (SELECT count(*) FROM tasks) AS tasks, (SELECT count(*) FROM lists) AS lists",
    );
    return {
      rows: Number(counted[0]?.tasks ?? 0),
      lists: Number(counted[0]?.lists ?? 0),
      seconds: (performance.now() - started) / 1000,
      heavyLists: data.heavyLists,
      others: data.others,
    };
  } finally {
    await client.end();
  }
}

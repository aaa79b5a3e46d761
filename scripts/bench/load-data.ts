// Bulk-loads benchmark data straight into Postgres with COPY (not through the API): one heavy
// user with 10,000 varied tasks among 1,000,000 tasks of 1,000 other users, plus a pool of
// tasks for the delete scenario.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

export const HEAVY_USER = "bench-heavy-user";
export const WRITER_USER = "bench-writer";
export const DELETE_USER = "bench-deleter";

export interface LoadPlan {
  heavyTasks: number;
  otherUsers: number;
  tasksPerOtherUser: number;
  deletePool: number;
}

const WORDS = ["report", "email", "call", "groceries", "invoice", "review", "plan", "fix", "write", "book", "clean", "pay"];
const TAG_SETS = ["{}", "{work}", "{home}", "{work,urgent}", "{home,errands}", "{work,report}", "{family}"];
const PRIORITIES = ["low", "medium", "high"];
const START = Date.parse("2025-11-23T00:00:00.000Z");
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** One COPY text-format line for task number i of a user. */
function row(userId: string, i: number): string {
  const word = WORDS[i % WORDS.length] as string;
  const created = new Date(START + ((i * 7919) % YEAR_MS) + (i % 1000)).toISOString();
  const completed = i % 2 === 0;
  const due = i % 5 === 0 ? "\\N" : new Date(START + ((i * 104729) % (2 * YEAR_MS))).toISOString();
  const description = i % 3 === 0 ? "\\N" : `Details for ${word} number ${i}`;
  return [
    userId,
    `${word.charAt(0).toUpperCase()}${word.slice(1)} ${i}`,
    description,
    completed ? "t" : "f",
    completed ? created : "\\N",
    PRIORITIES[i % 3],
    TAG_SETS[i % TAG_SETS.length],
    due,
    created,
    created,
    // The user's change position: task i is the (i+1)th change of its user.
    i + 1,
  ].join("\t");
}

function* rows(plan: LoadPlan): Generator<string> {
  const batch: string[] = [];
  const flush = () => {
    const text = `${batch.join("\n")}\n`;
    batch.length = 0;
    return text;
  };
  const users: [string, number][] = [
    [HEAVY_USER, plan.heavyTasks],
    [DELETE_USER, plan.deletePool],
    ...Array.from({ length: plan.otherUsers }, (_, u): [string, number] => [`bench-user-${u}`, plan.tasksPerOtherUser]),
  ];
  for (const [user, count] of users) {
    for (let i = 0; i < count; i++) {
      batch.push(row(user, i));
      if (batch.length === 5000) yield flush();
    }
  }
  if (batch.length > 0) yield flush();
}

/** Loads the data and returns how many rows went in and how long it took. */
export async function loadData(databaseUrl: string, plan: LoadPlan): Promise<{ rows: number; seconds: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = performance.now();
  try {
    // The role's 5 s statement_timeout is for API calls, not for bulk loads.
    await client.query("SET statement_timeout = 0");
    const copy = client.query(
      copyFrom(
        "COPY tasks (user_id, title, description, completed, completed_at, priority, tags, due_date, created_at, updated_at, position) FROM STDIN",
      ),
    );
    await pipeline(Readable.from(rows(plan)), copy);
    // Each user's change feed stands at their last position.
    await client.query("INSERT INTO sync_state (user_id, position) SELECT user_id, max(position) FROM tasks GROUP BY user_id");
    await client.query("ANALYZE tasks");
    const { rows: counted } = await client.query<{ count: string }>("SELECT count(*) FROM tasks");
    return { rows: Number(counted[0]?.count ?? 0), seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

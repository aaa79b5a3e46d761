// The query plan check: EXPLAIN every list query the benchmark sends for the heavy user (and a
// first page of every sort), the change feed's statements and the other plain reads of lists and
// the trash, exactly as the Worker builds them, and report the plans' top nodes. Writes and the
// reads that run inside a database function (task_write, list_read, task_changes) show only a
// Function Scan to EXPLAIN: those run for real, each in a transaction that is rolled back, and
// the scans they made are counted (pg_stat_xact_user_tables). A sequential scan on tasks, lists or
// tombstones is flagged either way.
import pg from "pg";
import * as v from "valibot";
import { changesStatement } from "../../src/db/changes.ts";
import type { Db } from "../../src/db/client.ts";
import { findList, readLists } from "../../src/db/lists.ts";
import { compile, type Sql } from "../../src/db/sql.ts";
import { listStatement, type Operation, write } from "../../src/db/tasks.ts";
import { readTrash } from "../../src/db/trash.ts";
import { decodeCursor, encodeCursor } from "../../src/schemas/cursor.ts";
import { parseListQuery, SORTS } from "../../src/schemas/listing.ts";
import { TaskInput } from "../../src/schemas/task.ts";
import type { Loaded } from "./load-data.ts";

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

export interface PlanCheck {
  query: string;
  top: string;
  seqScan: boolean;
}

/** A statement with the name the report gives it. */
export interface Named {
  name: string;
  statement: Sql;
}

/** Statements run together in one transaction (then rolled back), with the name the report gives them. */
export interface Executed {
  name: string;
  statements: Sql[];
}

/** The tables a sequential scan of which, at the benchmark's size, is a missing index. */
const WATCHED = ["tasks", "lists", "task_tombstones"];

function describe(node: PlanNode, depth: number): string {
  const label = node["Index Name"] ? `${node["Node Type"]} (${node["Index Name"]})` : node["Node Type"];
  const child = node.Plans?.[0];
  return depth > 0 && child ? `${label} → ${describe(child, depth - 1)}` : label;
}

function hasSeqScan(node: PlanNode): boolean {
  if (node["Node Type"] === "Seq Scan" && WATCHED.includes(node["Relation Name"] ?? "")) return true;
  return (node.Plans ?? []).some(hasSeqScan);
}

/** The statements a repository function sends, caught instead of run (each answered with no rows). */
export async function captured(call: (db: Db) => Promise<unknown>): Promise<Sql[]> {
  const statements: Sql[] = [];
  await call({
    query: async (statement) => {
      statements.push(statement);
      return [];
    },
  });
  return statements;
}

async function only(call: (db: Db) => Promise<unknown>): Promise<Sql> {
  const [statement, ...more] = await captured(call);
  if (statement === undefined || more.length > 0) throw new Error("expected exactly one statement");
  return statement;
}

/**
 * The statements of lists, manual order and the trash for `userId`, built by src/db/ as the
 * Worker builds them: the plain reads to EXPLAIN, and the writes and function reads to run.
 * `lists` are the user's lists with their top-level tasks (load-data.ts); at least 10 of them.
 */
export async function listStatements(userId: string, lists: Loaded["heavyLists"]): Promise<{ explained: Named[]; executed: Executed[] }> {
  const list = (index: number) => {
    const found = lists[index];
    if (found === undefined || found.topLevel.length < 6)
      throw new Error(`the plan check needs 10 lists of 6 tasks or more (list ${index})`);
    return found;
  };
  const ops = (operations: Operation[]) => only((db) => write(db, userId, operations));
  const [first, second] = [list(1), list(2)];
  const [task, anchor] = [first.topLevel[0] as number, first.topLevel[5] as number];
  return {
    explained: [
      { name: "GET /lists/{list_id}", statement: await only((db) => findList(db, userId, first.id)) },
      { name: "GET /trash", statement: await only((db) => readTrash(db, userId, 50, undefined)) },
    ],
    executed: [
      { name: "GET /lists (list_read)", statements: [await only((db) => readLists(db, userId))] },
      { name: "changes: full sync (task_changes)", statements: [changesStatement(userId, null, 1000)] },
      {
        name: "move within a list",
        statements: [
          await ops([{ op: "move", id: task, list_id: null, parent_id: null, after_id: anchor, before_id: null, if_match: null }]),
        ],
      },
      {
        name: "move to another list, with subtasks",
        statements: [
          await ops([{ op: "move", id: task, list_id: second.id, parent_id: null, after_id: null, before_id: null, if_match: null }]),
        ],
      },
      {
        name: "create in a list",
        statements: [await ops([{ op: "create", task: v.parse(TaskInput, { title: "Plan check", list_id: first.id }) }])],
      },
      {
        name: "delete and restore a task with subtasks",
        statements: [
          await ops([
            { op: "delete", id: task, if_match: null },
            { op: "restore", id: task },
          ]),
        ],
      },
      {
        name: "list move",
        statements: [await ops([{ op: "list_move", id: list(5).id, after_id: list(9).id, before_id: null, if_match: null }])],
      },
      {
        name: "list delete with move_to",
        statements: [await ops([{ op: "list_delete", id: list(7).id, move_to: list(8).id, if_match: null }])],
      },
      {
        name: "list delete and restore",
        statements: [
          await ops([
            { op: "list_delete", id: list(6).id, move_to: null, if_match: null },
            { op: "list_restore", id: list(6).id },
          ]),
        ],
      },
    ],
  };
}

/** Scans of the watched tables so far in this transaction, by table. */
async function scansSoFar(client: pg.Client): Promise<Map<string, { seq: number; index: number }>> {
  const { rows } = await client.query<{ relname: string; seq: string; index: string | null }>(
    "SELECT relname, seq_scan AS seq, idx_scan AS index FROM pg_stat_xact_user_tables WHERE relname = ANY ($1)",
    [WATCHED],
  );
  return new Map(rows.map((row) => [row.relname, { seq: Number(row.seq), index: Number(row.index ?? 0) }]));
}

/** Runs `statements` in a transaction, rolls it back, and reports the scans they made. */
async function runAndCount(client: pg.Client, { name, statements }: Executed): Promise<PlanCheck> {
  await client.query("BEGIN");
  try {
    const before = await scansSoFar(client);
    for (const statement of statements) {
      const { text, values } = compile(statement);
      await client.query(text, values);
    }
    const after = await scansSoFar(client);
    const counts = WATCHED.map((table) => {
      const [was, is] = [before.get(table), after.get(table)];
      return { table, seq: (is?.seq ?? 0) - (was?.seq ?? 0), index: (is?.index ?? 0) - (was?.index ?? 0) };
    }).filter((count) => count.seq > 0 || count.index > 0);
    const top = `run: ${counts.map((count) => `${count.table} ${count.index} index, ${count.seq} seq scans`).join("; ") || "no scans"}`;
    return { query: name, top, seqScan: counts.some((count) => count.seq > 0) };
  } finally {
    await client.query("ROLLBACK");
  }
}

/**
 * EXPLAINs every list query string (and a first page of every sort; `position` in `listId`, with a
 * second page of it) for `userId`, then the other named statements; then runs `executed`.
 */
export async function checkPlans(
  databaseUrl: string,
  userId: string,
  queryStrings: string[],
  options: { listId: number; explained?: Named[]; executed?: Executed[] },
): Promise<PlanCheck[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // The second page of a list by position: after its 100th task.
    const { rows: hundredth } = await client.query<{ value: string; id: string }>(
      `SELECT COALESCE(parent_id, 0) || ':' || sort_key AS value, id FROM tasks WHERE list_id = $1 AND deleted_at IS NULL
       ORDER BY COALESCE(parent_id, 0), sort_key OFFSET 99 LIMIT 1`,
      [options.listId],
    );
    const page = hundredth[0];
    const positions = [`list_id=${options.listId}&parent_id=none&sort=position`];
    if (page) {
      const cursor = encodeCursor({ sort: "position", value: page.value, id: Number(page.id) });
      positions.push(`list_id=${options.listId}&sort=position&cursor=${cursor}`);
    }
    const sorts = SORTS.map((sort) => (sort.endsWith("position") ? `list_id=${options.listId}&sort=${sort}` : `sort=${sort}`));
    const all = [...queryStrings, ...sorts, ...positions].map((queryString) => {
      const params = parseListQuery(new URLSearchParams(queryString));
      const cursor = params.cursor === undefined ? undefined : decodeCursor(params.cursor, params.sort);
      return {
        name: queryString.replace(/cursor=[^&]+/, "cursor=…").replace(/list_id=\d+/, "list_id=…"),
        statement: listStatement(userId, params, cursor),
      };
    });
    const checks: PlanCheck[] = [];
    for (const { name, statement } of [...all, ...(options.explained ?? [])]) {
      const { text, values } = compile(statement);
      const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
      const plan = rows[0]?.["QUERY PLAN"][0].Plan;
      if (!plan) throw new Error(`no plan for ${name}`);
      checks.push({ query: name, top: describe(plan, 2), seqScan: hasSeqScan(plan) });
    }
    for (const executed of options.executed ?? []) checks.push(await runAndCount(client, executed));
    return checks;
  } finally {
    await client.end();
  }
}

// The query plan check: EXPLAIN every list query the benchmark sends for the heavy user (and a
// first page of every sort) and the change feed's statements, exactly as the Worker builds them,
// and report the plans' top nodes; a sequential scan on tasks or tombstones is flagged.
import pg from "pg";
import { compile, type Sql } from "../../src/db/sql.ts";
import { listStatement } from "../../src/db/tasks.ts";
import { decodeCursor } from "../../src/schemas/cursor.ts";
import { parseListQuery, SORTS } from "../../src/schemas/listing.ts";

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

function describe(node: PlanNode, depth: number): string {
  const label = node["Index Name"] ? `${node["Node Type"]} (${node["Index Name"]})` : node["Node Type"];
  const child = node.Plans?.[0];
  return depth > 0 && child ? `${label} → ${describe(child, depth - 1)}` : label;
}

function hasSeqScanOnTasks(node: PlanNode): boolean {
  if (node["Node Type"] === "Seq Scan" && (node["Relation Name"] === "tasks" || node["Relation Name"] === "task_tombstones")) return true;
  return (node.Plans ?? []).some(hasSeqScanOnTasks);
}

/**
 * EXPLAINs every list query string (and a first page of every sort) for `userId`, then the other
 * named statements (the change feed's), each exactly as the Worker builds it.
 */
export async function checkPlans(
  databaseUrl: string,
  userId: string,
  queryStrings: string[],
  others: Array<{ name: string; statement: Sql }> = [],
): Promise<PlanCheck[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const all = [...queryStrings, ...SORTS.map((sort) => `sort=${sort}`)].map((queryString) => {
      const params = parseListQuery(new URLSearchParams(queryString));
      const cursor = params.cursor === undefined ? undefined : decodeCursor(params.cursor, params.sort);
      return { name: queryString.replace(/cursor=[^&]+/, "cursor=…"), statement: listStatement(userId, params, cursor) };
    });
    const checks: PlanCheck[] = [];
    for (const { name, statement } of [...all, ...others]) {
      const { text, values } = compile(statement);
      const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
      const plan = rows[0]?.["QUERY PLAN"][0].Plan;
      if (!plan) throw new Error(`no plan for ${name}`);
      checks.push({ query: name, top: describe(plan, 2), seqScan: hasSeqScanOnTasks(plan) });
    }
    return checks;
  } finally {
    await client.end();
  }
}

// The query plan check: EXPLAIN every list query the benchmark sends for the heavy user (and a
// first page of every sort), exactly as the Worker builds it, and report the plans' top nodes.
import pg from "pg";
import { listTasks } from "../../src/db/tasks.ts";
import { decodeCursor } from "../../src/schemas/cursor.ts";
import { parseListQuery, SORTS } from "../../src/schemas/list.ts";

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
  if (node["Node Type"] === "Seq Scan" && node["Relation Name"] === "tasks") return true;
  return (node.Plans ?? []).some(hasSeqScanOnTasks);
}

export async function checkPlans(databaseUrl: string, userId: string, queryStrings: string[]): Promise<PlanCheck[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const all = [...queryStrings, ...SORTS.map((sort) => `sort=${sort}`)];
    const checks: PlanCheck[] = [];
    for (const queryString of all) {
      const params = parseListQuery(new URLSearchParams(queryString));
      const cursor = params.cursor === undefined ? undefined : decodeCursor(params.cursor, params.sort);
      const statement = listTasks(userId, params, cursor);
      const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
        `EXPLAIN (FORMAT JSON) ${statement.text}`,
        statement.values,
      );
      const plan = rows[0]?.["QUERY PLAN"][0].Plan;
      if (!plan) throw new Error(`no plan for ${queryString}`);
      checks.push({ query: queryString.replace(/cursor=[^&]+/, "cursor=…"), top: describe(plan, 2), seqScan: hasSeqScanOnTasks(plan) });
    }
    return checks;
  } finally {
    await client.end();
  }
}

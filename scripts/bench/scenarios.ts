// The load scenarios and the autocannon runner that measures one at a time: throughput,
// exact latency percentiles (from every response time), non-2xx, errors, and the SQL
// statements Postgres executed per request (pg_stat_statements).
import autocannon from "autocannon";
import type pg from "pg";
import { encodeChangesCursor } from "../../src/schemas/changes.ts";
import { percentile } from "./latency.ts";
import type { Loaded } from "./load-data.ts";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface BenchRequest {
  method: Method;
  path: string;
  body?: unknown;
}

export interface Scenario {
  name: string;
  next: () => BenchRequest;
  /** Run once before the scenario (e.g. to read the cursor it starts from). */
  prepare?: () => Promise<void>;
}

export interface ScenarioResult {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  non2xx: number;
  errors: number;
  sqlPerRequest: number;
  /** Mean time Postgres spent executing one of the scenario's statements, in ms. */
  sqlMs: number;
}

export interface BenchIds {
  heavy: number[];
  deletePool: number[];
}

export interface ScenarioContext {
  ids: BenchIds;
  tokens: Record<string, string>;
  heavyUser: string;
  writerUser: string;
  deleteUser: string;
  /** The heavy user's lists, each with its top-level tasks in order. */
  heavyLists: Loaded["heavyLists"];
  heavyTasks: number;
  /** The other users, each with its tasks (all in its Inbox). */
  others: Loaded["others"];
  deepCursor: string;
  /** The user's change position now (sync_state). */
  head: (user: string) => Promise<number>;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const below = (count: number) => Math.floor(Math.random() * count);
const PRIORITIES = ["low", "medium", "high"] as const;

export function scenarios(c: ScenarioContext): Scenario[] {
  const heavy = `/api/${c.heavyUser}/tasks`;
  const writer = `/api/${c.writerUser}/tasks`;
  const deleter = `/api/${c.deleteUser}/tasks`;
  let deleted = 0;
  // A move needs a sibling to go after.
  const movers = c.others.filter((other) => other.count >= 2);
  if (movers.length === 0)
    throw new Error("the move scenario needs other users with 2 tasks or more (BENCH_OTHER_USERS, BENCH_TASKS_PER_USER)");
  const listFirst = (): BenchRequest => ({ method: "GET", path: `${heavy}?limit=100` });
  const getOne = (): BenchRequest => ({ method: "GET", path: `${heavy}/${pick(c.ids.heavy)}` });
  const create = (): BenchRequest => ({
    method: "POST",
    path: writer,
    body: { title: `Bench task ${Math.random().toString(36).slice(2)}`, tags: ["bench"], priority: pick(PRIORITIES) },
  });
  const patch = (): BenchRequest => ({
    method: "PATCH",
    path: `${heavy}/${pick(c.ids.heavy)}`,
    body: { title: `Patched ${Math.random().toString(36).slice(2)}`, priority: pick(PRIORITIES) },
  });
  const list: Scenario[] = [
    { name: "list first page", next: listFirst },
    {
      name: "list status+tag+q, sort=due_date",
      next: () => ({ method: "GET", path: `${heavy}?status=pending&tag=work&q=report&sort=due_date` }),
    },
    { name: "list deep page (cursor)", next: () => ({ method: "GET", path: `${heavy}?limit=100&cursor=${c.deepCursor}` }) },
    { name: "get one", next: getOne },
    { name: "create", next: create },
    {
      name: "put",
      next: () => ({
        method: "PUT",
        path: `${heavy}/${pick(c.ids.heavy)}`,
        body: { title: "Replaced", description: "full replacement", priority: pick(PRIORITIES), tags: ["work"], due_date: null },
      }),
    },
    { name: "patch", next: patch },
    { name: "complete (toggle)", next: () => ({ method: "PATCH", path: `${heavy}/${pick(c.ids.heavy)}/complete` }) },
    // Lists and manual order (docs/lists.md): the first page of one of the heavy user's lists in
    // its order, and a move within a list. The moves are spread over the other users (each moves a
    // task of its Inbox right after another), as users' writes are: one user's writes wait for each
    // other (its lock), which the patch and create figures above already show.
    {
      name: `list by position (${formatCount(c.heavyTasks)} tasks, ${c.heavyLists.length} lists)`,
      next: () => ({ method: "GET", path: `${heavy}?list_id=${pick(c.heavyLists).id}&sort=position` }),
    },
    {
      name: "move",
      next: () => {
        const { user, firstId, count } = pick(movers);
        const task = below(count);
        const after = (task + 1 + below(count - 1)) % count;
        return { method: "POST", path: `/api/${user}/tasks/${firstId + task}/move`, body: { after_id: firstId + after } };
      },
    },
    {
      name: "delete",
      next: () => {
        const id = c.ids.deletePool[deleted++ % c.ids.deletePool.length];
        return { method: "DELETE", path: `${deleter}/${id}` };
      },
    },
  ];
  // Sync (API.md "Changes", "Batch"), after the writes above, on the heavy user's data.
  let nothingNew = "";
  let hundredBack = "";
  const changes = `/api/${c.heavyUser}/changes`;
  const sync: Scenario[] = [
    {
      name: "changes: nothing new",
      prepare: async () => {
        nothingNew = encodeChangesCursor(await c.head(c.heavyUser));
      },
      next: () => ({ method: "GET", path: `${changes}?since=${nothingNew}` }),
    },
    {
      name: "changes: 100 changes",
      prepare: async () => {
        hundredBack = encodeChangesCursor(Math.max(0, (await c.head(c.heavyUser)) - 100));
      },
      next: () => ({ method: "GET", path: `${changes}?since=${hundredBack}` }),
    },
    // The heavy user's lists took its first positions: the page has all 50 of them, and 950 tasks.
    { name: "changes: full sync with lists, first page of 1000", next: () => ({ method: "GET", path: `${changes}?limit=1000` }) },
    {
      name: "batch of 100 creates",
      next: () => ({
        method: "POST",
        path: `${writer}/batch`,
        body: { operations: Array.from({ length: 100 }, (_, i) => ({ op: "create", task: { title: `Batch ${i}`, tags: ["bench"] } })) },
      }),
    },
  ];
  return [
    ...list,
    weightedMix("mixed 80% read / 20% write", list, { "list first page": 32, "get one": 48, patch: 10, create: 10 }),
    ...sync,
  ];
}

/** 10000 → "10k", 2500 → "2.5k", 800 → "800". */
function formatCount(count: number): string {
  return count >= 1000 ? `${Number((count / 1000).toFixed(1))}k` : String(count);
}

/** A scenario whose every request is one of the named scenarios', picked at random by weight. */
export function weightedMix(name: string, from: Scenario[], weights: Record<string, number>): Scenario {
  const table = Object.entries(weights).map(([part, weight]) => {
    const scenario = from.find((s) => s.name === part);
    if (!scenario) throw new Error(`no scenario "${part}"`);
    return { scenario, weight };
  });
  const total = table.reduce((sum, row) => sum + row.weight, 0);
  return {
    name,
    next: () => {
      let roll = Math.random() * total;
      for (const row of table) {
        roll -= row.weight;
        if (roll < 0) return row.scenario.next();
      }
      return (table.at(-1) as (typeof table)[number]).scenario.next();
    },
  };
}

function tokenFor(path: string, tokens: Record<string, string>): string {
  const user = /^\/api\/([^/]+)\//.exec(path)?.[1] ?? "";
  const token = tokens[user];
  if (token === undefined) throw new Error(`no token for ${user}`);
  return token;
}

/** Count and exact percentiles (ms) of response times. */
export function latencySummary(latencies: number[]): { requests: number; p50: number; p95: number; p99: number; max: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export interface RunOptions {
  url: string;
  connections: number;
  tokens: Record<string, string>;
  /** Called for every response, as it lands. */
  onResponse?: (status: number, ms: number) => void;
}

type Length = { seconds: number } | { amount: number };

/** Drives `scenario` for a time or a number of requests; returns latencies (ms) and autocannon's result. */
export async function drive(
  scenario: Scenario,
  options: RunOptions,
  length: Length,
): Promise<{ latencies: number[]; result: autocannon.Result }> {
  const latencies: number[] = [];
  const settings = {
    url: options.url,
    connections: options.connections,
    ...("seconds" in length ? { duration: length.seconds } : { amount: length.amount }),
    timeout: 15,
    requests: [
      {
        setupRequest: (request) => {
          const next = scenario.next();
          const headers: Record<string, string> = { authorization: `Bearer ${tokenFor(next.path, options.tokens)}` };
          if (next.body !== undefined) headers["content-type"] = "application/json";
          return {
            ...request,
            method: next.method,
            path: next.path,
            headers,
            ...(next.body === undefined ? { body: "" } : { body: JSON.stringify(next.body) }),
          };
        },
      },
    ],
  } satisfies autocannon.Options;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(settings, (error, done) => (error ? reject(error) : resolve(done)));
    instance.on("response", (_client, status, _bytes, responseTime) => {
      latencies.push(responseTime);
      options.onResponse?.(status, responseTime);
    });
  });
  return { latencies, result };
}

/** Statements Postgres executed since the last reset (not counting the bench's own), and their mean time. */
async function statementsSinceReset(db: pg.Client): Promise<{ calls: number; meanMs: number }> {
  const { rows } = await db.query<{ calls: string | null; ms: number | null }>(
    // Top-level statements: the round trips (task_write's inner statements are part of its one call, and of its time).
    "SELECT sum(calls) AS calls, sum(total_exec_time) AS ms FROM pg_stat_statements WHERE toplevel AND query NOT ILIKE '%pg_stat_statements%'",
  );
  const calls = Number(rows[0]?.calls ?? 0);
  return { calls, meanMs: calls === 0 ? 0 : Number(rows[0]?.ms ?? 0) / calls };
}

/** Requests of the counted run that measures SQL statements per request exactly. */
const COUNTED_REQUESTS = 1000;

export async function runScenario(
  scenario: Scenario,
  options: RunOptions & { seconds: number; warmupSeconds: number; db: pg.Client },
): Promise<ScenarioResult> {
  await scenario.prepare?.();
  await drive(scenario, options, { seconds: options.warmupSeconds });
  const { latencies, result } = await drive(scenario, options, { seconds: options.seconds });
  // A timed run ends with requests in flight; let them land (a slow scenario's take seconds:
  // counted after the reset, they made a batch look like 1.01 statements), then count statements
  // over a run that waits for every response.
  const slowest = latencySummary(latencies).max;
  const landed = Math.max(2_000, Number.isFinite(slowest) ? 2 * slowest : 0);
  await new Promise((resolve) => setTimeout(resolve, landed));
  await options.db.query("SELECT pg_stat_statements_reset()");
  await drive(scenario, options, { amount: COUNTED_REQUESTS });
  const statements = await statementsSinceReset(options.db);
  const { requests, p50, p95, p99 } = latencySummary(latencies);
  return {
    name: scenario.name,
    requests,
    rps: requests / options.seconds,
    p50,
    p95,
    p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    sqlPerRequest: statements.calls / COUNTED_REQUESTS,
    sqlMs: statements.meanMs,
  };
}

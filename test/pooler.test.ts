// The test suite's pooler (scripts/lib/pooler.ts), which every Worker under test reaches the
// database through, as Hyperdrive pools in production: connections are cheap and share a few
// backends, a backend goes back to the pool only when it is idle, and a database that is down is
// a connection failure (SQLSTATE class 08), which the Worker maps to 503.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningPooler, startPooler } from "../scripts/lib/pooler.ts";

let pooler: RunningPooler;
let url: string;

beforeAll(async () => {
  pooler = await startPooler({ target: inject("databaseUrl"), size: 4 });
  url = pooler.urlFor(inject("databaseUrl"));
});
afterAll(() => pooler?.stop());

async function connect(options: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, ...options });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** One statement on a connection of its own, as the Worker runs every request. */
async function once<Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
  const client = await connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const backendPid = async () => (await once<{ pid: number }>("SELECT pg_backend_pid() AS pid"))[0]?.pid;

describe("the pooler in front of the suite's Postgres", () => {
  it("serves many connections, one statement each, from the same few backends", async () => {
    const before = pooler.stats.backends;
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => once<{ n: number }>("SELECT $1::int AS n", [i])));
    expect(answers.map((rows) => rows[0]?.n)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(pooler.stats.backends - before).toBeLessThanOrEqual(4);
    const pids = new Set<number | undefined>();
    for (let i = 0; i < 10; i++) pids.add(await backendPid());
    expect(pids.size).toBeLessThanOrEqual(4);
  });

  it("answers with the server's parameters at startup, so drivers parse types as they would directly", async () => {
    const client = await connect();
    try {
      const { rows } = await client.query<{ at: Date; big: string; list: number[] }>(
        "SELECT TIMESTAMPTZ '2026-01-02T03:04:05Z' AS at, 9007199254740993::bigint AS big, ARRAY[1,2] AS list",
      );
      expect(rows[0]).toEqual({ at: new Date("2026-01-02T03:04:05Z"), big: "9007199254740993", list: [1, 2] });
    } finally {
      await client.end();
    }
  });

  it("passes errors through with their SQLSTATE, and the backend serves the next client", async () => {
    await expect(once("SELECT 1/0")).rejects.toMatchObject({ code: "22012" });
    expect(await once<{ ok: number }>("SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
  });

  it("never hands out a backend left inside a transaction or mid-statement: it is closed instead", async () => {
    // One backend at most, so a backend that went back to the pool would be the next one handed out.
    const single = await startPooler({ target: inject("databaseUrl"), size: 1 });
    const connectSingle = async (options: Partial<pg.ClientConfig> = {}) => {
      const client = new pg.Client({ connectionString: single.urlFor(inject("databaseUrl")), ...options });
      client.on("error", () => {});
      await client.connect();
      return client;
    };
    /** The backend's pid, and whether the statement ran in a transaction of its own (now() is its start). */
    const probe = async () => {
      const client = await connectSingle();
      try {
        const { rows } = await client.query<{ pid: number; fresh: boolean }>(
          "SELECT pg_backend_pid() AS pid, now() = statement_timestamp() AS fresh",
        );
        return rows[0];
      } finally {
        await client.end();
      }
    };
    try {
      const first = await probe();
      expect(await probe()).toEqual(first);

      // A client that leaves inside a transaction.
      const inTransaction = await connectSingle();
      await inTransaction.query("BEGIN");
      await inTransaction.query("SELECT 1");
      await inTransaction.end();
      const afterTransaction = await probe();
      expect(afterTransaction?.fresh).toBe(true);
      expect(afterTransaction?.pid).not.toBe(first?.pid);

      // A client that gives up on a slow statement, as the Worker's query timeout does.
      const impatient = await connectSingle({ query_timeout: 100 });
      await expect(impatient.query("SELECT pg_sleep(3)")).rejects.toThrow(/timeout/i);
      await impatient.end();
      const startedAt = Date.now();
      const afterTimeout = await probe();
      expect(afterTimeout?.fresh).toBe(true);
      expect(afterTimeout?.pid).not.toBe(afterTransaction?.pid);
      // It did not wait for the abandoned statement to finish on the old backend.
      expect(Date.now() - startedAt).toBeLessThan(2_500);
    } finally {
      await single.stop();
    }
  });

  it("answers a connection failure (08006) when the database cannot be reached", async () => {
    const nowhere = await startPooler({ target: "postgres://postgres:postgres@127.0.0.1:1/tasks" });
    try {
      const client = new pg.Client({ connectionString: nowhere.urlFor("postgres://postgres:postgres@127.0.0.1:1/tasks") });
      client.on("error", () => {});
      const failure = await client.connect().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: "08006" });
    } finally {
      await nowhere.stop();
    }
  });
});

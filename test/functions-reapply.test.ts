// src/db/functions.sql is applied after the migrations every time (npm run dev, a deploy's
// db:migrate, every test database): applying it to a database that already has it, from this
// checkout or with functions an older one defined, must work, or a second `npm run dev` on the
// same data directory fails to start.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyFunctions } from "../scripts/lib/migrate.ts";
import { type ScratchDatabase, scratchDatabase } from "./support/database.ts";

let database: ScratchDatabase;
beforeAll(async () => {
  database = await scratchDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe("applying the functions again", () => {
  it("succeeds on a database that has them, also when an older version left functions of another signature", async () => {
    await applyFunctions(database.url);
    // What an older checkout defined (task_rebalance before lists took the writer as an argument).
    await database.admin.query(
      "CREATE FUNCTION task_rebalance(bigint, bigint, bigint) RETURNS bigint LANGUAGE sql AS $$ SELECT 0::bigint $$",
    );
    await applyFunctions(database.url);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ signature: string }>(
        "SELECT p.oid::regprocedure::text AS signature FROM pg_proc p WHERE p.proname = 'task_rebalance'",
      );
      expect(rows.map((row) => row.signature)).toEqual(["task_rebalance(text,bigint,bigint,bigint)"]);
      // And the API's write works after it.
      const written = await client.query<{ status: number }>(
        "SELECT status FROM task_write('reapplied', $1::jsonb, NULL, NULL, '{}'::jsonb)",
        [JSON.stringify([{ op: "list_create", list: { name: "x", color: null } }])],
      );
      expect(written.rows.map((row) => row.status)).toEqual([201]);
    } finally {
      await client.end();
    }
  });
});

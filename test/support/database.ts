// A database of a test's own on the suite's Postgres server: for tests that need DDL (a trigger,
// say), which on the shared tasks table would wait for, and then block, every other test file's
// writes. Created and migrated here, dropped (with its connections) afterwards.
import { readdirSync } from "node:fs";
import { runner } from "node-pg-migrate";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { MIGRATIONS_DIR, migrate } from "../../scripts/lib/migrate.ts";

export interface ScratchDatabase {
  url: string;
  /** A connection for the test's own statements, with no statement_timeout of its own. */
  admin: pg.Client;
  drop(): Promise<void>;
}

/**
 * Runs the migrations up to and including `last` (a file name in migrations/ without .sql), and
 * not src/db/functions.sql: a database as an older release left it, for a migration's own test.
 */
export async function migrateUpTo(databaseUrl: string, last: string): Promise<void> {
  const names = readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith(".sql"))
    .map((name) => name.slice(0, -".sql".length))
    .sort();
  const count = names.indexOf(last) + 1;
  if (count === 0) throw new Error(`no migration ${last} in ${MIGRATIONS_DIR}`);
  await runner({ databaseUrl, dir: MIGRATIONS_DIR, direction: "up", migrationsTable: "pgmigrations", count, log: () => {} });
}

/** A database of the test's own: migrated to the end (with the functions), or only up to `upTo` (see migrateUpTo). */
export async function scratchDatabase(options: { upTo?: string } = {}): Promise<ScratchDatabase> {
  const server = new URL(inject("databaseUrl"));
  const name = `tasks_scratch_${crypto.randomUUID().replaceAll("-", "")}`;
  const maintenance = new URL(server);
  maintenance.pathname = "/postgres";
  const root = new pg.Client({ connectionString: maintenance.href });
  await root.connect();
  try {
    // The role's 5 s statement_timeout (migration 0002) is for the Worker: on a busy machine
    // creating or dropping a database (a checkpoint) can take longer.
    await root.query("SET statement_timeout = 0");
    await root.query(`CREATE DATABASE ${name}`);
  } finally {
    await root.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  if (options.upTo === undefined) await migrate(url.href);
  else await migrateUpTo(url.href, options.upTo);
  const admin = new pg.Client({ connectionString: url.href });
  await admin.connect();
  // The role's 5 s statement_timeout is for the Worker; the test's own DDL must not race it.
  await admin.query("SET statement_timeout = 0");
  return {
    url: url.href,
    admin,
    drop: async () => {
      await admin.end();
      const again = new pg.Client({ connectionString: maintenance.href });
      await again.connect();
      try {
        await again.query("SET statement_timeout = 0");
        await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await again.end();
      }
    },
  };
}

/** A connection to the suite's own database for a test file's SQL: opened before its tests, closed after them. */
export function suiteDatabase(): pg.Client {
  const client = new pg.Client({ connectionString: inject("databaseUrl") });
  beforeAll(() => client.connect());
  afterAll(() => client.end());
  return client;
}

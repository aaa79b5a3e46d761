// Brings a database up to date: the migrations in migrations/ with node-pg-migrate (plain SQL
// files, tracked in the pgmigrations table), then the current definition of the write functions
// (src/db/functions.sql), applied every time in one transaction.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import pg from "pg";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const MIGRATIONS_DIR = path.join(ROOT, "migrations");

/**
 * Runs every pending migration and (re)creates the functions; returns the names of the migrations
 * it ran. `checkout`: another checkout's schema (the benchmark's before/after runs).
 */
export async function migrate(databaseUrl: string, log: (line: string) => void = () => {}, checkout = ROOT): Promise<string[]> {
  const ran = await runner({
    databaseUrl,
    dir: path.join(checkout, "migrations"),
    direction: "up",
    migrationsTable: "pgmigrations",
    // Concurrent runs (two test workers, a deploy and a dev server) wait for each other.
    advisoryLockMode: "wait",
    log,
  });
  await applyFunctions(databaseUrl, checkout);
  return ran.map((migration) => migration.name);
}

/** src/db/functions.sql, in one transaction that concurrent runs take one after the other. */
export async function applyFunctions(databaseUrl: string, checkout = ROOT): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext('task-api functions'))");
    await client.query(readFileSync(path.join(checkout, "src/db/functions.sql"), "utf8"));
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

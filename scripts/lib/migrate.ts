// Applies migrations/ with node-pg-migrate: plain SQL files, tracked in the pgmigrations table.
import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

/** Runs every pending migration; returns the names of those it ran. */
export async function migrate(databaseUrl: string, log: (line: string) => void = () => {}): Promise<string[]> {
  const ran = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: "up",
    migrationsTable: "pgmigrations",
    // Concurrent runs (two test workers, a deploy and a dev server) wait for each other.
    advisoryLockMode: "wait",
    log,
  });
  return ran.map((migration) => migration.name);
}

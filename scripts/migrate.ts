// npm run db:migrate: applies migrations/ to the database at DATABASE_URL (Neon in production).
import { migrate } from "./lib/migrate.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set. Example: DATABASE_URL='postgres://user:pass@host/db?sslmode=require' npm run db:migrate");
  process.exit(1);
}
const ran = await migrate(url, (line) => console.log(line));
console.log(
  ran.length === 0 ? "No migrations to run: the database is up to date." : `Applied ${ran.length} migration(s): ${ran.join(", ")}`,
);

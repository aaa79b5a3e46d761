// npm run dev: an embedded Postgres (kept in .data/postgres), migrated, and `wrangler dev` on
// http://127.0.0.1:8787 with the Hyperdrive binding pointed at it. Ctrl-C stops both.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import path from "node:path";
import { readDevVars } from "./lib/dev-vars.ts";
import { migrate } from "./lib/migrate.ts";
import { startPostgres } from "./lib/postgres.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const PG_PORT = Number(process.env.DEV_PG_PORT ?? 54329);
const PORT = process.env.PORT ?? "8787";

if (!existsSync(path.join(ROOT, ".dev.vars"))) {
  copyFileSync(path.join(ROOT, ".dev.vars.example"), path.join(ROOT, ".dev.vars"));
  console.log("Created .dev.vars from .dev.vars.example (local secrets; never commit it).");
}

console.log(`Starting Postgres on 127.0.0.1:${PG_PORT} (data in .data/postgres)…`);
const postgres = await startPostgres({
  dataDir: path.join(ROOT, ".data/postgres"),
  port: PG_PORT,
  database: "tasks",
  persistent: true,
});
const ran = await migrate(postgres.url);
console.log(ran.length ? `Applied migrations: ${ran.join(", ")}` : "Database is up to date.");

const user = "demo-user";
console.log(`
Task API: http://127.0.0.1:${PORT}   database: ${postgres.url}
Get a token (7 days, signed with BETTER_AUTH_SECRET from .dev.vars):
  TOKEN=$(npm run --silent token -- ${user})
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${PORT}/api/${user}/tasks
`);
const devVars = readDevVars(path.join(ROOT, ".dev.vars"));
if (!devVars.BETTER_AUTH_SECRET && !devVars.BETTER_AUTH_URL && !devVars.JWT_JWKS_URL) {
  console.warn("Warning: .dev.vars has no BETTER_AUTH_SECRET (nor BETTER_AUTH_URL); /api calls will answer 500 until it does.");
}

const wrangler = spawn(
  process.execPath,
  [path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "dev", "--ip", "127.0.0.1", "--port", PORT, ...process.argv.slice(2)],
  {
    cwd: ROOT,
    stdio: "inherit",
    env: {
      ...process.env,
      CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: postgres.url,
      WRANGLER_SEND_METRICS: "false",
      // No internet here or in CI: use the placeholder `request.cf` instead of fetching it.
      CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
    },
  },
);

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    wrangler.kill("SIGTERM");
    await postgres.stop().catch(() => {});
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 0));

// npm run dev: an embedded Postgres (data in DEV_DATA_DIR, default .data/postgres), migrated, and
// `wrangler dev` on http://127.0.0.1:8787 (PORT) with the Hyperdrive binding pointed at it. It
// first checks that its ports and data directory are free, and lets the usual local frontend
// origins through CORS unless ALLOWED_ORIGINS is set. Ctrl-C stops both.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type DevOrigins, devOrigins, OLD_EXAMPLE_ORIGINS, wranglerVar } from "./lib/dev-origins.ts";
import { readDevVars } from "./lib/dev-vars.ts";
import { nextFreePort, portInUse, postmasterLock } from "./lib/in-use.ts";
import { migrate } from "./lib/migrate.ts";
import { PostgresStartError, type RunningPostgres, startPostgres } from "./lib/postgres.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const PORT = portSetting("PORT", 8787);
const PG_PORT = portSetting("DEV_PG_PORT", 54329);
// Another data directory gives a second instance (or a docs run) a fresh database of its own.
const DATA_DIR = process.env.DEV_DATA_DIR || ".data/postgres";
const DATA_PATH = path.resolve(ROOT, DATA_DIR);

/** One clear message and exit 1: whoever reads it is starting a dev server, not debugging this script. */
function fail(message: string): never {
  console.error(`\nnpm run dev: ${message}`);
  process.exit(1);
}

function portSetting(name: string, fallback: number): number {
  const value = process.env[name] || String(fallback);
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${name}=${value} is not a port number (1 to 65535).`);
  return port;
}

/** The next numbered sibling of the data directory that no running Postgres holds. */
function freeDataDir(): string {
  const base = DATA_DIR.replace(/-\d+$/, "");
  for (let n = 2; ; n++) if (postmasterLock(path.resolve(ROOT, `${base}-${n}`)) === undefined) return `${base}-${n}`;
}

/** How to start another instance beside whatever holds these ports and this data directory. */
async function besideIt(): Promise<string> {
  return `PORT=${await nextFreePort(PORT + 1)} DEV_PG_PORT=${await nextFreePort(PG_PORT + 1)} DEV_DATA_DIR=${freeDataDir()} npm run dev`;
}

/**
 * Before starting anything: the HTTP port, the Postgres port and the data directory's lock (held
 * by a running postmaster, another npm run dev's most likely). Each taken one is named with the
 * setting that moves it; Postgres and wrangler would otherwise fail halfway, Postgres wordlessly.
 */
async function refuseWhatIsTaken(): Promise<void> {
  const taken: string[] = [];
  const moves: string[] = [];
  if (await portInUse(PORT)) {
    taken.push(`port ${PORT} (PORT), the API's HTTP port`);
    moves.push(`PORT=${await nextFreePort(PORT + 1)}`);
  }
  if (await portInUse(PG_PORT)) {
    taken.push(`port ${PG_PORT} (DEV_PG_PORT), Postgres's port`);
    moves.push(`DEV_PG_PORT=${await nextFreePort(PG_PORT + 1)}`);
  }
  const lock = postmasterLock(DATA_PATH);
  if (lock !== undefined) {
    const holder = `Postgres pid ${lock.pid}${lock.port === undefined ? "" : ` (port ${lock.port})`}`;
    taken.push(`the data directory ${DATA_DIR} (DEV_DATA_DIR): ${holder} holds its lock`);
    moves.push(`DEV_DATA_DIR=${freeDataDir()}`);
  }
  if (taken.length === 0) return;
  fail(
    [
      "already in use, so nothing was started:",
      ...taken.map((what) => `  - ${what}`),
      "Is another npm run dev running? Stop it (Ctrl-C in its terminal), or start this one beside it:",
      `  ${moves.join(" ")} npm run dev`,
    ].join("\n"),
  );
}

async function startDatabase(): Promise<RunningPostgres> {
  console.log(`Starting Postgres on 127.0.0.1:${PG_PORT} (data in ${DATA_DIR}, DEV_DATA_DIR)…`);
  const postgres = await startPostgres({ dataDir: DATA_PATH, port: PG_PORT, database: "tasks", persistent: true });
  try {
    const ran = await migrate(postgres.url);
    console.log(ran.length ? `Applied migrations: ${ran.join(", ")}` : "Database is up to date.");
    return postgres;
  } catch (error) {
    await postgres.stop().catch(() => {});
    throw error;
  }
}

function corsBanner(cors: DevOrigins): string {
  const rows = [];
  for (let i = 0; i < cors.origins.length; i += 4) rows.push(`  ${cors.origins.slice(i, i + 4).join("  ")}`);
  const restart = "then restart npm run dev: wrangler dev does not reload .dev.vars.";
  if (cors.from === "default") {
    return [
      "CORS: browser apps on these origins may call the API (ALLOWED_ORIGINS is not set, so npm run dev allows the usual local dev servers):",
      ...rows,
      `To allow another, set ALLOWED_ORIGINS in .dev.vars (comma-separated) to every origin you want, ${restart}`,
    ].join("\n");
  }
  const lines = [
    `CORS: browser apps on these origins may call the API (ALLOWED_ORIGINS from ${cors.from}):`,
    ...rows,
    `To change them, set ALLOWED_ORIGINS in .dev.vars (comma-separated), ${restart}`,
  ];
  if (cors.origins.join(",") === OLD_EXAMPLE_ORIGINS) {
    lines.push(
      "(Older copies of .dev.vars.example pinned these two: delete the line to allow the usual local dev servers, 5173, 4200 and 8080 too.)",
    );
  }
  return lines.join("\n");
}

let postgres: RunningPostgres;
try {
  await refuseWhatIsTaken();
  if (!existsSync(path.join(ROOT, ".dev.vars"))) {
    copyFileSync(path.join(ROOT, ".dev.vars.example"), path.join(ROOT, ".dev.vars"));
    console.log("Created .dev.vars from .dev.vars.example (local secrets; never commit it).");
  }
  postgres = await startDatabase();
} catch (error) {
  if (error instanceof PostgresStartError) fail(`${error.message}\nTo run beside another Postgres or npm run dev: ${await besideIt()}`);
  fail(error instanceof Error ? error.message : `failed to start (${String(error)})`);
}

// wrangler dev reads .dev.vars (when present it wins over wrangler.toml's [vars]); a --var beats both,
// so the local default goes in as one only when neither sets ALLOWED_ORIGINS.
const devVars = readDevVars(path.join(ROOT, ".dev.vars"));
const cors = devOrigins(devVars.ALLOWED_ORIGINS, wranglerVar(readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"), "ALLOWED_ORIGINS"));
const corsArgs = cors.from === "default" ? ["--var", `ALLOWED_ORIGINS:${cors.origins.join(",")}`] : [];

const user = "demo-user";
console.log(`
Task API: http://127.0.0.1:${PORT}   database: ${postgres.url} (data in ${DATA_DIR})
  open it in a browser for links to /docs (the API reference) and /demo (the live demo)
Get a token (7 days, signed with BETTER_AUTH_SECRET from .dev.vars):
  TOKEN=$(npm run --silent token -- ${user})
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${PORT}/api/${user}/tasks
${corsBanner(cors)}
Another instance beside this one (its own ports and database): ${await besideIt()}
`);
if (!devVars.BETTER_AUTH_SECRET && !devVars.BETTER_AUTH_URL && !devVars.JWT_JWKS_URL) {
  console.warn("Warning: .dev.vars has no BETTER_AUTH_SECRET (nor BETTER_AUTH_URL); /api calls will answer 500 until it does.");
}

const wrangler = spawn(
  process.execPath,
  [
    path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(PORT),
    ...corsArgs,
    ...process.argv.slice(2),
  ],
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

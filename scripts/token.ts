// npm run token -- <user_id> [--expires <span>]: prints an HS256 token for <user_id>, signed with
// the local BETTER_AUTH_SECRET (from the environment, else .dev.vars, else .dev.vars.example),
// the way a frontend mints one. <span> is how long it lives: "15m", "2h", "7d" (the default);
// the API refuses tokens issued more than 7 days ago whatever their expiry.
import { parseArgs } from "node:util";
import { readDevVars } from "./lib/dev-vars.ts";
import { hs256Token } from "./lib/token.ts";

const USAGE = "Usage: npm run token -- <user_id> [--expires <span, e.g. 15m, 2h, 7d>]";
const SPAN = /^\d+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function parse() {
  try {
    return parseArgs({ options: { expires: { type: "string", default: "7d" } }, allowPositionals: true });
  } catch (error) {
    return fail(`${(error as Error).message}\n${USAGE}`);
  }
}

const parsed = parse();
const [userId, ...extra] = parsed.positionals;
if (!userId || extra.length > 0) fail(USAGE);
const expires = parsed.values.expires.trim();
if (!SPAN.test(expires)) fail(`--expires must be a number and a unit, like 15m, 2h or 7d (got ${JSON.stringify(expires)})\n${USAGE}`);

const secret =
  process.env.BETTER_AUTH_SECRET ?? readDevVars(".dev.vars").BETTER_AUTH_SECRET ?? readDevVars(".dev.vars.example").BETTER_AUTH_SECRET;
if (!secret) fail("No BETTER_AUTH_SECRET in the environment, .dev.vars or .dev.vars.example.");

console.log(await hs256Token(secret, userId, expires));

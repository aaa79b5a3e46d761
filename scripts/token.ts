// npm run token -- <user_id> [--expires <span>]: prints an HS256 token for <user_id>, signed with
// the local BETTER_AUTH_SECRET (from the environment, else .dev.vars, else .dev.vars.example),
// the way a frontend mints one. <span> is how long it lives: "15m", "2h", "7d" (the default);
// the API refuses tokens that live longer than JWT_MAX_TOKEN_LIFETIME (7 days unless set), so a
// longer one is still printed, with a warning on stderr.
import { parseArgs } from "node:util";
import { decodeJwt } from "jose";
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, describeLifetime, parseLifetime } from "../src/auth/lifetime.ts";
import { localSecret, readDevVars } from "./lib/dev-vars.ts";
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

const secret = localSecret();
if (!secret) fail("No BETTER_AUTH_SECRET in the environment, .dev.vars or .dev.vars.example.");

const token = await hs256Token(secret, userId, expires);
console.log(token);

const setting = process.env.JWT_MAX_TOKEN_LIFETIME ?? readDevVars(".dev.vars").JWT_MAX_TOKEN_LIFETIME;
const longest = parseLifetime(setting ?? "") ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
const { iat = 0, exp = 0 } = decodeJwt(token);
// With the API's 60 seconds of clock skew, as it counts (jose reads the clock for iat and for exp).
if (exp - iat > longest + 60) {
  console.error(`Warning: the API refuses this token: it lives longer than JWT_MAX_TOKEN_LIFETIME (${describeLifetime(longest)}).`);
}

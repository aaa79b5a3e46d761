// Reads and checks the Worker's settings once per isolate into a typed object. A missing or
// unusable setting does not crash the Worker: using it throws a 500 problem naming it, with
// one log line, so routes that do not need it (such as /health without a secret) keep working.
import { jwksFor } from "./auth/jwks.ts";
import { JWKS_ALGORITHMS, JWKS_PATH, type KeySource, SECRET_ALGORITHMS } from "./auth/keys.ts";
import {
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  describeLifetime,
  LONGEST_MAX_TOKEN_LIFETIME_SECONDS,
  parseLifetime,
  SHORTEST_MAX_TOKEN_LIFETIME_SECONDS,
} from "./auth/lifetime.ts";
import type { Database } from "./db/client.ts";
import type { Env } from "./env.ts";
import { log } from "./log.ts";
import { configurationError } from "./problems.ts";

const MIN_SECRET_LENGTH = 32;

/** A setting that is either usable or explains why not. */
export type Setting<T> = { ok: true; value: T } | { ok: false; name: string; reason: string };

/** The two ways to verify a token (API.md "Authentication"); at least one is configured. */
export interface AuthConfig {
  /** HS256 with BETTER_AUTH_SECRET; undefined when the secret is not set. */
  secret: Setting<KeySource> | undefined;
  /** Better Auth's JWT plugin keys; undefined when neither JWT_JWKS_URL nor BETTER_AUTH_URL is set. */
  jwks: Setting<KeySource> | undefined;
  /** JWT_MAX_TOKEN_LIFETIME in seconds (7 days unless set): how far exp may lie after iat, or after now. */
  maxTokenLifetime: number;
}

/**
 * Which requests write their log line (LOG_REQUESTS): "errors" (the default) only those answered
 * 4xx or 5xx or slower than SLOW_REQUEST_MS; "all" every one.
 */
export type RequestLogs = "errors" | "all";

export interface Config {
  allowedOrigins: ReadonlySet<string>;
  requestLogs: RequestLogs;
  auth: Setting<AuthConfig>;
  /** How to reach Postgres: Hyperdrive when bound, else Neon directly (DATABASE_URL). */
  database: Setting<Database>;
  /**
   * PUBLIC_URL's origin ("https://tasks.example.com"), what Location and Link are absolute on; ""
   * when it is not set: they are then relative references, never built from the client's Host.
   */
  publicOrigin: Setting<string>;
  /**
   * The server that issues the tokens, for /mcp's OAuth resource metadata: JWT_ISSUER, else
   * BETTER_AUTH_URL; undefined when neither is set.
   */
  authorizationServer: string | undefined;
}

const cache = new WeakMap<Env, Config>();

export function configFrom(env: Env): Config {
  let config = cache.get(env);
  if (config === undefined) {
    config = {
      allowedOrigins: parseOrigins(env.ALLOWED_ORIGINS),
      requestLogs: readRequestLogs(env.LOG_REQUESTS),
      auth: readAuth(env),
      database: readDatabase(env),
      publicOrigin: readPublicOrigin(env.PUBLIC_URL),
      authorizationServer: nonEmpty(env.JWT_ISSUER) ?? nonEmpty(env.BETTER_AUTH_URL)?.replace(/\/+$/, ""),
    };
    cache.set(env, config);
  }
  return config;
}

/** The setting's value, or a 500 configuration_error that names it (logged with the request id). */
export function required<T>(setting: Setting<T>): T {
  if (setting.ok) return setting.value;
  throw configurationError(setting.name, setting.reason);
}

function parseOrigins(value: string | undefined): ReadonlySet<string> {
  const origins = (value ?? "")
    .split(",")
    .map((origin) => origin.trim().replace(/\/+$/, ""))
    .filter((origin) => origin !== "");
  return new Set(origins);
}

/**
 * An unknown value logs more, never less: every request, and one warning per isolate that names
 * the setting (a typo must not silence the logs, nor fail requests over a log setting).
 */
function readRequestLogs(value: string | undefined): RequestLogs {
  const setting = nonEmpty(value)?.toLowerCase();
  if (setting === undefined || setting === "errors") return "errors";
  if (setting !== "all")
    log("warn", "configuration", { setting: "LOG_REQUESTS", detail: 'must be "errors" or "all"; logging every request' });
  return "all";
}

function readAuth(env: Env): Setting<AuthConfig> {
  const secret = readSecret(env);
  const jwks = readJwks(env);
  if (secret === undefined && jwks === undefined) {
    return { ok: false, name: "BETTER_AUTH_SECRET", reason: "is not set (nor BETTER_AUTH_URL or JWT_JWKS_URL for Better Auth's JWKS)" };
  }
  const maxTokenLifetime = readMaxTokenLifetime(env.JWT_MAX_TOKEN_LIFETIME);
  if (!maxTokenLifetime.ok) return maxTokenLifetime;
  return { ok: true, value: { secret, jwks, maxTokenLifetime: maxTokenLifetime.value } };
}

/** JWT_MAX_TOKEN_LIFETIME: seconds, or a span such as "12h" or "7d"; from a minute to a year. */
function readMaxTokenLifetime(value: string | undefined): Setting<number> {
  const text = nonEmpty(value);
  if (text === undefined) return { ok: true, value: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS };
  const seconds = parseLifetime(text);
  if (seconds === undefined || seconds < SHORTEST_MAX_TOKEN_LIFETIME_SECONDS || seconds > LONGEST_MAX_TOKEN_LIFETIME_SECONDS) {
    const range = `${describeLifetime(SHORTEST_MAX_TOKEN_LIFETIME_SECONDS)} and ${describeLifetime(LONGEST_MAX_TOKEN_LIFETIME_SECONDS)}`;
    return { ok: false, name: "JWT_MAX_TOKEN_LIFETIME", reason: `must be between ${range}, in seconds or as 90m, 12h or 7d` };
  }
  return { ok: true, value: seconds };
}

function readSecret(env: Env): Setting<KeySource> | undefined {
  const secret = env.BETTER_AUTH_SECRET;
  if (typeof secret !== "string" || secret === "") return undefined;
  if (secret.length < MIN_SECRET_LENGTH) {
    return { ok: false, name: "BETTER_AUTH_SECRET", reason: `must be at least ${MIN_SECRET_LENGTH} characters` };
  }
  const key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  // Frontends mint these tokens themselves, usually without iss/aud: only explicit settings apply.
  const issuer = nonEmpty(env.JWT_ISSUER);
  return {
    ok: true,
    value: {
      algorithms: SECRET_ALGORITHMS,
      key: () => key,
      issuer: issuer === undefined ? undefined : [issuer],
      audience: nonEmpty(env.JWT_AUDIENCE),
    },
  };
}

function readJwks(env: Env): Setting<KeySource> | undefined {
  const baseUrl = nonEmpty(env.BETTER_AUTH_URL)?.replace(/\/+$/, "");
  const explicit = nonEmpty(env.JWT_JWKS_URL);
  if (explicit === undefined && baseUrl === undefined) return undefined;
  const name = explicit === undefined ? "BETTER_AUTH_URL" : "JWT_JWKS_URL";
  const url = parseUrl(explicit ?? `${baseUrl}${JWKS_PATH}`);
  if (url === undefined || !/^https?:$/.test(url.protocol)) {
    return { ok: false, name, reason: "must be an absolute http(s) URL" };
  }
  if (url.protocol === "http:" && !LOOPBACK.test(url.hostname)) {
    return { ok: false, name, reason: "must use https (http is only for localhost)" };
  }
  // Better Auth sets iss and aud to its base URL: by default, expect exactly that.
  const issuer = nonEmpty(env.JWT_ISSUER);
  return {
    ok: true,
    value: {
      algorithms: JWKS_ALGORITHMS,
      key: jwksFor(url),
      issuer: issuer !== undefined ? [issuer] : baseUrl === undefined ? undefined : [baseUrl, `${baseUrl}/`],
      audience: nonEmpty(env.JWT_AUDIENCE) ?? baseUrl,
    },
  };
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;
const LOOPBACK_PROXY = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]):\d{1,5}$/;

/** PUBLIC_URL: an http(s) origin and nothing more (a path, query or credentials would be a typo or a leak). */
function readPublicOrigin(value: string | undefined): Setting<string> {
  const text = nonEmpty(value);
  if (text === undefined) return { ok: true, value: "" };
  const name = "PUBLIC_URL";
  const url = /^https?:[/][/]/i.test(text) ? parseUrl(text) : undefined;
  if (url === undefined) return { ok: false, name, reason: "must be an absolute http(s) origin, such as https://tasks.example.com" };
  if (url.username !== "" || url.password !== "" || url.pathname !== "/" || url.search !== "" || url.hash !== "" || /[?#]$/.test(text)) {
    return { ok: false, name, reason: "must be an origin only, such as https://tasks.example.com (no path, query or credentials)" };
  }
  if (url.protocol === "http:" && !LOOPBACK.test(url.hostname)) {
    return { ok: false, name, reason: "must use https (http is only for localhost)" };
  }
  return { ok: true, value: url.origin };
}

function readDatabase(env: Env): Setting<Database> {
  const connectionString = env.HYPERDRIVE?.connectionString;
  if (typeof connectionString === "string" && connectionString !== "") {
    return { ok: true, value: { transport: "hyperdrive", connectionString } };
  }
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  if (databaseUrl === undefined) {
    return {
      ok: false,
      name: "HYPERDRIVE",
      reason: "binding is missing (see wrangler.toml [[hyperdrive]]) and no DATABASE_URL secret is set for the direct Neon path",
    };
  }
  if (!/^postgres(ql)?:[/][/]/.test(databaseUrl) || parseUrl(databaseUrl) === undefined) {
    return { ok: false, name: "DATABASE_URL", reason: "must be a postgres:// connection string" };
  }
  const localProxy = nonEmpty(env.NEON_LOCAL_PROXY);
  // The local proxy speaks plain ws://, which would carry the password in clear text: loopback only.
  if (localProxy !== undefined && !LOOPBACK_PROXY.test(localProxy)) {
    return { ok: false, name: "NEON_LOCAL_PROXY", reason: "must be a loopback host:port (it is for local tests only)" };
  }
  return { ok: true, value: { transport: "neon", connectionString: databaseUrl, ...(localProxy === undefined ? {} : { localProxy }) } };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

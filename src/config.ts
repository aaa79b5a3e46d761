// Reads and checks the Worker's settings once per isolate into a typed object. A missing or
// unusable setting does not crash the Worker: using it throws a 500 problem naming it, with
// one log line, so routes that do not need it (such as /health without a secret) keep working.
import type { Env } from "./env.ts";
import { HttpError } from "./http/problem.ts";

export const MIN_SECRET_LENGTH = 32;

/** A setting that is either usable or explains why not. */
export type Setting<T> = { ok: true; value: T } | { ok: false; name: string; reason: string };

export interface AuthConfig {
  /** HS256 key, imported once per isolate. */
  key: Promise<CryptoKey>;
  issuer: string | undefined;
  audience: string | undefined;
}

export interface Config {
  allowedOrigins: ReadonlySet<string>;
  auth: Setting<AuthConfig>;
  /** How to reach Postgres: Hyperdrive's connection string. */
  database: Setting<string>;
}

const cache = new WeakMap<Env, Config>();

export function configFrom(env: Env): Config {
  let config = cache.get(env);
  if (config === undefined) {
    config = {
      allowedOrigins: parseOrigins(env.ALLOWED_ORIGINS),
      auth: readAuth(env),
      database: readDatabase(env),
    };
    cache.set(env, config);
  }
  return config;
}

/** The setting's value, or a 500 problem that names it (and one log line saying why). */
export function required<T>(setting: Setting<T>): T {
  if (setting.ok) return setting.value;
  console.error(JSON.stringify({ level: "error", message: "configuration", setting: setting.name, reason: setting.reason }));
  throw new HttpError(500, `the server is misconfigured: ${setting.name} ${setting.reason}`);
}

function parseOrigins(value: string | undefined): ReadonlySet<string> {
  const origins = (value ?? "")
    .split(",")
    .map((origin) => origin.trim().replace(/\/+$/, ""))
    .filter((origin) => origin !== "");
  return new Set(origins);
}

function readAuth(env: Env): Setting<AuthConfig> {
  const secret = env.BETTER_AUTH_SECRET;
  if (typeof secret !== "string" || secret === "") {
    return { ok: false, name: "BETTER_AUTH_SECRET", reason: "is not set" };
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    return { ok: false, name: "BETTER_AUTH_SECRET", reason: `must be at least ${MIN_SECRET_LENGTH} characters` };
  }
  const key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return {
    ok: true,
    value: { key, issuer: nonEmpty(env.JWT_ISSUER), audience: nonEmpty(env.JWT_AUDIENCE) },
  };
}

function readDatabase(env: Env): Setting<string> {
  const connectionString = env.HYPERDRIVE?.connectionString;
  if (typeof connectionString !== "string" || connectionString === "") {
    return { ok: false, name: "HYPERDRIVE", reason: "binding is missing (see wrangler.toml [[hyperdrive]])" };
  }
  return { ok: true, value: connectionString };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

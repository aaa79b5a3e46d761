// The Worker's bindings, as declared in wrangler.toml and set as secrets. Plain interfaces, so that
// scripts and tests type-check against them under Node's types too.

/** The LIVE binding: a Durable Object namespace of LiveUpdates (src/live/object.ts), one object per user. */
export interface LiveNamespace {
  idFromName(name: string): LiveObjectId;
  get(id: LiveObjectId): {
    fetch(request: Request): Promise<Response>;
    /** LiveUpdates.notify, over RPC. */
    notify(position: number): Promise<void>;
  };
}
interface LiveObjectId {
  toString(): string;
}

export interface Env {
  /** /live's Durable Objects ([[durable_objects.bindings]] in wrangler.toml). */
  LIVE?: LiveNamespace;
  /** The Hyperdrive binding; only its connection string is used. */
  HYPERDRIVE?: { readonly connectionString: string };
  /** Neon's connection string: the direct path, used when no HYPERDRIVE is bound. */
  DATABASE_URL?: string;
  /** Tests only: a local WebSocket-to-TCP proxy standing in for Neon's (see db/client.ts). */
  NEON_LOCAL_PROXY?: string;
  BETTER_AUTH_SECRET?: string;
  BETTER_AUTH_URL?: string;
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  /** The longest a token may live, from its iat (or from now without one): seconds or "12h", "7d"; default 7d. */
  JWT_MAX_TOKEN_LIFETIME?: string;
  ALLOWED_ORIGINS?: string;
  /** The API's public origin (https://tasks.example.com): Location and Link are absolute on it; unset: relative. */
  PUBLIC_URL?: string;
  /** "errors" (default): a log line for 4xx, 5xx and slow requests; "all": for every request. */
  LOG_REQUESTS?: string;
  /** Workers Rate Limiting binding ([[ratelimits]] in wrangler.toml): requests per user. */
  RATE_LIMITER?: { limit(options: { key: string }): Promise<{ success: boolean }> };
}

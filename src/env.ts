// The Worker's bindings, as declared in wrangler.toml and set as secrets.
export interface Env {
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
  ALLOWED_ORIGINS?: string;
  /** Workers Rate Limiting binding ([[ratelimits]] in wrangler.toml): requests per user. */
  RATE_LIMITER?: { limit(options: { key: string }): Promise<{ success: boolean }> };
}

// The Worker's bindings, as declared in wrangler.toml and set as secrets.
export interface Env {
  /** The Hyperdrive binding; only its connection string is used. */
  HYPERDRIVE?: { readonly connectionString: string };
  DATABASE_URL?: string;
  BETTER_AUTH_SECRET?: string;
  BETTER_AUTH_URL?: string;
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  ALLOWED_ORIGINS?: string;
}

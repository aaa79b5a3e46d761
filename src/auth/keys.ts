// Where token signatures are checked against: the two key sources of API.md, each with its own
// algorithm allow-list, so a token can never pick a key of the other kind (no key confusion).
import type { JWTVerifyGetKey } from "jose";

/** HS256 only, and only with BETTER_AUTH_SECRET. */
export const SECRET_ALGORITHMS = ["HS256"] as const;
/** What Better Auth's JWT plugin signs with (EdDSA is its default), and only with the JWKS. */
export const JWKS_ALGORITHMS = ["EdDSA", "ES256", "ES512", "RS256", "PS256"] as const;

export const JWKS_PATH = "/api/auth/jwks";

export interface KeySource {
  algorithms: readonly string[];
  key: JWTVerifyGetKey;
  /** Accepted `iss` values; undefined: not checked. */
  issuer: string[] | undefined;
  /** Required `aud`; undefined: not checked. */
  audience: string | undefined;
}

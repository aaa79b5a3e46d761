// Where token signatures are checked against: the two key sources of API.md, each with its own
// algorithm allow-list, so a token can never pick a key of the other kind (no key confusion).
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from "jose";
import { HttpError } from "../http/problem.ts";

/** HS256 only, and only with BETTER_AUTH_SECRET. */
export const SECRET_ALGORITHMS = ["HS256"] as const;
/** What Better Auth's JWT plugin signs with (EdDSA is its default), and only with the JWKS. */
export const JWKS_ALGORITHMS = ["EdDSA", "ES256", "ES512", "RS256", "PS256"] as const;

export const JWKS_PATH = "/api/auth/jwks";
/** A JWKS fetch that takes longer fails the request with a 503, well inside the 10 s rule. */
export const JWKS_TIMEOUT_MS = 3_000;
/** jose's default: after a fetch, an unknown `kid` does not fetch again for this long. */
export const JWKS_COOLDOWN_MS = 30_000;
export const JWKS_RETRY_AFTER_SECONDS = 5;

export interface KeySource {
  algorithms: readonly string[];
  key: JWTVerifyGetKey;
  /** Accepted `iss` values; undefined: not checked. */
  issuer: string[] | undefined;
  /** Required `aud`; undefined: not checked. */
  audience: string | undefined;
}

/** The JWKS could not be fetched (down, slow, not a JWKS): the token may well be fine. */
function keysUnavailable(): HttpError {
  return new HttpError(503, "the token's signing keys could not be fetched; retry later", {
    headers: { "Retry-After": String(JWKS_RETRY_AFTER_SECONDS) },
  });
}

// Errors about the token itself (its kid or alg matches no usable key): a 401 further up.
const TOKEN_FAULTS = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSENotSupported, errors.JWSInvalid];

/**
 * Keys from a JWKS URL, fetched on first use and kept for the isolate's life (no expiry, so a
 * JWKS outage does not break tokens whose key is known), fetched again when a token names a
 * `kid` not in the set (at most once per cooldown).
 */
export function remoteKeys(url: URL): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, {
    cacheMaxAge: Number.POSITIVE_INFINITY,
    cooldownDuration: JWKS_COOLDOWN_MS,
    timeoutDuration: JWKS_TIMEOUT_MS,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (TOKEN_FAULTS.some((fault) => error instanceof fault)) throw error;
      console.error(
        JSON.stringify({
          level: "error",
          message: "jwks fetch failed",
          url: url.href,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }),
      );
      throw keysUnavailable();
    }
  };
}

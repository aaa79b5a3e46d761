// Better Auth's public keys, fetched from its JWKS URL and cached per isolate (API.md
// "Authentication"). Tokens nobody signed must not become JWKS traffic, so:
// - at most one fetch is in flight per isolate: concurrent requests wait for the same one;
// - after a fetch (good or failed), the next one waits 30 s (the cooldown), whatever kid a
//   token names: forged tokens with random kids cost one fetch per 30 s at most;
// - keys are kept for the response's Cache-Control max-age (10 minutes without one, 24 hours at
//   most), so a key withdrawn from the JWKS stops being accepted after that; when a refetch
//   fails, the keys already held stay in use (the endpoint is down, the keys were not withdrawn).
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { keysUnavailable } from "../problems.ts";

/** A fetch that takes longer fails the request with a 503, well inside the 10 s rule. */
const JWKS_TIMEOUT_MS = 3_000;
const JWKS_COOLDOWN_MS = 30_000;
export const DEFAULT_MAX_AGE_SECONDS = 10 * 60;
export const LONGEST_MAX_AGE_SECONDS = 24 * 60 * 60;
const RETRY_AFTER_SECONDS = 5;
/** How long a request waits for a fetch in flight, its own or another request's. */
const WAIT_MS = JWKS_TIMEOUT_MS + 500;

/** How long a JWKS response may be used, in seconds, from its Cache-Control header. */
export function maxAgeSeconds(cacheControl: string | null): number {
  if (cacheControl === null) return DEFAULT_MAX_AGE_SECONDS;
  const directives = cacheControl
    .toLowerCase()
    .split(",")
    .map((directive) => directive.trim());
  if (directives.includes("no-store") || directives.includes("no-cache")) return 0;
  for (const directive of directives) {
    const match = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive);
    if (match?.[1] !== undefined) return Math.min(Number(match[1]), LONGEST_MAX_AGE_SECONDS);
  }
  return DEFAULT_MAX_AGE_SECONDS;
}

interface Held {
  find: ReturnType<typeof createLocalJWKSet>;
  expiresAt: number;
}

/** jose's key lookup for one JWKS URL, with the rules above. */
function remoteKeySet(url: URL): JWTVerifyGetKey {
  let held: Held | undefined;
  let inFlight: { keys: Promise<Held>; startedAt: number } | undefined;
  let lastFetchAt = Number.NEGATIVE_INFINITY;
  let lastFailure: unknown;

  const fetchKeys = async (): Promise<Held> => {
    const response = await fetch(url, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(JWKS_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`the JWKS answered ${response.status}`);
    const find = createLocalJWKSet((await response.json()) as JSONWebKeySet);
    return { find, expiresAt: Date.now() + maxAgeSeconds(response.headers.get("Cache-Control")) * 1000 };
  };

  /**
   * The keys after a fetch: the one in flight, or a new one. The fetch belongs to the request
   * that started it; should that request end first, workerd cancels it and it never settles,
   * so each waiter keeps its own deadline, and a fetch past its deadline no longer counts.
   */
  const fetching = () => inFlight !== undefined && Date.now() - inFlight.startedAt <= WAIT_MS;

  const refreshed = (): Promise<Held> => {
    const now = Date.now();
    if (inFlight === undefined || !fetching()) {
      lastFetchAt = now;
      const keys = fetchKeys().then(
        (fetched) => {
          held = fetched;
          lastFailure = undefined;
          return fetched;
        },
        (error: unknown) => {
          lastFailure = error;
          throw error;
        },
      );
      const started = { keys, startedAt: now };
      inFlight = started;
      const settled = () => {
        if (inFlight === started) inFlight = undefined;
      };
      keys.then(settled, settled);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the JWKS fetch did not settle in time")), WAIT_MS);
    });
    return Promise.race([inFlight.keys, deadline]).finally(() => clearTimeout(timer));
  };

  /**
   * The key from the keys held, when the endpoint could not be asked: a kid they lack may be a
   * new key that could not be fetched, so that is a 503 (keys_unavailable), not a 401.
   */
  const fromHeld = async (header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1], failure: unknown) => {
    if (held === undefined) throw keysUnavailable(RETRY_AFTER_SECONDS, failure);
    try {
      return await held.find(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) throw keysUnavailable(RETRY_AFTER_SECONDS, failure);
      throw error;
    }
  };

  return async (header, token) => {
    if (held !== undefined && Date.now() < held.expiresAt) {
      try {
        return await held.find(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      }
    }
    // Unknown kid, keys expired, or none yet: fetch, unless one started within the cooldown.
    if (!fetching() && Date.now() - lastFetchAt < JWKS_COOLDOWN_MS) {
      if (lastFailure !== undefined) return fromHeld(header, token, lastFailure);
      // The last fetch worked and is recent: what it brought is the truth (an unknown kid is a 401).
      if (held !== undefined) return held.find(header, token);
    }
    let keys: Held;
    try {
      keys = await refreshed();
    } catch (error) {
      return fromHeld(header, token, error);
    }
    return keys.find(header, token);
  };
}

// Per isolate and URL, so every request of the isolate shares one cache and one cooldown.
const keySets = new Map<string, JWTVerifyGetKey>();

export function jwksFor(url: URL): JWTVerifyGetKey {
  let keys = keySets.get(url.href);
  if (keys === undefined) {
    keys = remoteKeySet(url);
    keySets.set(url.href, keys);
  }
  return keys;
}

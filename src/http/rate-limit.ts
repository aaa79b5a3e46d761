// Per-user rate limiting with the Workers Rate Limiting binding (RATE_LIMITER, [[ratelimits]] in
// wrangler.toml, where the limit and period are configured). Keyed by the token's subject, after
// authentication, so one user's traffic never throttles another's. Without the binding, or if
// the binding itself fails, requests are let through: the limiter protects, it must not break.
import type { Env } from "../env.ts";
import { HttpError } from "./problem.ts";

/** The longest period the binding supports; a retry after it always lands in a fresh window. */
export const RATE_LIMIT_RETRY_AFTER_SECONDS = 60;

export async function enforceRateLimit(env: Env, userId: string): Promise<void> {
  const limiter = env.RATE_LIMITER;
  if (limiter === undefined) return;
  let allowed = true;
  try {
    ({ success: allowed } = await limiter.limit({ key: userId }));
  } catch (error) {
    console.error(JSON.stringify({ level: "error", message: "rate limiter failed; request allowed", error: String(error) }));
  }
  if (!allowed) {
    throw new HttpError(429, "too many requests for this user; retry later", {
      headers: { "Retry-After": String(RATE_LIMIT_RETRY_AFTER_SECONDS) },
    });
  }
}

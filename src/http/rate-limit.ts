// Per-user rate limiting with the Workers Rate Limiting binding (RATE_LIMITER, [[ratelimits]] in
// wrangler.toml, where the limit and period are configured): a step of its own, after
// `authenticate`, keyed by the token's subject, so one user's traffic never throttles another's
// and forged tokens never spend a real user's budget. Without the binding, or if the binding
// itself fails, requests are let through: the limiter protects, it must not break.
import type { Env } from "../env.ts";
import { describeError, log } from "../log.ts";
import { rateLimited } from "../problems.ts";
import type { AuthedRequest } from "./context.ts";
import { isInternal } from "./internal.ts";

/** The longest period the binding supports; a retry after it always lands in a fresh window. */
const RETRY_AFTER_SECONDS = 60;

export async function rateLimit(request: AuthedRequest, env: Env): Promise<undefined> {
  const limiter = env.RATE_LIMITER;
  // A tool call of /mcp: the /mcp request was counted, as one request.
  if (limiter === undefined || isInternal(request)) return undefined;
  let allowed = true;
  try {
    ({ success: allowed } = await limiter.limit({ key: request.userId }));
  } catch (error) {
    log("error", "rate limiter failed; request allowed", { request_id: request.id, cause: describeError(error) });
  }
  if (!allowed) throw rateLimited(RETRY_AFTER_SECONDS);
  return undefined;
}

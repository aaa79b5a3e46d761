// Middleware for /api/{user_id}/...: the bearer token must be valid (401) and its subject must
// be the {user_id} of the path (403), and the user must be within the rate limit (429). Sets
// request.userId for the handlers.
import { required } from "../config.ts";
import type { Env } from "../env.ts";
import type { AppRequest } from "../http/context.ts";
import { HttpError } from "../http/problem.ts";
import { enforceRateLimit } from "../http/rate-limit.ts";
import { bearerToken, verifyToken } from "./jwt.ts";

export async function withOwner(request: AppRequest, env: Env, _ctx: ExecutionContext): Promise<undefined> {
  const auth = required(request.config.auth);
  const subject = await verifyToken(bearerToken(request), auth);
  let pathUser: string;
  try {
    pathUser = decodeURIComponent(request.params.user_id ?? "");
  } catch {
    pathUser = "";
  }
  if (pathUser !== subject) {
    throw new HttpError(403, "the token's subject does not own this user's tasks");
  }
  request.userId = subject;
  await enforceRateLimit(env, subject);
  return undefined;
}

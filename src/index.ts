// The Worker: the router, and the order every request goes through it.
import { Router } from "itty-router";
import { withOwner } from "./auth/owner.ts";
import type { Env } from "./env.ts";
import type { AppRequest } from "./http/context.ts";
import { finish, start } from "./http/lifecycle.ts";
import { HttpError, toProblem } from "./http/problem.ts";
import { purgeExpiredKeys } from "./jobs/purge.ts";
import { health } from "./routes/health.ts";
import { openApi } from "./routes/openapi.ts";
import { completeTask, createTask, deleteTask, getTask, listTasks, patchTask, replaceTask } from "./routes/tasks.ts";

const router = Router<AppRequest, [Env, ExecutionContext]>({
  before: [start, preflight],
  catch: (error, request) => toProblem(error, request.id),
  finally: [finish],
});

router
  .get("/health", health)
  .get("/openapi.json", openApi)
  .get("/api/:user_id/tasks", withOwner, listTasks)
  .post("/api/:user_id/tasks", withOwner, createTask)
  .get("/api/:user_id/tasks/:id", withOwner, getTask)
  .put("/api/:user_id/tasks/:id", withOwner, replaceTask)
  .patch("/api/:user_id/tasks/:id", withOwner, patchTask)
  .delete("/api/:user_id/tasks/:id", withOwner, deleteTask)
  .patch("/api/:user_id/tasks/:id/complete", withOwner, completeTask)
  .all("*", unmatched);

/** The Allow header for a path: the methods its routes serve, or undefined for an unknown path. */
function allowFor(request: AppRequest): string | undefined {
  const path = new URL(request.url).pathname;
  const methods = router.routes.filter(([method, pattern]) => method !== "ALL" && pattern.test(path)).map(([method]) => method);
  return methods.length > 0 ? [...new Set(methods), "OPTIONS"].join(", ") : undefined;
}

/** OPTIONS on any path, with no token: 204, the CORS preflight answer (headers added by finish). */
function preflight(request: AppRequest): Response | undefined {
  if (request.method !== "OPTIONS") return undefined;
  const allow = allowFor(request);
  return new Response(null, { status: 204, headers: allow === undefined ? {} : { Allow: allow } });
}

/** 405 with Allow when another method serves this path, else 404. */
function unmatched(request: AppRequest): never {
  const allow = allowFor(request);
  if (allow !== undefined) throw new HttpError(405, `${request.method} is not allowed on this path`, { headers: { Allow: allow } });
  throw new HttpError(404, "no such route");
}

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
  // The Cron Trigger of wrangler.toml: purge Idempotency-Keys past their 24 hours.
  scheduled: (_controller, env, ctx) => purgeExpiredKeys(env, ctx),
} satisfies ExportedHandler<Env>;

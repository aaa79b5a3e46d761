// The Worker: the router, and the order every request goes through it. An /api route is
// authenticate (token → user id, 401/403) → rateLimit (429) → the handler.
import { Router } from "itty-router";
import { authenticate, authenticateSocket } from "./auth/authenticate.ts";
import type { Env } from "./env.ts";
import type { AppRequest, AuthedRequest } from "./http/context.ts";
import { finish, start } from "./http/lifecycle.ts";
import { toProblem } from "./http/problem.ts";
import { rateLimit } from "./http/rate-limit.ts";
import { purge } from "./jobs/purge.ts";
import { methodNotAllowed, routeNotFound } from "./problems.ts";
import { batch } from "./routes/batch.ts";
import { listChanges } from "./routes/changes.ts";
import { health } from "./routes/health.ts";
import { home } from "./routes/home.ts";
import { createList, deleteList, getList, listLists, moveList, restoreList, updateList } from "./routes/lists.ts";
import { live } from "./routes/live.ts";
import { authenticateMcp, mcp, protectedResource } from "./routes/mcp.ts";
import { listOccurrences } from "./routes/occurrences.ts";
import { openApi } from "./routes/openapi.ts";
import {
  acceptInvitation,
  createInvitation,
  listInvitations,
  listMembers,
  removeMember,
  revokeInvitation,
  updateMember,
} from "./routes/sharing.ts";
import { completeTask, createTask, deleteTask, getTask, listTasks, moveTask, restoreTask, updateTask } from "./routes/tasks.ts";
import { listTrash } from "./routes/trash.ts";

type Handler<R> = (request: R, env: Env, ctx: ExecutionContext) => unknown;

const router = Router<AppRequest, [Env, ExecutionContext]>({
  before: [start, preflight],
  catch: (error, request) => toProblem(error, request.id),
  finally: [finish],
});

/** GET and HEAD alike (HEAD answers without the body, in finish). */
function get<R extends AppRequest>(path: string, ...handlers: Handler<R>[]): void {
  router.get<R>(path, ...handlers).head<R>(path, ...handlers);
}

get("/", home);
get("/health", health);
get("/openapi.json", openApi);
get<AuthedRequest>("/api/:user_id/tasks", authenticate, rateLimit, listTasks);
router.post<AuthedRequest>("/api/:user_id/tasks", authenticate, rateLimit, createTask);
// Before the /tasks/:id routes, which would otherwise take "batch" for an id.
router.post<AuthedRequest>("/api/:user_id/tasks/batch", authenticate, rateLimit, batch).all("/api/:user_id/tasks/batch", unmatched);
get<AuthedRequest>("/api/:user_id/tasks/:id", authenticate, rateLimit, getTask);
router
  .put<AuthedRequest>("/api/:user_id/tasks/:id", authenticate, rateLimit, updateTask)
  .patch<AuthedRequest>("/api/:user_id/tasks/:id", authenticate, rateLimit, updateTask)
  .delete<AuthedRequest>("/api/:user_id/tasks/:id", authenticate, rateLimit, deleteTask)
  .patch<AuthedRequest>("/api/:user_id/tasks/:id/complete", authenticate, rateLimit, completeTask)
  .post<AuthedRequest>("/api/:user_id/tasks/:id/move", authenticate, rateLimit, moveTask)
  .post<AuthedRequest>("/api/:user_id/tasks/:id/restore", authenticate, rateLimit, restoreTask);
get<AuthedRequest>("/api/:user_id/tasks/:id/occurrences", authenticate, rateLimit, listOccurrences);
get<AuthedRequest>("/api/:user_id/lists", authenticate, rateLimit, listLists);
router.post<AuthedRequest>("/api/:user_id/lists", authenticate, rateLimit, createList);
get<AuthedRequest>("/api/:user_id/lists/:list_id", authenticate, rateLimit, getList);
router
  .put<AuthedRequest>("/api/:user_id/lists/:list_id", authenticate, rateLimit, updateList)
  .patch<AuthedRequest>("/api/:user_id/lists/:list_id", authenticate, rateLimit, updateList)
  .delete<AuthedRequest>("/api/:user_id/lists/:list_id", authenticate, rateLimit, deleteList)
  .post<AuthedRequest>("/api/:user_id/lists/:list_id/move", authenticate, rateLimit, moveList)
  .post<AuthedRequest>("/api/:user_id/lists/:list_id/restore", authenticate, rateLimit, restoreList);
get<AuthedRequest>("/api/:user_id/lists/:list_id/invitations", authenticate, rateLimit, listInvitations);
router
  .post<AuthedRequest>("/api/:user_id/lists/:list_id/invitations", authenticate, rateLimit, createInvitation)
  .delete<AuthedRequest>("/api/:user_id/lists/:list_id/invitations/:invitation_id", authenticate, rateLimit, revokeInvitation)
  .post<AuthedRequest>("/api/:user_id/invitations/accept", authenticate, rateLimit, acceptInvitation);
get<AuthedRequest>("/api/:user_id/lists/:list_id/members", authenticate, rateLimit, listMembers);
router
  .patch<AuthedRequest>("/api/:user_id/lists/:list_id/members/:member_id", authenticate, rateLimit, updateMember)
  .delete<AuthedRequest>("/api/:user_id/lists/:list_id/members/:member_id", authenticate, rateLimit, removeMember);
get<AuthedRequest>("/api/:user_id/trash", authenticate, rateLimit, listTrash);
get<AuthedRequest>("/api/:user_id/changes", authenticate, rateLimit, listChanges);
get<AuthedRequest>("/api/:user_id/live", authenticateSocket, rateLimit, live);
// MCP's Streamable HTTP, stateless: POST only; GET (a server-sent stream) and DELETE (ending a
// session) are 405, as the transport allows a server without sessions to answer.
router
  .post<AuthedRequest>("/mcp", authenticateMcp, rateLimit, (request, env, ctx) => mcp(request, env, ctx, dispatch))
  .all("/mcp", unmatched);
get("/.well-known/oauth-protected-resource", protectedResource);
get("/.well-known/oauth-protected-resource/mcp", protectedResource);
router.all("*", unmatched);

/** A request to this router from inside the Worker (the MCP tools' REST calls). */
function dispatch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  return router.fetch(request as AppRequest, env, ctx);
}

/**
 * The Allow header for a path: the methods of the most specific route pattern it matches (a
 * literal segment beats a parameter: /tasks/batch is not /tasks/:id), or undefined when none does.
 */
function allowFor(request: AppRequest): string | undefined {
  const path = new URL(request.url).pathname;
  const matching = router.routes.filter(([method, pattern]) => method !== "ALL" && pattern.test(path));
  const specificity = (route: string | undefined) => (route ?? "").replace(/:\w+/g, "").length;
  const best = Math.max(...matching.map(([, , , route]) => specificity(route)));
  const methods = matching.filter(([, , , route]) => specificity(route) === best).map(([method]) => method);
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
  throw allow === undefined ? routeNotFound() : methodNotAllowed(allow);
}

// The Durable Object class of /live must be exported by the Worker's main module.
export { LiveUpdates } from "./live/object.ts";

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
  // The Cron Trigger of wrangler.toml: purge expired Idempotency-Keys and tombstones.
  scheduled: (_controller, env, ctx) => purge(env, ctx),
} satisfies ExportedHandler<Env>;

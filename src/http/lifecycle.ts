// The first and last stages of every request: give it an id and its config, then stamp the
// response with the headers every response carries and write the request's one log line.
import { configFrom } from "../config.ts";
import { type Background, databaseMs } from "../db/client.ts";
import type { Env } from "../env.ts";
import type { AppRequest } from "./context.ts";
import { applyCors } from "./cors.ts";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function start(request: AppRequest, env: Env): undefined {
  const sent = request.headers.get("X-Request-Id");
  request.id = sent !== null && SANE_REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
  request.startedAt = Date.now();
  request.config = configFrom(env);
  return undefined;
}

export function finish(response: Response, request: AppRequest, _env: Env, ctx: Background): Response {
  const headers = response.headers;
  headers.set("X-Request-Id", request.id);
  headers.set("X-Content-Type-Options", "nosniff");
  const path = new URL(request.url).pathname;
  if (path.startsWith("/api/") || path === "/health") headers.set("Cache-Control", "no-store");
  applyCors(request, headers);
  logRequest(request, response.status, ctx);
  return response;
}

/**
 * One JSON line per request. The route is the pattern ("/api/:user_id/tasks/:id"), never the
 * path, so no user id, token or task content reaches the log; null when no route matched.
 */
function logRequest(request: AppRequest, status: number, ctx: Background): void {
  const route: unknown = request.route;
  const line = JSON.stringify({
    level: status >= 500 ? "error" : "info",
    message: "request",
    request_id: request.id,
    method: request.method,
    route: typeof route === "string" && route !== "*" ? route : null,
    status,
    duration_ms: Date.now() - request.startedAt,
    db_ms: databaseMs(ctx) ?? 0,
  });
  if (status >= 500) console.error(line);
  else console.log(line);
}

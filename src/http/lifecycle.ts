// The first and last stages of every request: give it an id and its config, then stamp the
// response with the headers every response carries and write the request's one log line.
import { configFrom } from "../config.ts";
import { type Background, databaseMs } from "../db/client.ts";
import type { Env } from "../env.ts";
import { log, SLOW_REQUEST_MS } from "../log.ts";
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
  const sent =
    response.status === 101
      ? // A WebSocket handed over by the Durable Object: its headers are immutable, so copy them.
        new Response(null, { status: 101, webSocket: response.webSocket, headers: new Headers(response.headers) })
      : // HEAD is GET without the body (the routes serve both alike).
        request.method === "HEAD" && response.body !== null
        ? new Response(null, response)
        : response;
  const headers = sent.headers;
  headers.set("X-Request-Id", request.id);
  headers.set("X-Content-Type-Options", "nosniff");
  const path = pathOf(request.url);
  if (path.startsWith("/api/") || path === "/health") headers.set("Cache-Control", "no-store");
  applyCors(request, headers);
  logRequest(request, sent.status, ctx);
  return sent;
}

/**
 * The path of an absolute URL as the runtime hands it over (scheme://host/path?query), without
 * parsing a URL on every response: a profile showed `new URL` here at 15–27 µs a request.
 */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/**
 * The request's JSON line: for every request with LOG_REQUESTS=all, else only for a 4xx, a 5xx
 * or a slow one (a line costs CPU on every request that writes it: docs/operations.md "Logs"). The
 * route is the pattern ("/api/:user_id/tasks/:id"), never the path, so no user id, token or task
 * content reaches the log; null when no route matched.
 */
function logRequest(request: AppRequest, status: number, ctx: Background): void {
  const duration = Date.now() - request.startedAt;
  if (status < 400 && duration < SLOW_REQUEST_MS && request.config.requestLogs !== "all") return;
  const route: unknown = request.route;
  log(status >= 500 ? "error" : "info", "request", {
    request_id: request.id,
    method: request.method,
    route: typeof route === "string" && route !== "*" ? route : null,
    status,
    duration_ms: duration,
    db_ms: databaseMs(ctx) ?? 0,
  });
}

// The first and last stages of every request: give it an id and its config, then stamp the
// response with the headers every response carries.

import { configFrom } from "../config.ts";
import type { Env } from "../env.ts";
import type { AppRequest } from "./context.ts";
import { applyCors } from "./cors.ts";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function start(request: AppRequest, env: Env): undefined {
  const sent = request.headers.get("X-Request-Id");
  request.id = sent !== null && SANE_REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
  request.config = configFrom(env);
  return undefined;
}

export function finish(response: Response, request: AppRequest): Response {
  const headers = response.headers;
  headers.set("X-Request-Id", request.id);
  headers.set("X-Content-Type-Options", "nosniff");
  const path = new URL(request.url).pathname;
  if (path.startsWith("/api/") || path === "/health") headers.set("Cache-Control", "no-store");
  applyCors(request, headers);
  return response;
}

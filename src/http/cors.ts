// CORS for the origins in ALLOWED_ORIGINS; every other origin gets no CORS headers at all.
import type { AppRequest } from "./context.ts";

const ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS =
  "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id, " +
  // MCP's Streamable HTTP (/mcp), for agents that run in a browser.
  "Mcp-Protocol-Version, Mcp-Session-Id, Mcp-Method, Mcp-Name, Last-Event-ID";
const EXPOSE_HEADERS = "ETag, Idempotent-Replayed, Link, Location, Retry-After, X-Request-Id, Mcp-Session-Id, WWW-Authenticate";
const PREFLIGHT_MAX_AGE_SECONDS = "86400";

export function applyCors(request: AppRequest, headers: Headers): void {
  if (request.config.allowedOrigins.size === 0) return;
  headers.append("Vary", "Origin");
  const origin = request.headers.get("Origin");
  if (origin === null || !request.config.allowedOrigins.has(origin)) return;
  headers.set("Access-Control-Allow-Origin", origin);
  // For frontends that fetch with credentials: "include". The API reads no cookies (only the
  // bearer token), so this grants nothing a token does not.
  headers.set("Access-Control-Allow-Credentials", "true");
  if (request.method === "OPTIONS") {
    headers.set("Access-Control-Allow-Methods", ALLOW_METHODS);
    headers.set("Access-Control-Allow-Headers", ALLOW_HEADERS);
    headers.set("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_SECONDS);
  } else {
    headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  }
}

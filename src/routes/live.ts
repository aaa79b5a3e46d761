// GET /api/{user_id}/live (API.md "Live updates"): after `authenticateSocket` and `rateLimit`, the
// upgrade itself (426 without one), one statement that marks the user as listening and reads
// their change position (the ready cursor), then the user's Durable Object takes the socket.
import { openLive } from "../db/live.ts";
import type { Env } from "../env.ts";
import type { AuthedRequest } from "../http/context.ts";
import { CONNECTION_HEADER, type Connection } from "../live/object.ts";
import { MAX_SOCKETS_PER_USER, PROTOCOL } from "../live/protocol.ts";
import { configurationError, tooManyConnections, upgradeRequired } from "../problems.ts";
import { dbFor } from "./database.ts";

/** The subprotocols the client offered (Sec-WebSocket-Protocol, comma-separated). */
export function offeredProtocols(request: Request): string[] {
  return (request.headers.get("Sec-WebSocket-Protocol") ?? "")
    .split(",")
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== "");
}

export async function live(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") throw upgradeRequired();
  const binding = env.LIVE;
  if (binding === undefined) throw configurationError("LIVE", "binding is missing (wrangler.toml [[durable_objects.bindings]])");
  const position = await openLive(dbFor(request, ctx), request.userId, request.tokenExpires);
  const connection: Connection = { position, expires: request.tokenExpires, subprotocol: offeredProtocols(request).includes(PROTOCOL) };
  // The object gets the upgrade and what the Worker established, never the token.
  const headers = new Headers(request.headers);
  headers.delete("Authorization");
  headers.delete("Sec-WebSocket-Protocol");
  headers.set(CONNECTION_HEADER, JSON.stringify(connection));
  const response = await binding.get(binding.idFromName(request.userId)).fetch(new Request(request.url, { headers }));
  if (response.status === 429) throw tooManyConnections(MAX_SOCKETS_PER_USER);
  return response;
}

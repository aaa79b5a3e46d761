// Talking to /mcp as agents do, for the tests, `npm run mcp:try` and `npm run bench:mcp`: the
// official client on the current protocol, or one raw JSON-RPC message of the 2025 protocol.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

/**
 * The official client (@modelcontextprotocol/client), connected to `<origin>/mcp` with `token`.
 * "auto": it probes with server/discover and speaks 2026-07-28 when the server does (the client's
 * default is still the 2025 handshake).
 */
export async function connectMcp(origin: string, token: string, name: string): Promise<Client> {
  const client = new Client({ name, version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

/** One JSON-RPC message as a client of the 2025 protocol sends it: stateless, no session needed. */
export function postMcp(origin: string, token: string, message: unknown): Promise<Response> {
  return fetch(`${origin}/mcp`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-06-18",
    },
    body: JSON.stringify(message),
  });
}

/** A tools/call message. */
export const toolCall = (name: string, args: Record<string, unknown>) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name, arguments: args },
});

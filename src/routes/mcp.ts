// /mcp, the MCP server for AI agents (src/mcp/), and what an MCP client reads to learn how to
// authenticate there: OAuth 2.0 Protected Resource Metadata (RFC 9728) and the 401 challenge that
// points at it. The same bearer token as the REST API, verified before the MCP server sees the
// request; the tools act for the token's subject and nobody else.
import { authenticateAnySubject } from "../auth/authenticate.ts";
import { bearerToken } from "../auth/jwt.ts";
import type { Env } from "../env.ts";
import type { AppRequest, AuthedRequest } from "../http/context.ts";
import { markInternal } from "../http/internal.ts";
import { HttpError } from "../problems.ts";

const MCP_PATH = "/mcp";
const METADATA_PATH = "/.well-known/oauth-protected-resource";

/** Where absolute URLs of this deployment start: PUBLIC_URL, else the origin the client reached. */
function origin(request: AppRequest): string {
  const configured = request.config.publicOrigin;
  return configured.ok && configured.value !== "" ? configured.value : new URL(request.url).origin;
}

/**
 * The first step of /mcp: a valid bearer token (any subject: the path names no user), else the
 * REST API's 401 whose WWW-Authenticate also names the resource metadata (RFC 9728 §5.1), which
 * is what MCP clients follow to find the authorization server.
 */
export async function authenticateMcp(request: AppRequest): Promise<undefined> {
  try {
    return await authenticateAnySubject(request);
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) {
      const challenge = error.headers["WWW-Authenticate"] ?? 'Bearer realm="tasks"';
      error.headers["WWW-Authenticate"] = `${challenge}, resource_metadata="${origin(request)}${METADATA_PATH}${MCP_PATH}"`;
    }
    throw error;
  }
}

/**
 * GET /.well-known/oauth-protected-resource[/mcp]: the resource, the authorization server that
 * issues its tokens, and how to send them. With the /mcp suffix the resource is /mcp itself
 * (RFC 9728 §3.1: the metadata URL is the resource's, with the well-known segment inserted).
 */
export function protectedResource(request: AppRequest): Response {
  const base = origin(request);
  const path = new URL(request.url).pathname.slice(METADATA_PATH.length);
  const server = request.config.authorizationServer;
  const metadata = {
    resource: `${base}${path}`,
    ...(server === undefined ? {} : { authorization_servers: [server] }),
    bearer_methods_supported: ["header"],
    resource_name: "Task API",
    resource_documentation: `${base}/docs`,
  };
  return new Response(JSON.stringify(metadata), {
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "public, max-age=3600" },
  });
}

/** The router's own fetch, for the MCP tools' REST calls. */
export type Dispatch = (request: Request, env: Env, ctx: ExecutionContext) => Promise<Response>;

/** POST /mcp: one JSON-RPC message for the MCP server (loaded on the first /mcp request of an isolate). */
export async function mcp(request: AuthedRequest, env: Env, ctx: ExecutionContext, dispatch: Dispatch): Promise<Response> {
  const { serveMcp } = await import("../mcp/server.ts");
  const caller = {
    userId: request.userId,
    authorization: request.headers.get("Authorization") ?? "",
    requestId: request.id,
    origin: new URL(request.url).origin,
    dispatch: (inner: Request) => dispatch(markInternal(inner), env, ctx),
  };
  return serveMcp(request, caller, bearerToken(request), request.tokenExpires);
}

// The MCP server behind /mcp, on the official SDK's stateless HTTP entry (createMcpHandler of
// @modelcontextprotocol/server): each HTTP request gets a fresh server instance for the token's
// user, serving the 2026-07-28 protocol and, for clients of the 2025 revisions, the stateless
// Streamable HTTP fallback. Nothing is kept between requests, so any isolate can answer any one.
//
// A tool call is the REST call it stands for (tools.ts), made in-process through this Worker's
// own router with the caller's token: the same validation, limits, statement and problem codes.
import { createMcpHandler, ProtocolError, ProtocolErrorCode, Server } from "@modelcontextprotocol/server";
import { MAX_BATCH_BODY_BYTES } from "../http/body.ts";
import { isIdempotencyKey, KEY_RULE } from "../http/idempotency.ts";
import { log } from "../log.ts";
import { PROBLEMS } from "../problems.ts";
import { type Answer, ArgumentError, argumentText, type Call, type Tool, tools } from "./tools.ts";

type Json = Record<string, unknown>;

/** What a request's server needs to make REST calls for its user. */
export interface Caller {
  userId: string;
  /** The request's Authorization header, passed on to the REST calls (which verify it again). */
  authorization: string;
  requestId: string;
  /** The Worker's own origin (the REST calls never leave the isolate). */
  origin: string;
  /** This Worker's router, for an internal request (not rate-limited again: /mcp counted it). */
  dispatch(request: Request): Promise<Response>;
}

const SERVER_INFO = { name: "task-api", title: "Task API", version: "1.0.0" };

const INSTRUCTIONS =
  "Manage the signed-in user's tasks and lists. Tasks live in lists (the Inbox by default) and may have subtasks. " +
  "Writes take an optional idempotency_key: send a fresh one per change and the same one when retrying. " +
  "Errors carry a stable code (problem.code), e.g. task_not_found, validation_failed (with the argument in errors[].path).";

/** The REST request of a call; an ArgumentError for an idempotency_key no header can carry as it is. */
function toRequest(caller: Caller, call: Call): Request {
  const url = new URL(`${caller.origin}/api/${encodeURIComponent(caller.userId)}${call.path}`);
  for (const [name, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(name, argumentText(value));
  const headers: Record<string, string> = { Authorization: caller.authorization, "X-Request-Id": caller.requestId };
  if (call.idempotencyKey !== undefined) {
    // Checked here with the route's own rule: a header cannot carry every value an argument can.
    if (!isIdempotencyKey(call.idempotencyKey)) throw new ArgumentError("idempotency_key", KEY_RULE);
    headers["Idempotency-Key"] = call.idempotencyKey;
  }
  let body: string | null = null;
  if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    headers["Content-Type"] = "application/json";
  }
  return new Request(url, { method: call.method, headers, body });
}

/** The cursor in a Link: <…?…&cursor=…>; rel="next" header, or null. */
function nextCursor(link: string | null): string | null {
  const url = link === null ? undefined : /<([^>]*)>\s*;\s*rel="next"/.exec(link)?.[1];
  return url === undefined ? null : new URL(url, "http://link.invalid").searchParams.get("cursor");
}

/** A problem as a tool error: the code first in the text, the problem (paths as arguments) as data. */
function toolError(tool: Tool | undefined, problem: Json): Json {
  const errors = Array.isArray(problem.errors)
    ? (problem.errors as { path: string; message: string }[]).map((error) => ({
        path: tool === undefined ? error.path : tool.argument(error.path),
        message: error.message,
      }))
    : undefined;
  const [first] = errors ?? [];
  // The route's detail names its first error by the route's path: say it with the argument's.
  const more = (errors?.length ?? 0) > 1 ? ` (and ${(errors?.length ?? 1) - 1} more in errors)` : "";
  const detail = first === undefined ? problem.detail : `${first.path === "" ? "" : `${first.path} `}${first.message}${more}`;
  const { type: _, operation: __, errors: ___, ...rest } = problem;
  const shown: Json = { ...rest, detail, ...(errors === undefined ? {} : { errors }) };
  return {
    isError: true,
    content: [
      { type: "text", text: `Error ${problem.code}: ${detail}` },
      { type: "text", text: JSON.stringify({ problem: shown }) },
    ],
    structuredContent: { problem: shown },
  };
}

async function callTool(caller: Caller, name: string, args: Json): Promise<Json> {
  const tool = tools().find((candidate) => candidate.name === name);
  if (tool === undefined) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
  let request: Request;
  try {
    request = toRequest(caller, tool.call(args));
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    const { status, title } = PROBLEMS.validation_failed;
    const errors = [{ path: error.argument, message: error.message }];
    return toolError(undefined, { code: "validation_failed", status, title, detail: "", errors, request_id: caller.requestId });
  }
  const response = await caller.dispatch(request);
  const text = await response.text();
  const body: unknown = text === "" ? null : JSON.parse(text);
  if (response.status >= 400) {
    const problem = body as Json;
    const retryAfter = response.headers.get("Retry-After");
    return toolError(tool, retryAfter === null ? problem : { ...problem, retry_after: Number(retryAfter) });
  }
  const answer: Answer = {
    body,
    nextCursor: nextCursor(response.headers.get("Link")),
    replayed: response.headers.get("Idempotent-Replayed") === "true",
  };
  const { structured, summary } = tool.result(answer, args);
  return {
    content: [
      { type: "text", text: summary },
      { type: "text", text: JSON.stringify(structured) },
    ],
    structuredContent: structured,
  };
}

/** How long a client may keep the tool list: an hour after a deploy, every client has the new one. */
const TOOL_LIST_TTL_MS = 3_600_000;

let listed: Json[] | undefined;

/** tools/list's answer, built once per isolate. */
function toolList(): Json[] {
  listed ??= tools().map((tool) => ({
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    annotations: { title: tool.title, ...tool.annotations },
  }));
  return listed;
}

function serverFor(caller: Caller): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    instructions: INSTRUCTIONS,
    // The tool list is the same for every user and changes only with a deploy (2026-07-28 clients cache it).
    cacheHints: { "tools/list": { ttlMs: TOOL_LIST_TTL_MS, cacheScope: "public" } },
  });
  server.setRequestHandler("tools/list", () => ({ tools: toolList() }) as never);
  server.setRequestHandler("tools/call", (request) => {
    const params = request.params as { name: string; arguments?: Json };
    return callTool(caller, params.name, params.arguments ?? {}) as never;
  });
  return server;
}

const handler = createMcpHandler(
  (context) => {
    const caller = context.authInfo?.extra?.caller as Caller | undefined;
    if (caller === undefined) throw new Error("an /mcp request reached the MCP server without a caller");
    return serverFor(caller);
  },
  {
    legacy: "stateless",
    // The default ("auto"): one JSON answer per request, since no tool sends anything before
    // its result ("json" would say the same, with a warning in the log of every isolate).
    // The largest REST body (a batch); each tool's own route applies its own limit below it.
    maxRequestBodySize: MAX_BATCH_BODY_BYTES,
    // What the SDK refused (a malformed message, say: the request's own log line has its status)
    // or failed at outside a request: its words only, never a stack or the message it read.
    onerror: (error) => log("info", "mcp", { reason: error.message.slice(0, 200) }),
  },
);

/** Serves one /mcp request for an authenticated caller. */
export function serveMcp(request: Request, caller: Caller, token: string, expires: number): Promise<Response> {
  return handler.fetch(request, { authInfo: { token, clientId: caller.userId, scopes: [], expiresAt: expires, extra: { caller } } });
}

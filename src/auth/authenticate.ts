// The first step of every /api/{user_id}/... route: the bearer token must be valid (401) and its
// subject must be exactly the {user_id} of the path (403). Makes the request an AuthedRequest.
// /mcp, whose path names no user, takes any valid token (authenticateAnySubject).
// /live also takes the token as a WebSocket subprotocol (browsers cannot set headers there).
import { required } from "../config.ts";
import type { AppRequest, AuthedRequest } from "../http/context.ts";
import { BEARER_PREFIX } from "../live/protocol.ts";
import { forbidden } from "../problems.ts";
import { bearerToken, verifyToken } from "./jwt.ts";

/** The {user_id} of the path, percent-decoded; undefined when it does not decode. */
function pathUser(request: AppRequest): string | undefined {
  try {
    return decodeURIComponent(request.params.user_id ?? "");
  } catch {
    return undefined;
  }
}

export function authenticate(request: AppRequest): Promise<undefined> {
  return authenticateWith(request, bearerToken(request));
}

/**
 * For WebSocket upgrades: the token from Authorization, else from the offered subprotocols
 * (`Sec-WebSocket-Protocol: task-api.v1, bearer.<JWT>`). Never from the URL.
 */
export function authenticateSocket(request: AppRequest): Promise<undefined> {
  if (request.headers.has("Authorization")) return authenticate(request);
  const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((protocol) => protocol.trim());
  const token = offered.find((protocol) => protocol.startsWith(BEARER_PREFIX))?.slice(BEARER_PREFIX.length);
  return authenticateWith(request, token === undefined || token === "" ? bearerToken(request) : token);
}

/** For a path that names no user (/mcp): any valid bearer token, whose subject is then the user. */
export function authenticateAnySubject(request: AppRequest): Promise<undefined> {
  return authenticateWith(request, bearerToken(request), false);
}

async function authenticateWith(request: AppRequest, token: string, ownsPath = true): Promise<undefined> {
  const identity = await verifyToken(token, required(request.config.auth));
  // An exact comparison: user ids are case-sensitive (Better Auth's are random mixed-case strings).
  if (ownsPath && pathUser(request) !== identity.userId) throw forbidden();
  const authed: Pick<AuthedRequest, "userId" | "tokenExpires"> = { userId: identity.userId, tokenExpires: identity.expires };
  Object.assign(request, authed);
  return undefined;
}

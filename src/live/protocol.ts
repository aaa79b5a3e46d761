// The messages of GET /api/{user_id}/live (API.md "Live updates"), one module for the Durable
// Object, the tests and the demo page (served as /demo/protocol.js, its types stripped).

/** The subprotocol a browser offers, with `bearer.<JWT>` beside it; the server selects it. */
export const PROTOCOL = "task-api.v1";
/** The prefix of the subprotocol that carries the token (browsers cannot set Authorization on a WebSocket). */
export const BEARER_PREFIX = "bearer.";
/** The close code sent when the token's exp passes, after an `expired` message. */
export const CLOSE_EXPIRED = 4401;
/** The most sockets one user may hold at once. */
export const MAX_SOCKETS_PER_USER = 100;
/** The one message a client may send; the runtime answers it with PONG, without waking the object. */
export const PING = "ping";
export const PONG = "pong";
/** The close code for anything a client sends but PING (RFC 6455 policy violation): a binary frame, other text. */
export const CLOSE_POLICY_VIOLATION = 1008;
/** The close code for a frame over MAX_CLIENT_MESSAGE_BYTES (RFC 6455 message too big). */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** The largest frame a client may send, in bytes: PING is 4; larger frames are closed with 1009. */
export const MAX_CLIENT_MESSAGE_BYTES = 1024;

/** Sent once, right after the upgrade: pull /changes since your own cursor, or this one. */
export interface Ready {
  type: "ready";
  cursor: string;
}

/** Sent after writes of this user commit (several may be announced by one); cursor is the newest. */
export interface Changed {
  type: "changed";
  cursor: string;
}

/** Sent when the token's exp passes, just before the server closes with 4401. */
export interface Expired {
  type: "expired";
}

export type ServerMessage = Ready | Changed | Expired;

/** A server message from a text frame; undefined for anything else. */
export function parseServerMessage(data: unknown): ServerMessage | undefined {
  if (typeof data !== "string") return undefined;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof message !== "object" || message === null) return undefined;
  const { type, cursor } = message as { type?: unknown; cursor?: unknown };
  if (type === "expired") return { type };
  if ((type === "ready" || type === "changed") && typeof cursor === "string") return { type, cursor };
  return undefined;
}

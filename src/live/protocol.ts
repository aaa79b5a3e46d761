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

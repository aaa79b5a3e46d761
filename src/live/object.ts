// The Durable Object behind GET /api/{user_id}/live, one per user: a room with one door. The
// Worker authenticates and hands over the upgrade; this object only holds the user's sockets
// (with the hibernation API, so an idle socket costs nothing and survives eviction), tells them
// when the user's data changed, and closes each one when its token expires. No storage of its
// own but an alarm: a socket's token expiry travels in the socket's attachment.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { log } from "../log.ts";
import { encodeChangesCursor } from "../schemas/changes.ts";
import {
  type Changed,
  CLOSE_EXPIRED,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_POLICY_VIOLATION,
  type Expired,
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_SOCKETS_PER_USER,
  PING,
  PONG,
  PROTOCOL,
  type Ready,
} from "./protocol.ts";

/** What the Worker tells the object about a connection it has authenticated. */
export interface Connection {
  /** The user's change position when the upgrade was authenticated: the ready cursor. */
  position: number;
  /** The token's exp, in seconds since the epoch: the socket is closed then. */
  expires: number;
  /** Whether the client offered the task-api.v1 subprotocol (then the answer selects it). */
  subprotocol: boolean;
}

interface Attachment {
  expires: number;
}

/** The request header that carries the Connection from the Worker to the object. */
export const CONNECTION_HEADER = "X-Live-Connection";

export class LiveUpdates extends DurableObject<Env> {
  /** The newest position announced since this instance started, and one waiting to be announced. */
  #announced = 0;
  #pending: number | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Answered by the runtime without waking the object (see webSocketMessage for why pings need no rate).
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  /** The upgrade, already authenticated by the Worker (the only caller). */
  override async fetch(request: Request): Promise<Response> {
    const connection = JSON.parse(request.headers.get(CONNECTION_HEADER) ?? "null") as Connection | null;
    if (connection === null) return new Response(null, { status: 400 });
    if (this.#open().length >= MAX_SOCKETS_PER_USER) return new Response(null, { status: 429 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ expires: connection.expires } satisfies Attachment);
    const ready: Ready = { type: "ready", cursor: encodeChangesCursor(connection.position) };
    server.send(JSON.stringify(ready));
    await this.#scheduleExpiry();
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: connection.subprotocol ? { "Sec-WebSocket-Protocol": PROTOCOL } : {},
    });
  }

  /**
   * Called by the Worker after a write of this user committed. Notes arriving together (in the
   * same turn of the event loop) are announced by one message, with the newest position.
   */
  async notify(position: number): Promise<void> {
    if (this.#pending !== undefined) {
      this.#pending = Math.max(this.#pending, position);
      return;
    }
    this.#pending = position;
    await new Promise((resolve) => setTimeout(resolve, 0));
    const newest = this.#pending;
    this.#pending = undefined;
    if (newest <= this.#announced) return;
    this.#announced = newest;
    const changed: Changed = { type: "changed", cursor: encodeChangesCursor(newest) };
    const text = JSON.stringify(changed);
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(text);
      } catch {
        // Closing or closed: it is dropped from getWebSockets() by the runtime.
      }
    }
  }

  /** Closes the sockets whose token has expired, and sets the alarm for the next one. */
  override async alarm(): Promise<void> {
    const now = Date.now() / 1000;
    const expired: Expired = { type: "expired" };
    for (const socket of this.#open()) {
      const attachment = socket.deserializeAttachment() as Attachment | null;
      if (attachment === null || attachment.expires > now) continue;
      try {
        socket.send(JSON.stringify(expired));
        socket.close(CLOSE_EXPIRED, "the token expired");
      } catch {
        // Already closing.
      }
    }
    await this.#scheduleExpiry();
  }

  /**
   * Every message that reaches the object breaks the protocol: its one client message, PING, is
   * answered by the runtime before any event is dispatched. So the socket is closed at once, with
   * 1009 for a frame over MAX_CLIENT_MESSAGE_BYTES (the runtime receives up to 32 MiB before we
   * see it), else 1008, and only the first such message is acted on. PING floods need no rate of
   * ours: the runtime answers them without waking the object or billing its duration, as it
   * answers RFC 6455 ping frames, which no application can see or limit (docs/sync.md "Live updates").
   */
  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // Frames the client sent before it saw our close: the runtime delivers every one, and has no
    // way to drop the connection sooner (throwing here does not). Nothing more to say to them.
    if (socket.readyState !== WebSocket.OPEN) return;
    if (message === PING) {
      // Only should the runtime not answer it itself (it does, test/live.test.ts): never a violation.
      log("info", "live ping reached the object");
      socket.send(PONG);
      return;
    }
    const size = bytesOf(message);
    const [code, reason] =
      size > MAX_CLIENT_MESSAGE_BYTES
        ? [CLOSE_MESSAGE_TOO_BIG, `a message may be at most ${MAX_CLIENT_MESSAGE_BYTES} bytes`]
        : [CLOSE_POLICY_VIOLATION, `the only message a client may send is "${PING}"`];
    log("info", "live message refused", { close: code, kind: typeof message === "string" ? "text" : "binary", bytes: size });
    try {
      socket.close(code, reason);
    } catch {
      // Closed meanwhile.
    }
  }

  override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
    // Completes the closing handshake the client started (the socket is CLOSING here); the socket's
    // place is free as soon as it is closed. After a close we started (alarm, webSocketMessage) the
    // socket is already CLOSED and this does nothing: the runtime ends the connection itself, at
    // once if the client had sent any frame before its reply, else only when it evicts this object
    // (docs/sync.md "When the server closes a socket"; nothing done here changes that).
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // Already closed.
    }
    await this.#scheduleExpiry();
  }

  /** The sockets still open (not closing). */
  #open(): WebSocket[] {
    return this.ctx.getWebSockets().filter((socket) => socket.readyState === WebSocket.OPEN);
  }

  /** The alarm at the earliest token expiry among the open sockets (now, if one has passed); none without sockets. */
  async #scheduleExpiry(): Promise<void> {
    const expiries = this.#open()
      .map((socket) => (socket.deserializeAttachment() as Attachment | null)?.expires)
      .filter((expires): expires is number => expires !== undefined);
    if (expiries.length === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm(Math.max(Math.min(...expiries) * 1000, Date.now()));
  }
}

/**
 * A message's size in bytes (text as UTF-8). Text longer than the limit in characters is surely
 * over it in bytes: its length stands in, rather than encoding up to 32 MiB to count them.
 */
function bytesOf(message: string | ArrayBuffer): number {
  if (typeof message !== "string") return message.byteLength;
  return message.length > MAX_CLIENT_MESSAGE_BYTES ? message.length : new TextEncoder().encode(message).byteLength;
}

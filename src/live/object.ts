// The Durable Object behind GET /api/{user_id}/live, one per user: a room with one door. The
// Worker authenticates and hands over the upgrade; this object only holds the user's sockets
// (with the hibernation API, so an idle socket costs nothing and survives eviction), tells them
// when the user's data changed, and closes each one when its token expires. No storage of its
// own but an alarm: a socket's token expiry travels in the socket's attachment.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { encodeChangesCursor } from "../schemas/changes.ts";
import { type Changed, CLOSE_EXPIRED, type Expired, MAX_SOCKETS_PER_USER, PROTOCOL, type Ready } from "./protocol.ts";

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
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
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

  /** Client messages other than "ping" (answered by the runtime) mean nothing here. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(socket: WebSocket, code: number): Promise<void> {
    // Completes the closing handshake; the socket's place is free as soon as it is closed.
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

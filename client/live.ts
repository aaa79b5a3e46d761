// GET /api/{user_id}/live for a frontend: the WebSocket that says when the user's tasks changed,
// turned into pulls of /changes, so a local copy follows every device's writes. The token travels
// as a subprotocol (a browser cannot set Authorization on a WebSocket), never in the URL.
import { type Change, createTaskClient, type ListChange, type MemberChange, TaskApiError } from "./api.js";
import { type PullOptions, pullChanges } from "./changes.js";

// The protocol, restated from the API's src/live/protocol.ts so that this package stands alone
// (test/client.test.ts checks that the two agree).

/** The subprotocol offered beside `bearer.<JWT>`; the server selects it. */
export const LIVE_PROTOCOL = "task-api.v1";
/** The prefix of the subprotocol that carries the token. */
export const BEARER_PREFIX = "bearer.";
/** The close code that follows `expired`: the token's exp has passed. */
export const CLOSE_EXPIRED = 4401;

/** Sent once, right after the upgrade. */
export interface Ready {
  type: "ready";
  cursor: string;
}

/** Sent after writes of this user commit; cursor is the newest. */
export interface Changed {
  type: "changed";
  cursor: string;
}

/** Sent when the token's exp passes, just before the server closes with 4401. */
export interface Expired {
  type: "expired";
}

export type LiveMessage = Ready | Changed | Expired;

/** A server message from a text frame; undefined for anything else (such as `pong`). */
export function parseLiveMessage(data: unknown): LiveMessage | undefined {
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

/** The socket closed without being asked to: a dropped network, or a refused upgrade (1006). */
export class LiveClosedError extends Error {
  readonly code: number;
  constructor(code: number, reason: string) {
    super(`the /live socket closed with ${code}${reason === "" ? "" : ` (${reason})`}; reconnecting`);
    this.name = "LiveClosedError";
    this.code = code;
  }
}

export interface WatchOptions {
  /** Where the Worker answers, without /api (http: becomes ws:, https: becomes wss:). */
  baseUrl: string;
  userId: string;
  /** The bearer token, asked at every connection: after `expired` (4401) it must return a fresh one. */
  token: () => string | Promise<string>;
  /** The cursor kept with the local copy; without one, the first pull is a full sync. */
  cursor?: string | undefined;
  /** Each change pulled, in commit order: store the task of an upsert, drop the id of a delete. */
  onChange: (change: Change) => void;
  /**
   * Each list change pulled, as pullChanges' `onList` (before the task changes of the same page):
   * store the list of an upsert, drop the id of a delete. Without it, list changes are skipped.
   */
  onList?: ((change: ListChange) => void) | undefined;
  /** Each membership change of a shared list pulled, as pullChanges' `onMember`. Without it, skipped. */
  onMember?: ((change: MemberChange) => void) | undefined;
  /** The cursor was too old (410 cursor_expired): clear the local copy (lists too); a full sync follows. */
  onReset: () => void;
  /** After each pull that succeeded: the cursor to keep, saved together with the local copy. */
  onSync?: ((cursor: string) => void) | undefined;
  /** What went wrong on the way (a failed pull, a dropped socket, a token() that threw); it keeps trying. */
  onError?: ((error: unknown) => void) | undefined;
  /** Reconnection delays in ms: doubling from `min` (1000) up to `max` (30000), less up to half at random. */
  backoff?: { min?: number | undefined; max?: number | undefined } | undefined;
  /** Default: the global WebSocket (browsers, React Native, Node 22 and later, Deno, Bun). */
  WebSocket?: (new (url: string, protocols: string[]) => WebSocket) | undefined;
  fetch?: typeof fetch | undefined;
}

/** How often an open socket sends `ping`, so that no proxy on the way closes it as idle. */
const PING_MS = 30_000;

/**
 * Keeps a local copy in step with the API: opens /live, pulls /changes from the kept cursor after
 * `ready` and after each `changed` (one pull at a time; one more if news came meanwhile), reconnects
 * with a fresh token after `expired`, and with backoff after any other close or a failed pull.
 * Returns the function that stops it all (in React: `useEffect(() => watchChanges({…}), [userId])`).
 */
export function watchChanges(options: WatchOptions): () => void {
  const { userId } = options;
  const min = options.backoff?.min ?? 1_000;
  const max = options.backoff?.max ?? 30_000;
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  if (Socket === undefined) throw new TypeError("watchChanges: no global WebSocket here (Node 20?): pass options.WebSocket");
  const url = new URL(`${options.baseUrl.replace(/\/+$/, "")}/api/${encodeURIComponent(userId)}/live`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  // The token of the current connection, also used by its pulls: one token() call per connection.
  let token = "";
  const api = createTaskClient({ baseUrl: options.baseUrl, token: () => token, fetch: options.fetch });
  let cursor = options.cursor;
  let stopped = false;
  let connecting = false;
  let socket: WebSocket | undefined;
  let ping: ReturnType<typeof setInterval> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let pulling = false;
  let pullAgain = false;

  const report = (error: unknown) => {
    if (!stopped) options.onError?.(error);
  };
  const apply = (change: Change) => {
    if (!stopped) options.onChange(change);
  };
  const applyList = (change: ListChange) => {
    if (!stopped) options.onList?.(change);
  };
  const applyMember = (change: MemberChange) => {
    if (!stopped) options.onMember?.(change);
  };
  const pullOptions: PullOptions = {
    ...(options.onList === undefined ? {} : { onList: applyList }),
    ...(options.onMember === undefined ? {} : { onMember: applyMember }),
  };

  async function connect(): Promise<void> {
    timer = undefined;
    connecting = true;
    let ws: WebSocket;
    try {
      token = await options.token();
      if (stopped) return;
      ws = new Socket(url.href, [LIVE_PROTOCOL, `${BEARER_PREFIX}${token}`]);
    } catch (error) {
      // token() failed (signed out, offline), or the WebSocket refused the URL: try again later.
      connecting = false;
      report(error);
      return retry();
    }
    connecting = false;
    socket = ws;
    ws.addEventListener("open", () => {
      if (socket !== ws) return;
      // One at once: a connection that has carried a frame of the client's ends promptly when the
      // server closes it (docs/sync.md "When the server closes a socket"); then every PING_MS.
      ws.send("ping");
      ping = setInterval(() => ws.send("ping"), PING_MS);
    });
    ws.addEventListener("message", (event) => {
      const message = parseLiveMessage(event.data);
      if (message === undefined || socket !== ws) return;
      if (message.type === "expired") {
        // At once, without waiting for the close that follows (a client may see it seconds later).
        disconnect();
        void connect();
      } else if (message.cursor !== cursor) void pull();
      else failures = 0; // in step already
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      disconnect();
      if (stopped) return;
      if (event.code === CLOSE_EXPIRED) void connect();
      else {
        report(new LiveClosedError(event.code, event.reason));
        retry();
      }
    });
  }

  /** Connects again after a delay, unless a connection is open, under way or already scheduled. */
  function retry(): void {
    if (stopped || connecting || socket !== undefined || timer !== undefined) return;
    const delay = Math.min(max, min * 2 ** failures) * (1 - Math.random() / 2);
    failures++;
    timer = setTimeout(() => void connect(), delay);
  }

  function disconnect(): void {
    clearInterval(ping);
    const ws = socket;
    socket = undefined;
    // CONNECTING (0) or OPEN (1): its events are ignored from now on, since it is no longer `socket`.
    if (ws !== undefined && ws.readyState <= 1) ws.close(1000);
  }

  async function pull(): Promise<void> {
    if (pulling) {
      pullAgain = true;
      return;
    }
    pulling = true;
    try {
      do {
        pullAgain = false;
        try {
          cursor = await pullChanges(api, userId, cursor, apply, pullOptions);
        } catch (error) {
          if (!(error instanceof TaskApiError && error.code === "cursor_expired") || stopped) throw error;
          cursor = undefined;
          options.onReset();
          cursor = await pullChanges(api, userId, cursor, apply, pullOptions);
        }
        if (stopped) return;
        failures = 0;
        options.onSync?.(cursor);
      } while (pullAgain);
    } catch (error) {
      // A pull that failed (network, 503, a token that expired meanwhile) is retried the sure way:
      // a new connection, with a fresh token, whose `ready` pulls again.
      report(error);
      disconnect();
      retry();
    } finally {
      pulling = false;
    }
  }

  void connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    disconnect();
  };
}

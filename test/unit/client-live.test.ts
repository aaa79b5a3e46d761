// The client's watchChanges (client/live.ts) against a fake WebSocket and a fake /changes: what it
// offers in the handshake, when it pulls, how it reconnects (at once after `expired`, with doubling
// delays after anything else), and that close() ends it all. Its restatement of the /live protocol
// is checked against the server's own module. test/client.test.ts runs it against the real Worker.
import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import {
  BEARER_PREFIX,
  type Change,
  CLOSE_EXPIRED,
  LIVE_PROTOCOL,
  type ListChange,
  LiveClosedError,
  type LiveMessage,
  parseLiveMessage,
  TaskApiError,
  type WatchOptions,
  watchChanges,
} from "../../client/index.ts";
import * as server from "../../src/live/protocol.ts";

/** A WebSocket the test drives: it opens, speaks and closes when told to. */
class FakeSocket extends EventTarget {
  static opened: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closedWith: number | undefined;
  readonly url: string;
  readonly protocols: string[];
  constructor(url: string, protocols: string[]) {
    super();
    this.url = url;
    this.protocols = protocols;
    FakeSocket.opened.push(this);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  /** Called by the client: no close event comes back to it (it stops listening first anyway). */
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }
  say(message: LiveMessage): void {
    this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(message) }));
  }
  /** The server or the network closes it. */
  drop(code: number): void {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason: "" }));
  }
}

const last = () => FakeSocket.opened.at(-1) as FakeSocket;

/** A fake GET /changes: each call is answered by `answer(since)`; every call is recorded. */
function changesFeed(answer: (since: string | null) => Response | Promise<Response>) {
  const calls: { since: string | null; authorization: string | null }[] = [];
  const fetch = async (input: RequestInfo | URL) => {
    const request = input as Request;
    const since = new URL(request.url).searchParams.get("since");
    calls.push({ since, authorization: request.headers.get("Authorization") });
    return answer(since);
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

const page = (cursor: string, changes: Change[] = [], lists: ListChange[] = []) =>
  Response.json({ changes, lists, members: [], cursor, has_more: false });
const problem = (status: number, code: string) =>
  new Response(JSON.stringify({ type: `/problems/${code}`, code, title: code, status, detail: code, request_id: "r" }), {
    status,
    headers: { "Content-Type": "application/problem+json" },
  });
const upsert = (id: number): Change => ({
  op: "upsert",
  task: {
    id,
    user_id: "u",
    title: `task ${id}`,
    description: null,
    completed: false,
    completed_at: null,
    priority: "medium",
    tags: [],
    due_date: null,
    created_at: "2026-11-23T10:00:00.000Z",
    updated_at: "2026-11-23T10:00:00.000Z",
    version: 1,
    recurrence: null,
    series_id: null,
    next_id: null,
    list_id: 1,
    parent_id: null,
    position: `a${id}`,
    created_by: "u",
    assignee_id: null,
  },
});

function watch(options: Partial<WatchOptions> & Pick<WatchOptions, "fetch">) {
  const seen: Change[] = [];
  const synced: string[] = [];
  const errors: unknown[] = [];
  let resets = 0;
  const close = watchChanges({
    baseUrl: "https://tasks.example.com/",
    userId: "user 1",
    token: () => "jwt-1",
    onChange: (change) => seen.push(change),
    onReset: () => resets++,
    onSync: (cursor) => synced.push(cursor),
    onError: (error) => errors.push(error),
    WebSocket: FakeSocket as unknown as WatchOptions["WebSocket"],
    ...options,
  });
  return { close, seen, synced, errors, resets: () => resets };
}

/** Lets the client's promises (token(), the fake fetch, openapi-fetch's own awaits) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(0);
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  FakeSocket.opened = [];
});

describe("the protocol, restated in the client", () => {
  it("has the server's subprotocol, token prefix and expiry close code", () => {
    expect([LIVE_PROTOCOL, BEARER_PREFIX, CLOSE_EXPIRED]).toEqual([server.PROTOCOL, server.BEARER_PREFIX, server.CLOSE_EXPIRED]);
  });

  it("has the server's three messages, and parses every frame as the server's parser does", () => {
    expectTypeOf<LiveMessage>().toEqualTypeOf<server.ServerMessage>();
    const frames: unknown[] = [
      '{"type":"ready","cursor":"abc"}',
      '{"type":"changed","cursor":"def"}',
      '{"type":"expired"}',
      '{"type":"ready"}',
      '{"type":"changed","cursor":7}',
      '{"type":"other","cursor":"x"}',
      "pong",
      "null",
      "[]",
      new ArrayBuffer(2),
    ];
    for (const frame of frames) expect(parseLiveMessage(frame)).toEqual(server.parseServerMessage(frame));
  });
});

describe("watchChanges", () => {
  it("offers task-api.v1 and bearer.<token> as subprotocols, and keeps the token out of the URL", async () => {
    vi.useFakeTimers();
    const feed = changesFeed(() => page("c1"));
    const { close } = watch({ fetch: feed.fetch });
    await settle();
    expect(last().url).toBe("wss://tasks.example.com/api/user%201/live");
    expect(last().protocols).toEqual([server.PROTOCOL, `${server.BEARER_PREFIX}jwt-1`]);
    close();
    const plain = watch({ fetch: feed.fetch, baseUrl: "http://127.0.0.1:8787" });
    await settle();
    expect(last().url).toBe("ws://127.0.0.1:8787/api/user%201/live");
    plain.close();
  });

  it("pulls after ready and after each changed, one pull at a time, from the cursor it keeps", async () => {
    vi.useFakeTimers();
    let release: () => void = () => {};
    const feed = changesFeed(async (since) => {
      if (since === null) return page("c1", [upsert(1)]);
      if (since === "c1") {
        // The second pull waits until the test lets it answer: news meanwhile must not start another.
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return page("c3", [upsert(2), upsert(3)]);
      }
      return page(since);
    });
    const { close, seen, synced } = watch({ fetch: feed.fetch });
    await settle();
    last().open();
    last().say({ type: "ready", cursor: "c1" });
    await settle();
    expect(feed.calls.map((call) => call.since)).toEqual([null]);
    last().say({ type: "changed", cursor: "c2" });
    await settle();
    last().say({ type: "changed", cursor: "c3" });
    last().say({ type: "changed", cursor: "c4" });
    await settle();
    expect(feed.calls.map((call) => call.since)).toEqual([null, "c1"]);
    release();
    await settle();
    // One more pull for the news that came during the second, from the cursor that pull returned.
    expect(feed.calls.map((call) => call.since)).toEqual([null, "c1", "c3"]);
    expect(seen.map((change) => (change.op === "upsert" ? change.task.id : -change.id))).toEqual([1, 2, 3]);
    expect(synced).toEqual(["c1", "c3", "c3"]);
    expect(feed.calls.every((call) => call.authorization === "Bearer jwt-1")).toBe(true);
    close();
  });

  it("hands list changes to onList, before the page's task changes, and skips them without it", async () => {
    vi.useFakeTimers();
    const inbox: ListChange = {
      op: "upsert",
      list: {
        id: 1,
        user_id: "u",
        name: "Inbox",
        color: null,
        inbox: true,
        position: "a0",
        created_at: "2026-11-23T10:00:00.000Z",
        updated_at: "2026-11-23T10:00:00.000Z",
        version: 1,
        role: "owner",
        shared: false,
      },
    };
    const feed = changesFeed(() => page("c1", [upsert(1)], [inbox, { op: "delete", id: 2 }]));
    const order: string[] = [];
    const { close } = watch({
      fetch: feed.fetch,
      onChange: (change) => order.push(`task ${change.op}`),
      onList: (change) => order.push(`list ${change.op}`),
    });
    await settle();
    last().open();
    last().say({ type: "ready", cursor: "c1" });
    await settle();
    expect(order).toEqual(["list upsert", "list delete", "task upsert"]);
    close();
    const without = watch({ fetch: feed.fetch });
    await settle();
    last().open();
    last().say({ type: "ready", cursor: "c1" });
    await settle();
    expect(without.seen).toHaveLength(1);
    expect(without.synced).toEqual(["c1"]);
    without.close();
  });

  it("does not pull when ready or changed names the cursor it already holds", async () => {
    vi.useFakeTimers();
    const feed = changesFeed(() => page("c9"));
    const { close } = watch({ fetch: feed.fetch, cursor: "c9" });
    await settle();
    last().open();
    last().say({ type: "ready", cursor: "c9" });
    last().say({ type: "changed", cursor: "c9" });
    await settle();
    expect(feed.calls).toEqual([]);
    close();
  });

  it("after expired, or a 4401 close, asks for a new token and reconnects at once", async () => {
    vi.useFakeTimers();
    const tokens = ["jwt-1", "jwt-2", "jwt-3"];
    const feed = changesFeed(() => page("c1"));
    const { close, errors } = watch({ fetch: feed.fetch, token: () => tokens.shift() ?? "no more tokens" });
    await settle();
    const first = last();
    first.open();
    first.say({ type: "ready", cursor: "c1" });
    await settle();
    // expired: a new connection at once, without waiting for the server's close.
    first.say({ type: "expired" });
    await settle();
    expect(first.closedWith).toBe(1000);
    first.drop(server.CLOSE_EXPIRED);
    await settle();
    // 4401 without the message (lost on the way): the same.
    last().open();
    last().drop(server.CLOSE_EXPIRED);
    await settle();
    expect(FakeSocket.opened.map((socket) => socket.protocols[1])).toEqual(["bearer.jwt-1", "bearer.jwt-2", "bearer.jwt-3"]);
    expect(errors).toEqual([]);
    close();
  });

  it("after any other close, reconnects after doubling delays up to the maximum, and from the first again once in step", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0); // no jitter: the delays are exactly min·2ⁿ
    const feed = changesFeed(() => page("c1"));
    const { close, errors } = watch({ fetch: feed.fetch, backoff: { min: 1_000, max: 4_000 } });
    await settle();
    const delays: number[] = [];
    for (let drop = 0; drop < 4; drop++) {
      last().drop(1006);
      const before = FakeSocket.opened.length;
      let waited = 0;
      while (FakeSocket.opened.length === before) {
        await vi.advanceTimersByTimeAsync(250);
        waited += 250;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 4_000]);
    expect(errors).toHaveLength(4);
    expect(errors[0]).toBeInstanceOf(LiveClosedError);
    expect((errors[0] as LiveClosedError).code).toBe(1006);
    // A connection that gets in step resets the delay.
    last().open();
    last().say({ type: "ready", cursor: "c0" });
    await settle();
    last().drop(1006);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(FakeSocket.opened).toHaveLength(6);
    close();
  });

  it("a token() that throws is reported, and asked again after the backoff", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0);
    const answers: Array<() => string> = [
      () => {
        throw new Error("signed out");
      },
      () => "jwt-2",
    ];
    const { close, errors } = watch({ fetch: changesFeed(() => page("c1")).fetch, token: () => (answers.shift() ?? (() => "jwt-3"))() });
    await settle();
    expect(FakeSocket.opened).toHaveLength(0);
    expect(String(errors[0])).toBe("Error: signed out");
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(FakeSocket.opened.map((socket) => socket.protocols[1])).toEqual(["bearer.jwt-2"]);
    close();
  });

  it("on 410 cursor_expired: onReset, then a full sync from no cursor", async () => {
    vi.useFakeTimers();
    const feed = changesFeed((since) => (since === "old" ? problem(410, "cursor_expired") : page("c1", [upsert(5)])));
    const { close, seen, synced, resets, errors } = watch({ fetch: feed.fetch, cursor: "old" });
    await settle();
    last().open();
    last().say({ type: "ready", cursor: "c1" });
    await settle();
    expect(feed.calls.map((call) => call.since)).toEqual(["old", null]);
    expect(resets()).toBe(1);
    expect(seen).toHaveLength(1);
    expect(synced).toEqual(["c1"]);
    expect(errors).toEqual([]);
    close();
  });

  it("a pull that fails is reported, and the socket is replaced after the backoff", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0);
    const answers = [problem(503, "database_unavailable"), page("c1")];
    const feed = changesFeed(() => answers.shift() ?? page("c1"));
    const { close, errors, synced } = watch({ fetch: feed.fetch, backoff: { min: 1_000 } });
    await settle();
    const first = last();
    first.open();
    first.say({ type: "ready", cursor: "c1" });
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TaskApiError);
    expect((errors[0] as TaskApiError).code).toBe("database_unavailable");
    expect(first.closedWith).toBe(1000);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(FakeSocket.opened).toHaveLength(2);
    last().open();
    last().say({ type: "ready", cursor: "c1" });
    await settle();
    expect(synced).toEqual(["c1"]);
    close();
  });

  it("pings once it is open (so a close the server starts ends at once), then every 30 s, with the protocol's one client message", async () => {
    vi.useFakeTimers();
    const { close } = watch({ fetch: changesFeed(() => page("c1")).fetch });
    await settle();
    expect(last().sent).toEqual([]);
    last().open();
    expect(last().sent).toEqual([server.PING]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(last().sent).toEqual([server.PING, server.PING, server.PING]);
    close();
  });

  it("close() closes the socket; nothing reconnects, pulls or reports afterwards", async () => {
    vi.useFakeTimers();
    const feed = changesFeed(() => page("c1"));
    const { close, errors, seen } = watch({ fetch: feed.fetch });
    await settle();
    const socket = last();
    socket.open();
    close();
    expect(socket.closedWith).toBe(1000);
    socket.say({ type: "ready", cursor: "c1" });
    socket.drop(1006);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.opened).toHaveLength(1);
    expect(feed.calls).toEqual([]);
    expect([errors, seen]).toEqual([[], []]);
  });
});

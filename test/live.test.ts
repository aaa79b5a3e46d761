// GET /api/{user_id}/live (API.md "Live updates"): a hibernating WebSocket per client, held by the
// user's Durable Object, that says `ready`, then `changed` after each write of that user only,
// answers ping (and closes with 1008, or 1009 when too big, on anything else the client sends),
// and closes with 4401 when the token expires; every refusal is a plain HTTP problem before any
// upgrade. Run in Miniflare, with Node's own WebSocket client.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import {
  CLOSE_EXPIRED,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_POLICY_VIOLATION,
  MAX_CLIENT_MESSAGE_BYTES,
  PING,
  PONG,
  parseServerMessage,
  type ServerMessage,
} from "../src/live/protocol.ts";
import { call, createTask, expectProblem, newUser, sleep, type Task, tokenFor, workerUrl } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { startTestWorker } from "./support/transport.ts";

interface Live {
  socket: WebSocket;
  messages: ServerMessage[];
  /** The next message of this type (waiting up to `ms`); fails the test when none comes. */
  next(type: ServerMessage["type"], ms?: number): Promise<ServerMessage>;
  closed: Promise<{ code: number; reason: string }>;
  raw: string[];
}

/** Opens /live for `user` and waits for the socket to open (the handshake succeeded). */
async function open(
  user: string,
  options: { base?: string; token?: string; protocols?: string[]; authorization?: boolean } = {},
): Promise<Live> {
  const token = options.token ?? (await tokenFor(user));
  const url = `${(options.base ?? workerUrl()).replace(/^http/, "ws")}/api/${encodeURIComponent(user)}/live`;
  const protocols = options.protocols ?? ["task-api.v1", `bearer.${token}`];
  const socket = new (WebSocket as unknown as new (url: string, init: unknown) => WebSocket)(url, {
    protocols,
    ...(options.authorization ? { headers: { Authorization: `Bearer ${token}` } } : {}),
  });
  const messages: ServerMessage[] = [];
  const raw: string[] = [];
  const waiters: Array<() => void> = [];
  socket.addEventListener("message", (event) => {
    raw.push(String(event.data));
    const message = parseServerMessage(event.data);
    if (message !== undefined) messages.push(message);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`the WebSocket to ${url} did not open`)), { once: true });
  });
  let read = 0;
  const next = async (type: ServerMessage["type"], ms = 5_000): Promise<ServerMessage> => {
    const deadline = Date.now() + ms;
    for (;;) {
      while (read < messages.length) {
        const message = messages[read++] as ServerMessage;
        if (message.type === type) return message;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${type}" message within ${ms} ms; got ${JSON.stringify(messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return { socket, messages, next, closed, raw };
}

const closeAll = (sockets: Live[]) => Promise.all(sockets.map(async (live) => live.socket.close(1000)));

/** Runs `task` for each item, `width` at a time: many sockets or writes at once, without a stampede of connections. */
async function inGroups<T, R>(items: T[], width: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += width) {
    results.push(...(await Promise.all(items.slice(start, start + width).map((item, offset) => task(item, start + offset)))));
  }
  return results;
}

/** A WebSocket handshake by hand: the status, headers and body of a refused upgrade. */
function handshake(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}${path}`, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64"),
        ...headers,
      },
    });
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, headers: response.headers, body: "" });
    });
    request.on("response", (response) => {
      let body = "";
      response.on("data", (chunk) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on("error", reject);
    request.end();
  });
}

/** A refused handshake as a Response, for expectProblem. */
const asResponse = (refused: { status: number; headers: http.IncomingHttpHeaders; body: string }) =>
  new Response(refused.body, {
    status: refused.status,
    headers: Object.entries(refused.headers).flatMap(([name, value]) =>
      typeof value === "string" ? [[name, value] as [string, string]] : [],
    ),
  });

describe("who hears what", () => {
  it("a write by a user reaches both of that user's sockets within 1 s, and never another user's", async () => {
    const alice = newUser();
    const bob = newUser();
    const sockets = [await open(alice), await open(alice), await open(bob)];
    for (const live of sockets) await live.next("ready");
    const [a1, a2, b] = sockets as [Live, Live, Live];
    await createTask(alice, { title: "heard by alice" });
    // Within 1 s of the write's response, as API.md promises (next() fails past it).
    const heard = await Promise.all([a1.next("changed", 1_000), a2.next("changed", 1_000)]);
    expect(heard[0]).toEqual(heard[1]);
    await sleep(500);
    expect(b.messages.map((message) => message.type)).toEqual(["ready"]);
    await closeAll(sockets);
  });

  it("announces a batch, a delete and a complete; the cursor of changed is the newest, and /changes since ready shows them", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "t" });
    const live = await open(user);
    const ready = await live.next("ready");
    const token = await tokenFor(user);
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${workerUrl()}/api/${user}${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      });
    await api("/tasks/batch", { method: "POST", body: JSON.stringify({ operations: [{ op: "create", task: { title: "b" } }] }) });
    await live.next("changed");
    await api(`/tasks/${task.id}/complete`, { method: "PATCH" });
    await live.next("changed");
    await api(`/tasks/${task.id}`, { method: "DELETE" });
    const last = await live.next("changed");
    const since = (await (await api(`/changes?since=${ready.type === "ready" ? ready.cursor : ""}`)).json()) as {
      changes: Array<{ op: string; id?: number; task?: Task }>;
      cursor: string;
    };
    expect(since.changes.map((change) => change.op)).toEqual(["upsert", "delete"]);
    expect(last).toEqual({ type: "changed", cursor: since.cursor });
    await closeAll([live]);
  });

  it("announces list writes like task writes: a list created, renamed and deleted, each heard as changed", async () => {
    const user = newUser();
    await createTask(user, { title: "t" });
    const live = await open(user);
    const ready = await live.next("ready");
    const list = (await (await call(`/api/${user}/lists`, { method: "POST", body: { name: "heard" } })).json()) as { id: number };
    await live.next("changed");
    await call(`/api/${user}/lists/${list.id}`, { method: "PATCH", body: { name: "renamed" } });
    await live.next("changed");
    expect((await call(`/api/${user}/lists/${list.id}`, { method: "DELETE" })).status).toBe(204);
    const last = await live.next("changed");
    const since = (await (await call(`/api/${user}/changes?since=${ready.type === "ready" ? ready.cursor : ""}`)).json()) as {
      lists: Array<{ op: string; id?: number }>;
      cursor: string;
    };
    expect(since.lists).toEqual([{ op: "delete", id: list.id }]);
    expect(last).toEqual({ type: "changed", cursor: since.cursor });
    await closeAll([live]);
  });

  it("answers ping with pong", async () => {
    const live = await open(newUser());
    await live.next("ready");
    live.socket.send("ping");
    const deadline = Date.now() + 5_000;
    while (!live.raw.includes("pong") && Date.now() < deadline) await sleep(20);
    expect(live.raw).toContain("pong");
    await closeAll([live]);
  });

  it("ready's cursor plus /changes misses nothing when writes race the connection", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const sentAfterReady: number[] = [];
    let readyAt = Number.POSITIVE_INFINITY;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        const sent = Date.now();
        const task = await createTask(user, { title: `race ${i}` });
        if (sent > readyAt) sentAfterReady.push(task.id);
      }
      writing = false;
    })();
    await sleep(100);
    const live = await open(user, { token });
    const ready = await live.next("ready");
    readyAt = Date.now();
    // The client's loop: pull since ready's cursor, then again after each changed.
    const seen = new Set<number>();
    let cursor = ready.type === "ready" ? ready.cursor : "";
    const pull = async () => {
      const response = await fetch(`${workerUrl()}/api/${user}/changes?since=${cursor}`, { headers: { Authorization: `Bearer ${token}` } });
      const page = (await response.json()) as { changes: Array<{ task?: Task }>; cursor: string };
      for (const change of page.changes) if (change.task !== undefined) seen.add(change.task.id);
      cursor = page.cursor;
    };
    await pull();
    while (writing) {
      await live.next("changed", 10_000).catch(() => undefined);
      await pull();
    }
    await writer;
    await pull();
    expect(sentAfterReady.length).toBeGreaterThan(0);
    expect(sentAfterReady.filter((id) => !seen.has(id))).toEqual([]);
    await closeAll([live]);
  });
});

describe("refused before the upgrade, as plain HTTP problems", () => {
  const user = newUser();
  const path = `/api/${user}/live`;

  it("no token: 401 token_missing", async () => {
    await expectProblem(asResponse(await handshake(workerUrl(), path, {})), "token_missing");
  });

  it("a bad token, as a subprotocol or a header: 401 token_invalid", async () => {
    await expectProblem(
      asResponse(await handshake(workerUrl(), path, { "Sec-WebSocket-Protocol": "task-api.v1, bearer.not-a-jwt" })),
      "token_invalid",
    );
    await expectProblem(asResponse(await handshake(workerUrl(), path, { Authorization: "Bearer not-a-jwt" })), "token_invalid");
  });

  it("an expired token: 401 token_invalid", async () => {
    const expired = await tokenFor(user, { expiresIn: -3600 });
    await expectProblem(
      asResponse(await handshake(workerUrl(), path, { "Sec-WebSocket-Protocol": `task-api.v1, bearer.${expired}` })),
      "token_invalid",
    );
  });

  it("another user's path: 403 forbidden", async () => {
    const token = await tokenFor(newUser());
    await expectProblem(
      asResponse(await handshake(workerUrl(), path, { "Sec-WebSocket-Protocol": `task-api.v1, bearer.${token}` })),
      "forbidden",
    );
  });

  it("a token in the query string is ignored: 401 token_missing", async () => {
    const token = await tokenFor(user);
    for (const query of [`?token=${token}`, `?access_token=${token}`, `?bearer=${token}`]) {
      await expectProblem(asResponse(await handshake(workerUrl(), `${path}${query}`, {})), "token_missing");
    }
  });

  it("a valid token without an upgrade: 426 upgrade_required (after authentication)", async () => {
    const token = await tokenFor(user);
    const response = await fetch(`${workerUrl()}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    // The detail says what to send: workerd drops the hop-by-hop Upgrade header from any response but a 101.
    expect((await expectProblem(response, "upgrade_required")).detail).toContain("Upgrade: websocket");
    // Authentication comes first: without a token it is a 401, upgrade or not.
    await expectProblem(await fetch(`${workerUrl()}${path}`), "token_missing");
  });
});

describe("the handshake", () => {
  it("selects exactly task-api.v1 when offered with the token, and nothing with an Authorization header alone", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const offered = await handshake(workerUrl(), `/api/${user}/live`, { "Sec-WebSocket-Protocol": `task-api.v1, bearer.${token}` });
    expect(offered.status).toBe(101);
    expect(offered.headers["sec-websocket-protocol"]).toBe("task-api.v1");
    const plain = await handshake(workerUrl(), `/api/${user}/live`, { Authorization: `Bearer ${token}` });
    expect(plain.status).toBe(101);
    expect(plain.headers["sec-websocket-protocol"]).toBeUndefined();
    const live = await open(user, { token, protocols: [], authorization: true });
    expect((await live.next("ready")).type).toBe("ready");
    await closeAll([live]);
  });

  it("says expired and closes with 4401 when the token's exp passes", async () => {
    const user = newUser();
    const live = await open(user, { token: await tokenFor(user, { expiresIn: 3 }) });
    await live.next("ready");
    await live.next("expired", 15_000);
    expect((await live.closed).code).toBe(CLOSE_EXPIRED);
  });
});

/** How the server closed the socket; fails the test when it is still open after `ms`. */
async function closedWithin(live: Live, ms = 5_000): Promise<{ code: number; reason: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the socket was still open after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([live.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const DAY = 24 * 60 * 60;

describe("a token whose exp lies far ahead (longer than the 7-day maximum lifetime)", () => {
  it("is a 401 token_invalid before any upgrade, with or without iat: never a 500, never an accepted socket that breaks", async () => {
    const user = newUser();
    const now = Math.floor(Date.now() / 1000);
    // 10^12 s made to_timestamp fail (a 500); the year 2200 made setAlarm throw after the socket was accepted.
    for (const exp of [1e12, 7_258_118_400, now + 30 * DAY, now + 7 * DAY + 120]) {
      for (const issuedAt of [0, null]) {
        const token = await tokenFor(user, { issuedAt, expiresIn: null, claims: { exp } });
        const answer = await handshake(workerUrl(), `/api/${user}/live`, { "Sec-WebSocket-Protocol": `task-api.v1, bearer.${token}` });
        const body = await expectProblem(asResponse(answer), "token_invalid");
        expect(body.detail, `exp ${exp}, iat ${issuedAt}`).toBe("the token is invalid: its lifetime is longer than 7 days");
      }
    }
  });

  it("a 7-day token, as npm run token mints it, opens /live and gets ready", async () => {
    const user = newUser();
    const live = await open(user, { token: await tokenFor(user, { expiresIn: 7 * DAY }) });
    expect((await live.next("ready")).type).toBe("ready");
    await closeAll([live]);
  });
});

describe("what a client may send: ping, and nothing else", () => {
  it("closes the socket with 1008 on a binary frame", async () => {
    const live = await open(newUser());
    await live.next("ready");
    live.socket.send(new Uint8Array([112, 105, 110, 103])); // "ping", but binary
    expect((await closedWithin(live)).code).toBe(CLOSE_POLICY_VIOLATION);
  });

  it("closes the socket with 1008 on a text frame other than ping", async () => {
    for (const text of ["hello", "PING", "ping ", "pong", '{"type":"ping"}']) {
      const live = await open(newUser());
      await live.next("ready");
      live.socket.send(text);
      expect((await closedWithin(live)).code, JSON.stringify(text)).toBe(CLOSE_POLICY_VIOLATION);
    }
  });

  it("closes the socket with 1009 on a 1 MiB frame, text or binary, and on a frame one byte over the limit", async () => {
    for (const frame of ["x".repeat(1 << 20), new Uint8Array(1 << 20), "é".repeat(MAX_CLIENT_MESSAGE_BYTES / 2 + 1)]) {
      const live = await open(newUser());
      await live.next("ready");
      live.socket.send(frame);
      expect((await closedWithin(live)).code).toBe(CLOSE_MESSAGE_TOO_BIG);
    }
    // At the limit, it is only not ping: 1008.
    const live = await open(newUser());
    await live.next("ready");
    live.socket.send("x".repeat(MAX_CLIENT_MESSAGE_BYTES));
    expect((await closedWithin(live)).code).toBe(CLOSE_POLICY_VIOLATION);
  });

  it("keeps a socket that pings every few ms open: every ping answered pong, and changed still heard", async () => {
    const user = newUser();
    const live = await open(user);
    await live.next("ready");
    let sent = 0;
    const until = Date.now() + 2_000;
    while (Date.now() < until) {
      live.socket.send(PING);
      sent++;
      await sleep(5);
    }
    await createTask(user, { title: "heard after the pings" });
    await live.next("changed");
    const deadline = Date.now() + 5_000;
    const pongs = () => live.raw.filter((text) => text === PONG).length;
    while (pongs() < sent && Date.now() < deadline) await sleep(20);
    expect(pongs()).toBe(sent);
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
    await closeAll([live]);
  });
});

describe("floods, as the object sees them (a Worker of its own, whose log lines are counted)", () => {
  let worker: RunningWorker;
  const lines: string[] = [];
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET }, onLog: (line) => lines.push(line) });
  });
  afterAll(() => worker?.stop());

  const count = (message: string) => lines.filter((line) => line.includes(`"message":"${message}"`)).length;

  it("closes a flood of 20,000 frames with 1008 promptly, acting on the first frame only", async () => {
    const live = await open(newUser(), { base: worker.url });
    await live.next("ready");
    const refused = count("live message refused");
    const started = Date.now();
    for (let i = 0; i < 20_000; i++) live.socket.send(`frame ${i}`);
    expect((await closedWithin(live, 10_000)).code).toBe(CLOSE_POLICY_VIOLATION);
    expect(Date.now() - started).toBeLessThan(10_000);
    await sleep(1_000);
    // The frames sent before the client saw the close still arrive, and are dropped unread.
    expect(count("live message refused") - refused).toBe(1);
  });

  it("answers a flood of 20,000 pings in the runtime: none reaches the object, the socket stays open, both sockets still hear changed", async () => {
    const user = newUser();
    const flooder = await open(user, { base: worker.url });
    const other = await open(user, { base: worker.url });
    for (const live of [flooder, other]) await live.next("ready");
    for (let i = 0; i < 20_000; i++) flooder.socket.send(PING);
    const pongs = () => flooder.raw.filter((text) => text === PONG).length;
    const deadline = Date.now() + 30_000;
    while (pongs() < 20_000 && Date.now() < deadline) await sleep(50);
    expect(pongs()).toBe(20_000);
    // No rate of ours: the object never ran for them (it logs any ping that reaches it).
    expect(count("live ping reached the object")).toBe(0);
    const token = await tokenFor(user);
    const created = await fetch(`${worker.url}/api/${user}/tasks`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "after the flood" }),
    });
    expect(created.status).toBe(201);
    for (const live of [flooder, other]) await live.next("changed");
    expect(flooder.socket.readyState).toBe(WebSocket.OPEN);
    await closeAll([flooder, other]);
  });
});

describe("with a Worker of its own", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET } });
  });
  afterAll(() => worker?.stop());

  it("counts an upgrade against the user's rate limit: past it, a plain 429 rate_limited before any upgrade", async () => {
    const limited = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET }, rateLimit: { limit: 2, period: 60 } });
    try {
      // The limiter counts per fixed 60 s window; a run that straddles two windows is retried once.
      const window = () => Math.floor(Date.now() / 60_000);
      for (let attempt = 1; attempt <= 2; attempt++) {
        const user = newUser();
        const headers = { "Sec-WebSocket-Protocol": `task-api.v1, bearer.${await tokenFor(user)}` };
        const before = window();
        const answers = [];
        for (let i = 0; i < 3; i++) answers.push(await handshake(limited.url, `/api/${user}/live`, headers));
        if (window() !== before && attempt === 1) continue;
        expect(answers.map((answer) => answer.status)).toEqual([101, 101, 429]);
        await expectProblem(asResponse(answers[2] as Parameters<typeof asResponse>[0]), "rate_limited");
        return;
      }
    } finally {
      await limited.stop();
    }
  });

  it("sockets survive the object being evicted (hibernation) and still hear changed afterwards", async () => {
    const user = newUser();
    const sockets = [await open(user, { base: worker.url }), await open(user, { base: worker.url })];
    for (const live of sockets) await live.next("ready");
    await worker.evictLive(user);
    const token = await tokenFor(user);
    await fetch(`${worker.url}/api/${user}/tasks`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "after eviction" }),
    });
    for (const live of sockets) await live.next("changed");
    const socket = sockets[0] as Live;
    socket.socket.send("ping");
    const deadline = Date.now() + 5_000;
    while (!socket.raw.includes("pong") && Date.now() < deadline) await sleep(20);
    expect(socket.raw).toContain("pong");
    await closeAll(sockets);
  });

  it("refuses the 101st socket of a user with 429 too_many_connections, and a closed one frees its place", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const sockets = await inGroups(Array.from({ length: 100 }), 10, () => open(user, { base: worker.url, token }));
    const refused = await handshake(worker.url, `/api/${user}/live`, { "Sec-WebSocket-Protocol": `task-api.v1, bearer.${token}` });
    await expectProblem(asResponse(refused), "too_many_connections");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    (sockets[0] as Live).socket.close(1000);
    await (sockets[0] as Live).closed;
    let status = 0;
    const deadline = Date.now() + 10_000;
    while (status !== 101 && Date.now() < deadline) {
      status = (await handshake(worker.url, `/api/${user}/live`, { "Sec-WebSocket-Protocol": `task-api.v1, bearer.${token}` })).status;
      if (status !== 101) await sleep(200);
    }
    expect(status).toBe(101);
    await closeAll(sockets);
  });

  // 140 s in a clean-clone run on a busy 2-core machine (the sockets open a user at a time): the
  // limit leaves room for a CI machine slower than that.
  it("1,000 sockets across 100 users: each hears its own user's write, and only that", { timeout: 600_000 }, async () => {
    const users = Array.from({ length: 100 }, () => newUser());
    const tokens = await Promise.all(users.map((user) => tokenFor(user)));
    const sockets = await inGroups(users, 1, (user, index) =>
      Promise.all(Array.from({ length: 10 }, () => open(user, { base: worker.url, token: tokens[index] as string }))),
    );
    for (const group of sockets) for (const live of group) await live.next("ready", 30_000);
    const positions = await inGroups(users, 10, async (user, index) => {
      const response = await fetch(`${worker.url}/api/${user}/tasks`, {
        method: "POST",
        headers: { Authorization: `Bearer ${tokens[index]}`, "Content-Type": "application/json" },
        body: JSON.stringify({ title: `from ${index}` }),
      });
      expect(response.status).toBe(201);
      const page = await fetch(`${worker.url}/api/${user}/changes`, { headers: { Authorization: `Bearer ${tokens[index]}` } });
      return ((await page.json()) as { cursor: string }).cursor;
    });
    for (const [index, group] of sockets.entries()) {
      for (const live of group) expect(await live.next("changed", 30_000)).toEqual({ type: "changed", cursor: positions[index] });
    }
    await sleep(500);
    for (const group of sockets)
      for (const live of group) expect(live.messages.map((message) => message.type)).toEqual(["ready", "changed"]);
    await closeAll(sockets.flat());
  });
});

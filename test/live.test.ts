// GET /api/{user_id}/live (API.md "Live updates"): a hibernating WebSocket per client, held by the
// user's Durable Object, that says `ready`, then `changed` after each write of that user only,
// answers ping (and closes with 1008, or 1009 when too big, on anything else the client sends),
// and closes with 4401 when the token expires; every refusal is a plain HTTP problem before any
// upgrade. Run in Miniflare, with Node's own WebSocket client, on both transports; the Durable
// Object's own behaviour (floods, the socket cap, hibernation, 1,000 sockets) is live-object.test.ts.
import { describe, expect, it } from "vitest";
import {
  CLOSE_EXPIRED,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_POLICY_VIOLATION,
  MAX_CLIENT_MESSAGE_BYTES,
  PING,
  PONG,
} from "../src/live/protocol.ts";
import { call, createTask, expectProblem, newUser, sleep, type Task, tokenFor, workerUrl } from "./support/api.ts";
import { type HttpInit, httpFetch } from "./support/http.ts";
import { asResponse, closeAll, closedWithin, handshake, type Live, open } from "./support/live.ts";

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
    const api = (path: string, init: HttpInit = {}) =>
      httpFetch(`${workerUrl()}/api/${user}${path}`, {
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
    const deadline = Date.now() + 30_000;
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
      const response = await httpFetch(`${workerUrl()}/api/${user}/changes?since=${cursor}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
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
    const response = await httpFetch(`${workerUrl()}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    // The detail says what to send: workerd drops the hop-by-hop Upgrade header from any response but a 101.
    expect((await expectProblem(response, "upgrade_required")).detail).toContain("Upgrade: websocket");
    // Authentication comes first: without a token it is a 401, upgrade or not.
    await expectProblem(await httpFetch(`${workerUrl()}${path}`), "token_missing");
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
    const deadline = Date.now() + 30_000;
    const pongs = () => live.raw.filter((text) => text === PONG).length;
    while (pongs() < sent && Date.now() < deadline) await sleep(20);
    expect(pongs()).toBe(sent);
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
    await closeAll([live]);
  });
});

// A close the server starts on /live (the token's expiry: `expired`, then 4401), timed from the
// client's side (docs/sync.md "When the server closes a socket"). The close frame follows
// `expired` at once; what a client's close event then waits for is the TCP connection's end. A
// client that has sent any frame (a ping) sees it within milliseconds. A client whose first frame
// is its reply to our close waits until workerd evicts the Durable Object (10 s without an event),
// whatever the object does: the runtime's hibernatable-WebSocket path, pinned by the last test
// so that a workerd that fixes it is noticed (then update docs/sync.md and drop that test).
import crypto from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { CLOSE_EXPIRED, PING, PONG } from "../src/live/protocol.ts";
import { newUser, sleep, tokenFor, workerUrl } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { open } from "./support/live.ts";
import { startTestWorker } from "./support/transport.ts";

/** Well under the 10 s of the eviction, and generous for a busy machine (measured: 10–40 ms). */
const PROMPTLY = 5_000;

/** `promise`, or a failure naming `what` once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /live over a bare TCP connection, frame by frame: what the server sends and when (the close
 * frame, the end of the connection), which no WebSocket client exposes. It answers the server's
 * close frame at once, as every client does (RFC 6455 5.5.1), and sends only what it is told to.
 */
interface RawLive {
  /** The text frames received, in order. */
  texts: string[];
  /** performance.now() when the server's close frame arrived, and its code. */
  closeFrame: Promise<{ at: number; code: number }>;
  /** performance.now() when the server ended the TCP connection (its FIN). */
  ended: Promise<number>;
  sendText(text: string): void;
  sendClose(code: number): void;
  destroy(): void;
}

async function rawLive(base: string, user: string, token: string): Promise<RawLive> {
  const url = new URL(base);
  const socket = net.connect(Number(url.port), url.hostname);
  socket.on("error", () => {});
  socket.write(
    [
      `GET /api/${user}/live HTTP/1.1`,
      `Host: ${url.host}`,
      "Connection: Upgrade",
      "Upgrade: websocket",
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}`,
      `Sec-WebSocket-Protocol: task-api.v1, bearer.${token}`,
      "",
      "",
    ].join("\r\n"),
  );
  // A client's frames are masked (RFC 6455 5.3); ours are all under 126 bytes.
  const frame = (opcode: number, payload: Buffer) => {
    const mask = crypto.randomBytes(4);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
    return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
  };
  const texts: string[] = [];
  let onCloseFrame: (value: { at: number; code: number }) => void = () => {};
  let onEnded: (at: number) => void = () => {};
  let onUpgrade: (status: string) => void = () => {};
  const closeFrame = new Promise<{ at: number; code: number }>((resolve) => {
    onCloseFrame = resolve;
  });
  const ended = new Promise<number>((resolve) => {
    onEnded = resolve;
  });
  const upgraded = new Promise<string>((resolve) => {
    onUpgrade = resolve;
  });
  let buffer = Buffer.alloc(0);
  let head = true;
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (head) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      head = false;
      onUpgrade(buffer.subarray(0, buffer.indexOf("\r\n")).toString());
      buffer = buffer.subarray(end + 4);
    }
    while (buffer.length >= 2) {
      const opcode = (buffer[0] as number) & 0x0f;
      let length = (buffer[1] as number) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      }
      if (buffer.length < offset + length) return;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      buffer = buffer.subarray(offset + length);
      if (opcode === 0x1) texts.push(payload.toString());
      if (opcode === 0x8) {
        onCloseFrame({ at: performance.now(), code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005 });
        socket.write(frame(0x8, payload.subarray(0, 2)));
      }
    }
  });
  socket.on("end", () => onEnded(performance.now()));
  socket.on("close", () => onEnded(performance.now()));
  expect(await within(upgraded, 10_000, "the upgrade")).toBe("HTTP/1.1 101 Switching Protocols");
  return {
    texts,
    closeFrame,
    ended,
    sendText: (text) => socket.write(frame(0x1, Buffer.from(text))),
    sendClose: (code) => socket.write(frame(0x8, Buffer.from([code >> 8, code & 0xff]))),
    destroy: () => socket.destroy(),
  };
}

/** Waits until `live` has received the text frame `text`. */
async function heard(live: RawLive, text: (received: string) => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!live.texts.some(text)) await sleep(10);
    })(),
    15_000,
    what,
  );
}

const isType = (type: string) => (text: string) => text.startsWith(`{"type":"${type}"`);

describe("a close the server starts: the token's expiry", () => {
  it("Node's WebSocket, having sent a ping: the close event (4401) within 5 s of expired", async () => {
    const user = newUser();
    const live = await open(user, { token: await tokenFor(user, { expiresIn: 2 }) });
    const times: { expired?: number; closed?: number } = {};
    live.socket.addEventListener("message", (event) => {
      if (String(event.data).includes('"expired"')) times.expired = performance.now();
    });
    live.socket.addEventListener("close", () => {
      times.closed = performance.now();
    });
    await live.next("ready");
    live.socket.send(PING);
    await within(
      (async () => {
        while (!live.raw.includes(PONG)) await sleep(10);
      })(),
      10_000,
      "pong",
    );
    await live.next("expired", 15_000);
    expect((await within(live.closed, 15_000, "the close event")).code).toBe(CLOSE_EXPIRED);
    const late = (times.closed ?? Number.NaN) - (times.expired ?? Number.NaN);
    expect(late, `the close event came ${Math.round(late)} ms after expired`).toBeLessThan(PROMPTLY);
  });

  it("over TCP: the close frame right after expired; with a ping sent first, the server ends the connection within 5 s of it", async () => {
    const user = newUser();
    const live = await rawLive(workerUrl(), user, await tokenFor(user, { expiresIn: 2 }));
    await heard(live, isType("ready"), "ready");
    live.sendText(PING);
    await heard(live, (text) => text === PONG, "pong");
    const frame = await within(live.closeFrame, 15_000, "the close frame");
    expect(frame.code).toBe(CLOSE_EXPIRED);
    expect(live.texts.at(-1)).toBe('{"type":"expired"}');
    const ended = await within(live.ended, PROMPTLY, "the end of the connection after the closing handshake");
    expect(ended - frame.at).toBeLessThan(PROMPTLY);
    live.destroy();
  });
});

describe("a close the client starts", () => {
  it("is answered with the client's code, and the server ends the connection within 5 s (no frame sent before)", async () => {
    const user = newUser();
    const live = await rawLive(workerUrl(), user, await tokenFor(user));
    await heard(live, isType("ready"), "ready");
    const sent = performance.now();
    live.sendClose(1000);
    expect((await within(live.closeFrame, PROMPTLY, "the answering close frame")).code).toBe(1000);
    expect((await within(live.ended, PROMPTLY, "the end of the connection")) - sent).toBeLessThan(PROMPTLY);
    live.destroy();
  });
});

describe("the platform's part: a socket whose first frame is the reply to our close (workerd, hibernation API)", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET } });
  });
  afterAll(() => worker?.stop());

  it("the handshake completes at once, but the connection ends only when the object is evicted", async () => {
    const user = newUser();
    const live = await rawLive(worker.url, user, await tokenFor(user, { expiresIn: 2 }));
    await heard(live, isType("ready"), "ready");
    const frame = await within(live.closeFrame, 15_000, "the close frame");
    expect(frame.code).toBe(CLOSE_EXPIRED);
    // Answered (rawLive replies at once), and still connected 2 s later: workerd evicts an object
    // after 10 s without an event (node_modules/workerd/workerd.capnp, preventEviction), and only
    // then drops the connection. If this fails because the connection ended, workerd no longer
    // holds it: docs/sync.md "When the server closes a socket" is out of date, and so is this test.
    const early = await Promise.race([live.ended, sleep(2_000).then(() => undefined)]);
    expect(early, "the connection ended before the object was evicted: see the comment above").toBeUndefined();
    const evicted = performance.now();
    await worker.evictLive(user);
    const ended = await within(live.ended, PROMPTLY, "the end of the connection after the eviction");
    expect(ended - evicted).toBeLessThan(PROMPTLY);
    live.destroy();
  });
});

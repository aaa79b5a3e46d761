// Opening /live from a test as a client would (Node's own WebSocket, the token as a subprotocol),
// and a handshake by hand for the refusals: shared by test/live.test.ts and test/live-object.test.ts.
import http from "node:http";
import { parseServerMessage, type ServerMessage } from "../../src/live/protocol.ts";
import { tokenFor, workerUrl } from "./api.ts";

export interface Live {
  socket: WebSocket;
  messages: ServerMessage[];
  /** The next message of this type (waiting up to `ms`); fails the test when none comes. */
  next(type: ServerMessage["type"], ms?: number): Promise<ServerMessage>;
  closed: Promise<{ code: number; reason: string }>;
  raw: string[];
}

/** Opens /live for `user` and waits for the socket to open (the handshake succeeded). */
export async function open(
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
  const next = async (type: ServerMessage["type"], ms = 20_000): Promise<ServerMessage> => {
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

export const closeAll = (sockets: Live[]) => Promise.all(sockets.map(async (live) => live.socket.close(1000)));

/** Runs `task` for each item, `width` at a time: many sockets or writes at once, without a stampede of connections. */
export async function inGroups<T, R>(items: T[], width: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += width) {
    results.push(...(await Promise.all(items.slice(start, start + width).map((item, offset) => task(item, start + offset)))));
  }
  return results;
}

/** A WebSocket handshake by hand: the status, headers and body of a refused upgrade. */
export function handshake(
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
export const asResponse = (refused: { status: number; headers: http.IncomingHttpHeaders; body: string }) =>
  new Response(refused.body, {
    status: refused.status,
    headers: Object.entries(refused.headers).flatMap(([name, value]) =>
      typeof value === "string" ? [[name, value] as [string, string]] : [],
    ),
  });

export async function closedWithin(live: Live, ms = 15_000): Promise<{ code: number; reason: string }> {
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

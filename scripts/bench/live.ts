// Live updates under load (npm run bench): how long a write's `changed` takes to reach 1,000
// sockets, and what the notify step adds to a write when nobody listens, when the user is marked
// as listening but has no socket left, and when ten sockets listen.
import type pg from "pg";
import { parseServerMessage } from "../../src/live/protocol.ts";
import { hs256Token } from "../lib/token.ts";
import { profileWhile } from "./profile.ts";
import { drive, latencySummary, type Scenario } from "./scenarios.ts";

export interface Listener {
  socket: WebSocket;
  /** When each `changed` arrived (performance.now()). */
  arrivals: number[];
}

/** Opens `count` sockets for `user`, `width` at a time, each ready (its `ready` received). */
export async function listen(url: string, user: string, token: string, count: number, width = 20): Promise<Listener[]> {
  const listeners: Listener[] = [];
  for (let start = 0; start < count; start += width) {
    const group = await Promise.all(
      Array.from({ length: Math.min(width, count - start) }, async () => {
        const socket = new WebSocket(`${url.replace(/^http/, "ws")}/api/${user}/live`, ["task-api.v1", `bearer.${token}`]);
        const listener: Listener = { socket, arrivals: [] };
        await new Promise<void>((resolve, reject) => {
          socket.addEventListener("message", (event) => {
            const message = parseServerMessage(event.data);
            if (message?.type === "ready") resolve();
            if (message?.type === "changed") listener.arrivals.push(performance.now());
          });
          socket.addEventListener("error", () => reject(new Error("a /live socket failed to open")), { once: true });
        });
        return listener;
      }),
    );
    listeners.push(...group);
  }
  return listeners;
}

export interface WriteTiming {
  /** The response's status. */
  status: number;
  /** The write's own latency (sent to response read), ms. */
  writeMs: number;
  /** From the write being sent to each listener's first `changed` after it, ms (the listeners that heard it). */
  latencies: number[];
  /** Whether every listener heard it within the wait. */
  heard: boolean;
}

/**
 * Sends one write and waits (up to `waitMs` after its response) until each of `listeners` has
 * received a `changed` after it was sent: the latency of each is from the write being sent (the
 * notification leaves in waitUntil, so it can beat the write's own response).
 */
export async function timeWrite(listeners: Listener[], write: () => Promise<Response>, waitMs = 5_000): Promise<WriteTiming> {
  const before = listeners.map((listener) => listener.arrivals.length);
  const sent = performance.now();
  const response = await write();
  await response.arrayBuffer();
  const answered = performance.now();
  const deadline = answered + waitMs;
  while (listeners.some((listener, i) => listener.arrivals.length <= (before[i] as number)) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const latencies: number[] = [];
  let heard = true;
  for (const [i, listener] of listeners.entries()) {
    const arrival = listener.arrivals[before[i] as number];
    if (arrival === undefined) heard = false;
    else latencies.push(arrival - sent);
  }
  return { status: response.status, writeMs: answered - sent, latencies, heard };
}

export interface FanOut {
  sockets: number;
  writes: number;
  /** The writes' own latency (sent to response read), ms. */
  write: { p50: number; p95: number };
  /** From a write being sent to a socket receiving its `changed`, ms. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Writes some socket never heard of within 5 s. */
  missed: number;
}

/**
 * 1,000 sockets (`users` × `perUser`); `rounds` times, each user writes once, one write at a time;
 * the latency is from the write being sent to each of that user's sockets receiving `changed`
 * (the notification leaves in waitUntil, so it can beat the write's own response).
 */
export async function fanOut(url: string, secret: string, users: string[], perUser: number, rounds: number): Promise<FanOut> {
  const tokens = await Promise.all(users.map((user) => hs256Token(secret, user)));
  const listeners: Listener[][] = [];
  for (const [index, user] of users.entries()) listeners.push(await listen(url, user, tokens[index] as string, perUser));
  const latencies: number[] = [];
  const writeLatencies: number[] = [];
  let missed = 0;
  let writes = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [index, user] of users.entries()) {
        const timing = await timeWrite(listeners[index] as Listener[], () =>
          fetch(`${url}/api/${user}/tasks`, {
            method: "POST",
            headers: { Authorization: `Bearer ${tokens[index]}`, "Content-Type": "application/json" },
            body: JSON.stringify({ title: `live ${round}` }),
          }),
        );
        writeLatencies.push(timing.writeMs);
        writes++;
        latencies.push(...timing.latencies);
        if (!timing.heard) missed++;
      }
    }
  } finally {
    for (const listener of listeners.flat()) listener.socket.close(1000);
  }
  const summary = latencySummary(latencies);
  const write = latencySummary(writeLatencies);
  return {
    sockets: users.length * perUser,
    writes,
    write: { p50: write.p50, p95: write.p95 },
    p50: summary.p50,
    p95: summary.p95,
    p99: summary.p99,
    max: summary.max,
    missed,
  };
}

export interface NotifyCost {
  state: string;
  rps: number;
  p50: number;
  /** Isolate CPU per request (Worker and Durable Object share the isolate locally), µs. */
  cpuMicros: number;
}

/**
 * The create scenario for one user in three states: nobody has listened (no mark, the write reads
 * one flag), marked as listening with no socket left (every write calls the Durable Object, which
 * finds no one), and ten sockets listening (every write reaches ten sockets).
 */
export async function notifyCost(options: {
  url: string;
  inspectorPort: number;
  bundlePath: string;
  secret: string;
  user: string;
  scenario: Scenario;
  tokens: Record<string, string>;
  connections: number;
  seconds: number;
  db: pg.Client;
}): Promise<NotifyCost[]> {
  const { url, user, secret, db } = options;
  const token = await hs256Token(secret, user);
  const measure = async (state: string): Promise<NotifyCost> => {
    let latencies: number[] = [];
    const profile = await profileWhile(options.inspectorPort, options.bundlePath, async () => {
      ({ latencies } = await drive(
        options.scenario,
        { url, connections: options.connections, tokens: options.tokens },
        { seconds: options.seconds },
      ));
    });
    return {
      state,
      rps: latencies.length / options.seconds,
      p50: latencySummary(latencies).p50,
      cpuMicros: (profile.busy * profile.seconds * 1e6) / Math.max(latencies.length, 1),
    };
  };
  await db.query("UPDATE sync_state SET live_until = NULL WHERE user_id = $1", [user]);
  const results = [await measure("nobody listening")];
  for (const listener of await listen(url, user, token, 1)) listener.socket.close(1000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  results.push(await measure("marked, no socket left"));
  const listeners = await listen(url, user, token, 10);
  try {
    results.push(await measure("10 sockets listening"));
  } finally {
    for (const listener of listeners) listener.socket.close(1000);
  }
  return results;
}

/** Pulls the user's whole state (tasks and lists) from GET /changes, pages of `limit`, one after another; ms per pull. */
export async function fullSync(
  url: string,
  user: string,
  token: string,
  limit: number,
  times: number,
): Promise<{ tasks: number; lists: number; pages: number; ms: number[] }> {
  const ms: number[] = [];
  let tasks = 0;
  let lists = 0;
  let pages = 0;
  for (let run = 0; run < times; run++) {
    const started = performance.now();
    let cursor: string | undefined;
    tasks = 0;
    lists = 0;
    pages = 0;
    for (;;) {
      const query = new URLSearchParams({ limit: String(limit), ...(cursor === undefined ? {} : { since: cursor }) });
      const response = await fetch(`${url}/api/${user}/changes?${query}`, { headers: { Authorization: `Bearer ${token}` } });
      if (!response.ok) throw new Error(`GET /changes answered ${response.status}`);
      const page = (await response.json()) as { changes: unknown[]; lists: unknown[]; cursor: string; has_more: boolean };
      tasks += page.changes.length;
      lists += page.lists.length;
      pages++;
      cursor = page.cursor;
      if (!page.has_more) break;
    }
    ms.push(performance.now() - started);
  }
  return { tasks, lists, pages, ms };
}

// Shared lists under /live (npm run bench:fanout): users and a list shared through invitations,
// writes one at a time with the time from each write being sent to each socket's `changed`, the
// CPU the Worker's process spends per write, and the notify fan-out timed inside the Worker by
// scripts/bench/floor/timed-notify.ts (this project's Worker with its LIVE binding wrapped).
import path from "node:path";
import { hs256Token } from "../lib/token.ts";
import { type RunningWorker, startWorker } from "../lib/worker.ts";
import { buildBenchWorker, cpuSeconds, workerdPid } from "./floor.ts";
import { type Listener, timeWrite } from "./live.ts";

export interface User {
  id: string;
  token: string;
}

export async function users(secret: string, ids: string[]): Promise<User[]> {
  return Promise.all(ids.map(async (id) => ({ id, token: await hs256Token(secret, id) })));
}

/** An API call as `user`: the JSON answer, after checking its status (the body is in the error). */
export async function call<T>(url: string, user: User, method: string, route: string, body: unknown, status: number): Promise<T> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== status) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** A new list of `owner`'s, shared with each of `members` as an editor (an invitation each, accepted); its id. */
export async function sharedList(url: string, owner: User, members: User[], name: string): Promise<number> {
  const list = await call<{ id: number }>(url, owner, "POST", `/api/${owner.id}/lists`, { name }, 201);
  for (const member of members) {
    const invitation = await call<{ token: string }>(
      url,
      owner,
      "POST",
      `/api/${owner.id}/lists/${list.id}/invitations`,
      { role: "editor" },
      201,
    );
    await call(url, member, "POST", `/api/${member.id}/invitations/accept`, { token: invitation.token }, 200);
  }
  return list.id;
}

/** The notify RPCs of one write, timed inside the Worker (scripts/bench/floor/timed-notify.ts). */
export interface NotifyTiming {
  calls: number;
  failed: number;
  /** From the first RPC to the last answer, ms, on the runtime's clock. */
  ms: number;
}

/** What GET …/notify-timings of the timed Worker answers. */
const TIMINGS_PATH = "/__bench/notify-timings";

export interface TimedWorker extends RunningWorker {
  /** The notify timings of the writes since the last call. */
  timings(): Promise<NotifyTiming[]>;
}

/** Bundles scripts/bench/floor/timed-notify.ts into `outdir` and serves it as the real Worker is served. */
export async function startTimedWorker(outdir: string, hyperdrive: string, secret: string): Promise<TimedWorker> {
  const bundle = buildBenchWorker(path.join(outdir, "timed-notify"), "scripts/bench/floor/timed-notify.ts", "task-api");
  const worker = await startWorker(bundle, { hyperdrive, bindings: { BETTER_AUTH_SECRET: secret } });
  return {
    ...worker,
    timings: async () => {
      const response = await fetch(`${worker.url}${TIMINGS_PATH}`);
      if (!response.ok) throw new Error(`${TIMINGS_PATH}: ${response.status}`);
      return (await response.json()) as NotifyTiming[];
    },
  };
}

/** A task written again and again, and the sockets that should hear of each write. */
export interface Target {
  name: string;
  /** Who writes, in turn (the owner and an editor of a shared list, say). */
  writers: User[];
  taskId: number;
  listeners: Listener[];
}

export interface Samples {
  writes: number;
  /** Each write's own latency (sent to response read), ms. */
  writeMs: number[];
  /** From a write being sent to each socket's `changed`, ms. */
  perSocket: number[];
  /** From a write being sent to the first and to the last of its sockets hearing it, ms (the writes every socket heard). */
  firstSocket: number[];
  lastSocket: number[];
  /** Writes some socket did not hear within 5 s of the response. */
  missed: number;
  /** The writes' notify fan-outs, timed inside the Worker (with the timed Worker only). */
  notify: NotifyTiming[];
}

export const emptySamples = (): Samples => ({
  writes: 0,
  writeMs: [],
  perSocket: [],
  firstSocket: [],
  lastSocket: [],
  missed: 0,
  notify: [],
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `rounds` times, each target's task is PATCHed once (by its writers in turn), one write at a
 * time: each waits until every socket of its target heard it, then `gapMs`, so no two writes'
 * notes can meet in a Durable Object. With `timings` (the timed Worker), each write's notify
 * fan-out is read back too (a target without listeners should have none). Samples per target,
 * in the targets' order.
 */
export async function patchRounds(
  url: string,
  targets: Target[],
  rounds: number,
  gapMs: number,
  timings?: () => Promise<NotifyTiming[]>,
): Promise<Samples[]> {
  const samples = targets.map(emptySamples);
  for (let round = 0; round < rounds; round++) {
    for (const [index, target] of targets.entries()) {
      const into = samples[index] as Samples;
      const writer = target.writers[round % target.writers.length] as User;
      const timing = await timeWrite(target.listeners, () =>
        fetch(`${url}/api/${writer.id}/tasks/${target.taskId}`, {
          method: "PATCH",
          headers: { Authorization: `Bearer ${writer.token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ title: `${target.name} ${round}` }),
        }),
      );
      if (timing.status !== 200) throw new Error(`PATCH of ${target.name}'s task by ${writer.id}: ${timing.status}`);
      into.writes++;
      into.writeMs.push(timing.writeMs);
      into.perSocket.push(...timing.latencies);
      if (!timing.heard) into.missed++;
      else if (timing.latencies.length > 0) {
        into.firstSocket.push(Math.min(...timing.latencies));
        into.lastSocket.push(Math.max(...timing.latencies));
      }
      await sleep(gapMs);
      if (timings !== undefined) {
        // The last RPC's answer reaches the Worker just after the sockets heard: wait for it (with
        // nobody listening, there is none to wait for).
        let found = await timings();
        for (let tries = 0; found.length === 0 && target.listeners.length > 0 && tries < 100; tries++) {
          await sleep(10);
          found = await timings();
        }
        if (found.length > 1 || (found.length === 0 && target.listeners.length > 0)) {
          throw new Error(`expected one notify fan-out for a write of ${target.name}, found ${found.length}`);
        }
        into.notify.push(...found);
      }
    }
  }
  return samples;
}

/**
 * The CPU time (µs) the Worker's workerd process used per write, over `rounds` writes of `target`
 * alone: user and system, every thread, from /proc (the Worker and its Durable Objects share the
 * process locally). `inspectorPort` finds the process.
 */
export async function cpuPerWrite(url: string, inspectorPort: number, target: Target, rounds: number, gapMs: number): Promise<number> {
  const pid = workerdPid(inspectorPort);
  const before = cpuSeconds(pid);
  await patchRounds(url, [target], rounds, gapMs);
  return ((cpuSeconds(pid) - before) * 1e6) / rounds;
}

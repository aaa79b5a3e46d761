// npm run bench:fanout: what one write to a shared list costs /live. A list shared by its owner
// with 49 editors (50 members), each member with 2 sockets on /live (100 sockets); beside it a
// private list of one user with 2 sockets, and a second list of 50 members of whom nobody listens
// (the same write, no notify RPC). Rounds of one PATCH to each, one write at a time, with the time
// from the write being sent to each socket's `changed`; then the CPU the Worker's process spends
// per write of each, and the notify fan-out (one RPC per member's Durable Object, in
// ctx.waitUntil) timed from inside the Worker. On the stack of `npm run bench` (Postgres,
// PgBouncer, the deployable bundle in workerd), with a token load of data: a write's fan-out does
// not depend on it.
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import {
  call,
  cpuPerWrite,
  type NotifyTiming,
  patchRounds,
  type Samples,
  sharedList,
  startTimedWorker,
  type Target,
  type User,
  users,
} from "./bench/fanout.ts";
import { type Listener, listen } from "./bench/live.ts";
import { latencySummary } from "./bench/scenarios.ts";
import { SECRET, startStack } from "./bench/stack.ts";
import { freePort } from "./lib/postgres.ts";

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
/** Members of the shared list, its owner included. */
const MEMBERS = env("FANOUT_MEMBERS", 50);
const SOCKETS = env("FANOUT_SOCKETS", 2);
const WRITES = env("FANOUT_WRITES", 50);
const GAP_MS = env("FANOUT_GAP_MS", 50);
const WARMUP_ROUNDS = 3;
/** Writes of each target whose CPU is counted (the process's CPU is counted in 10 ms ticks). */
const CPU_WRITES = 2 * WRITES;
/** The bench's stack with little data: the fan-out of a write does not depend on it. */
const STACK = { heavyTasks: 100, otherUsers: 1, tasksPerOtherUser: 2, deletePool: 0, poolSize: 20 };
const log = (line: string) => console.log(line);

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse()) await step().catch(() => {});
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

interface Setup {
  solo: User;
  privateTask: number;
  members: User[];
  sharedTask: number;
  quietMembers: User[];
  quietTask: number;
}

/** The three targets, the sockets of the first two open on `url` (each ready). */
async function openTargets(url: string, setup: Setup) {
  const { solo, members, quietMembers } = setup;
  const privateListeners = await listen(url, solo.id, solo.token, SOCKETS);
  const sharedListeners: Listener[] = [];
  for (const member of members) sharedListeners.push(...(await listen(url, member.id, member.token, SOCKETS)));
  // The shared lists are written alternately by their owner and an editor.
  const targets = [
    { name: "private", writers: [solo], taskId: setup.privateTask, listeners: privateListeners },
    { name: "shared", writers: [members[0] as User, members[1] as User], taskId: setup.sharedTask, listeners: sharedListeners },
    { name: "quiet", writers: [quietMembers[0] as User, quietMembers[1] as User], taskId: setup.quietTask, listeners: [] },
  ] as [Target, Target, Target];
  return {
    targets,
    close: async () => {
      for (const listener of [...privateListeners, ...sharedListeners]) listener.socket.close(1000);
      await new Promise((resolve) => setTimeout(resolve, 500));
    },
  };
}

const ms = (value: number) => (Number.isNaN(value) ? "–" : value.toFixed(1));
const three = (values: number[]) => {
  if (values.length === 0) return "–";
  const { p50, p95, max } = latencySummary(values);
  return `${ms(p50)} / ${ms(p95)} / ${ms(max)}`;
};

function row(label: string, sockets: number, rpcs: string, s: Samples): string {
  const write = latencySummary(s.writeMs);
  const spread = latencySummary(s.lastSocket.map((last, i) => last - (s.firstSocket[i] as number)));
  return [
    label.padEnd(40),
    String(sockets).padStart(7),
    rpcs.padStart(5),
    `${ms(write.p50)} / ${ms(write.p95)}`.padStart(13),
    three(s.perSocket).padStart(25),
    three(s.lastSocket).padStart(25),
    ms(spread.p50).padStart(10),
    String(s.missed).padStart(7),
  ].join("  ");
}

async function main(): Promise<void> {
  const inspectorPort = await freePort();
  const stack = await startStack(STACK, log, { inspectorPort });
  cleanups.push(() => stack.stop());
  const scratch = await mkdtemp(path.join(tmpdir(), "task-api-fanout-"));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  const { url } = stack.worker;

  const names = (prefix: string) => Array.from({ length: MEMBERS }, (_, i) => (i === 0 ? `${prefix}-owner` : `${prefix}-member-${i}`));
  const members = await users(SECRET, names("fanout"));
  const quietMembers = await users(SECRET, names("quiet"));
  const [solo] = (await users(SECRET, ["fanout-solo"])) as [User];
  const task = async (user: User, listId: number) =>
    (await call<{ id: number }>(url, user, "POST", `/api/${user.id}/tasks`, { title: "written", list_id: listId }, 201)).id;
  log(`Sharing two lists with ${MEMBERS - 1} editors each (an invitation each, accepted), and a private list of ${solo.id}…`);
  const [owner, ...editors] = members as [User, ...User[]];
  const [quietOwner, ...quietEditors] = quietMembers as [User, ...User[]];
  const privateList = await call<{ id: number }>(url, solo, "POST", `/api/${solo.id}/lists`, { name: "private" }, 201);
  const setup: Setup = {
    solo,
    privateTask: await task(solo, privateList.id),
    members,
    sharedTask: await task(owner, await sharedList(url, owner, editors, "shared")),
    quietMembers,
    quietTask: await task(quietOwner, await sharedList(url, quietOwner, quietEditors, "shared, nobody listening")),
  };
  const loadBefore = loadavg()[0] as number;

  log(`Opening ${SOCKETS} sockets for each of the ${MEMBERS} members of the first list and for ${solo.id}; ${WRITES} rounds of writes…`);
  let opened = await openTargets(url, setup);
  await patchRounds(url, opened.targets, WARMUP_ROUNDS, GAP_MS);
  const [privateLive, sharedLive, quietLive] = (await patchRounds(url, opened.targets, WRITES, GAP_MS)) as [Samples, Samples, Samples];
  log(`The CPU of the Worker's process per write, ${CPU_WRITES} writes of each list in turn…`);
  const cpu: number[] = [];
  for (const target of opened.targets) cpu.push(await cpuPerWrite(url, inspectorPort, target, CPU_WRITES, GAP_MS));
  const [cpuPrivate, cpuShared, cpuQuiet] = cpu as [number, number, number];
  await opened.close();

  log("The notify fan-out timed inside the Worker (scripts/bench/floor/timed-notify.ts: the same Worker, LIVE wrapped)…");
  const timed = await startTimedWorker(scratch, stack.pooler.url, SECRET);
  cleanups.push(() => timed.stop());
  opened = await openTargets(timed.url, setup);
  await patchRounds(timed.url, opened.targets, WARMUP_ROUNDS, GAP_MS, timed.timings);
  const [privateTimed, sharedTimed, quietTimed] = (await patchRounds(timed.url, opened.targets, WRITES, GAP_MS, timed.timings)) as [
    Samples,
    Samples,
    Samples,
  ];
  await opened.close();
  await timed.stop();
  const loadAfter = loadavg()[0] as number;

  const rpcs = (notify: NotifyTiming[]) => (notify.length === 0 ? "0" : [...new Set(notify.map((n) => n.calls))].join("/"));
  const all = [privateLive, sharedLive, quietLive, privateTimed, sharedTimed, quietTimed];
  const failed = all.reduce((sum, samples) => sum + samples.notify.reduce((count, n) => count + n.failed, 0), 0);
  const missed = all.reduce((sum, samples) => sum + samples.missed, 0);
  const notifyPrivate = latencySummary(privateTimed.notify.map((n) => n.ms));
  const notifyShared = latencySummary(sharedTimed.notify.map((n) => n.ms));

  log("");
  log(
    `Fan-out of one write (PATCH of a task): ${WRITES} rounds of one write to each list in turn (a shared list's by its owner and an editor alternately), one at a time, each waiting until all its sockets heard it, then ${GAP_MS} ms; the deployable bundle in workerd (Miniflare), Postgres behind PgBouncer. ms:`,
  );
  log("");
  log(
    [
      "".padEnd(40),
      "sockets".padStart(7),
      "RPCs".padStart(5),
      "write p50/p95".padStart(13),
      "→ each socket p50/p95/max".padStart(25),
      "→ last socket p50/p95/max".padStart(25),
      "spread p50".padStart(10),
      "missed".padStart(7),
    ].join("  "),
  );
  log(row(`private list (1 user × ${SOCKETS} sockets)`, SOCKETS, rpcs(privateTimed.notify), privateLive));
  log(row(`shared list (${MEMBERS} members × ${SOCKETS} sockets)`, MEMBERS * SOCKETS, rpcs(sharedTimed.notify), sharedLive));
  log(row(`shared list, ${MEMBERS} members, none listening`, 0, rpcs(quietTimed.notify), quietLive));
  log(
    `  "→ each socket": from a write being sent to each socket's "changed" (${privateLive.perSocket.length} and ${sharedLive.perSocket.length} latencies); "→ last socket": to the last of the write's sockets hearing it; spread: last − first socket of a write; RPCs: notify calls per write (counted by the timed Worker).`,
  );
  log("");
  log(
    `Notify fan-out inside the Worker, from announce()'s first notify RPC to the last one answered (every Durable Object has sent "changed"), ${WRITES} writes each, on the runtime's clock (whole ms):`,
  );
  log(
    `  private list, ${rpcs(privateTimed.notify)} RPC:  p50 ${ms(notifyPrivate.p50)}, p95 ${ms(notifyPrivate.p95)}, max ${ms(notifyPrivate.max)} ms`,
  );
  log(
    `  shared list, ${rpcs(sharedTimed.notify)} RPCs: p50 ${ms(notifyShared.p50)}, p95 ${ms(notifyShared.p95)}, max ${ms(notifyShared.max)} ms (≈ ${(((notifyShared.p50 - notifyPrivate.p50) / (MEMBERS - 1)) * 1000).toFixed(0)} µs per further member at p50)`,
  );
  log(
    `  (the same writes on this Worker: write p50 ${ms(latencySummary(privateTimed.writeMs).p50)} / ${ms(latencySummary(sharedTimed.writeMs).p50)} / ${ms(latencySummary(quietTimed.writeMs).p50)} ms, send → last socket p50 ${ms(latencySummary(privateTimed.lastSocket).p50)} / ${ms(latencySummary(sharedTimed.lastSocket).p50)} ms: private / shared / none listening)`,
  );
  log("");
  log(
    `CPU of the Worker's workerd process per write (user + system, every thread; the Worker and the Durable Objects share it locally; ${CPU_WRITES} writes each):`,
  );
  const cpuLine = (label: string, micros: number) => `  ${label.padEnd(40)} ${micros.toFixed(0).padStart(6)} µs`;
  log(cpuLine("private list, 1 RPC", cpuPrivate));
  log(cpuLine(`shared list, ${MEMBERS} members, none listening`, cpuQuiet));
  log(
    `${cpuLine(`shared list, ${MEMBERS} RPCs`, cpuShared)}: the fan-out ${(cpuShared - cpuQuiet).toFixed(0)} µs, ≈ ${((cpuShared - cpuQuiet) / MEMBERS).toFixed(0)} µs per member's RPC`,
  );
  log("");
  log(
    `Load average (1 min) of this machine: ${loadBefore.toFixed(1)} before the writes, ${loadAfter.toFixed(1)} after (${cpus().length} cores).`,
  );

  const checks = [
    [`every write heard by every socket within 5 s of its response (${missed} writes missed)`, missed === 0],
    [
      `one notify RPC per member listening (private: ${rpcs(privateTimed.notify)}, shared: ${rpcs(sharedTimed.notify)}, none listening: ${rpcs(quietTimed.notify)}; ${failed} failed)`,
      rpcs(privateTimed.notify) === "1" && rpcs(sharedTimed.notify) === String(MEMBERS) && rpcs(quietTimed.notify) === "0" && failed === 0,
    ],
  ] as const;
  log("");
  for (const [name, met] of checks) log(`  ${met ? "ok    " : "FAILED"}  ${name}`);
  if (checks.some(([, met]) => !met)) process.exitCode = 1;
}

try {
  await main();
} finally {
  await cleanup();
}

// The change feed is exact for every member of a shared list under concurrency (docs/api.md
// "Sharing", "Changes"): a change in a shared list appears in the GET /changes of its owner and of
// each other member, once, in order, whoever made it and whatever ran meanwhile. An owner and two
// editors each write as themselves (creates and subtasks in the shared list, patches, completes,
// deletes, moves within it, batches, stale If-Match writes, tasks taken out of it into their own
// Inbox and put back, tasks of their own Inbox), 200 operations per run, while a reader per member
// pulls /changes with its own cursor all along. Every 20 operations (10 checkpoints a run) the
// writers stop, each reader pulls to the end, and each member's feed, applied in the order it came,
// must be exactly that member's GET /tasks and GET /lists (ids and JSON). All along: no page names a
// task twice, a task never comes back in an older version than one already applied, a cursor
// never goes back. Pages are of 1 to 20 changes, so a page out of position order would show: its
// cursor (its last position) would skip what the cut left out. Seeded runs, as test/sync.test.ts;
// then the same check against the classic trap in a scratch database shows that it catches a
// change lost to one member's feed.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { decodeChangesCursor } from "../src/schemas/changes.ts";
import { call, newUser, type Task, tokenFor, untilAvailable, workerUrl } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { type ScratchDatabase, scratchDatabase } from "./support/database.ts";
import { httpFetch } from "./support/http.ts";
import { expectJson, type List } from "./support/lists.ts";
import { NAIVE_POSITIONS } from "./support/naive.ts";
import { random } from "./support/random.ts";
import type { ChangesPage, Invitation } from "./support/sharing.ts";
import { startTestWorker } from "./support/transport.ts";

const OPERATIONS = 200;
const CHECKPOINTS = 10;
// 5 seeded runs on the Hyperdrive project, the first 2 on neon (the same statements through
// another driver): a run takes 3 to 5 seconds here. The naive design below loses a change to some
// feed one to four times a run, often hidden again by a later change of the same task before the
// end: hence the checkpoints. Each of its runs tried here caught it, at the 1st to 7th checkpoint
// (its runs take 15 to 35 seconds: it deadlocks often, see below).
const RUNS = Number(process.env.SYNC_SHARED_RUNS ?? (inject("transport") === "hyperdrive" ? 5 : 2));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one member's feed ended with, against what GET /tasks and GET /lists show them. */
interface MemberDivergence {
  member: "owner" | "editor A" | "editor B";
  /** The first checkpoint at which the feed was not what GET /tasks and GET /lists show (what follows is as found there). */
  checkpoint: number | null;
  /** Tasks GET /tasks lists that the feed does not have, or has in another state. */
  missing: number[];
  /** Tasks the feed has that GET /tasks does not list (a deletion it missed). */
  extra: number[];
  /** The same for lists (GET /lists). */
  listsMissing: number[];
  listsExtra: number[];
  /** Pages that named one task (or list) twice. */
  repeats: number;
  /** Upserts older (a lower version) than one the feed had already applied for that task. */
  stale: number;
  /** Pages whose cursor stood before the previous one's. */
  backwards: number;
  /** The first missing task: as the feed has it and as GET /tasks lists it. */
  first?: { id: number; feed: string | undefined; listed: string | undefined };
}

/** A member's feed that diverged nowhere: what every member's must be. */
const noDivergence = (member: MemberDivergence["member"]): MemberDivergence => ({
  member,
  checkpoint: null,
  missing: [],
  extra: [],
  listsMissing: [],
  listsExtra: [],
  repeats: 0,
  stale: 0,
  backwards: 0,
});

interface Outcome {
  members: MemberDivergence[];
  statuses: Record<number, number>;
}

const diverged = (d: MemberDivergence) => d.checkpoint !== null || d.repeats + d.stale + d.backwards > 0;

type Init = { method?: string; body?: unknown; headers?: Record<string, string> };

/**
 * An owner and two editors of one list on the Worker at `base`, writing and reading it at once;
 * what each one's feed ended with. Setup goes through call() (checked against the OpenAPI
 * document); the thousands of writes and pulls through plain httpFetch, as in sync.test.ts.
 */
async function converge(base: string, seed: number): Promise<Outcome> {
  const next = random(seed);
  const owner = newUser();
  const editorA = newUser();
  const editorB = newUser();
  const users = [owner, editorA, editorB];
  const names = ["owner", "editor A", "editor B"] as const;

  // The shared list, through invitations (the helpers of support/sharing.ts call the suite's own
  // Worker; this one may be a scratch database's).
  const list = await expectJson<List>(await call(`/api/${owner}/lists`, { method: "POST", body: { name: "shared" }, base }), 201);
  for (const member of [editorA, editorB]) {
    const invitation = await expectJson<Invitation>(
      await call(`/api/${owner}/lists/${list.id}/invitations`, { method: "POST", body: { role: "editor" }, base }),
      201,
    );
    await expectJson<List>(await call(`/api/${member}/invitations/accept`, { method: "POST", body: { token: invitation.token }, base }));
  }
  const inboxes = new Map<string, number>();
  for (const user of users) {
    const lists = await expectJson<List[]>(await call(`/api/${user}/lists`, { base }));
    const inbox = lists.find((l) => l.inbox);
    if (inbox === undefined || !lists.some((l) => l.id === list.id)) throw new Error(`setup: ${user} sees ${JSON.stringify(lists)}`);
    inboxes.set(user, inbox.id);
  }

  const tokens = new Map<string, string>();
  for (const user of users) tokens.set(user, await tokenFor(user));
  const statuses: Record<number, number> = {};
  // A 503 (write_conflict: two writes to shared lists waited for each other; or a connection that
  // did not open in time) changed nothing: sent again after Retry-After.
  const send = (user: string, path: string, init: Init = {}) =>
    untilAvailable(() =>
      httpFetch(`${base}/api/${user}${path}`, {
        method: init.method ?? "GET",
        headers: { Authorization: `Bearer ${tokens.get(user)}`, "Content-Type": "application/json", ...init.headers },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      }),
    );
  const request = async (user: string, path: string, init: Init = {}) => {
    const response = await send(user, path, init);
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    const body = response.status === 204 ? undefined : await response.json();
    return { status: response.status, body: body as Task | undefined };
  };

  // Tasks in the shared list (any writer may name them), and each writer's own (their Inbox).
  const shared: number[] = [];
  const own = new Map<string, number[]>(users.map((user) => [user, []]));
  const pickFrom = (ids: number[]) => ids[Math.floor(next() * ids.length)] ?? 1;
  const tag = () => Math.floor(next() * 1e6);

  // Operations, not requests: a batch's operations count one by one.
  let remaining = 0;
  const writer = async (user: string) => {
    const mine = own.get(user) ?? [];
    const pick = () => (next() < 0.85 || mine.length === 0 ? pickFrom(shared) : pickFrom(mine));
    while (remaining > 0) {
      remaining--;
      const roll = next();
      if (roll < 0.22 || shared.length === 0) {
        const { body } = await request(user, "/tasks", { method: "POST", body: { title: `s${tag()}`, list_id: list.id } });
        if (body?.id !== undefined) shared.push(body.id);
      } else if (roll < 0.28) {
        const { body } = await request(user, "/tasks", { method: "POST", body: { title: `o${tag()}` } });
        if (body?.id !== undefined) mine.push(body.id);
      } else if (roll < 0.32) {
        // A subtask (a 422 when the parent is a subtask itself, a 404 when it is gone).
        const { body } = await request(user, "/tasks", { method: "POST", body: { title: `u${tag()}`, parent_id: pickFrom(shared) } });
        if (body?.id !== undefined) shared.push(body.id);
      } else if (roll < 0.46) {
        await request(user, `/tasks/${pick()}`, { method: "PATCH", body: { title: `p${tag()}`, priority: next() < 0.5 ? "high" : "low" } });
      } else if (roll < 0.56) {
        await request(user, `/tasks/${pick()}/complete`, { method: "PATCH" });
      } else if (roll < 0.63) {
        await request(user, `/tasks/${pick()}`, { method: "DELETE" });
      } else if (roll < 0.74) {
        // A move among its siblings in the shared list (a 422 when the anchor is itself or not a sibling).
        const where = next();
        const anchor = pickFrom(shared);
        await request(user, `/tasks/${pickFrom(shared)}/move`, {
          method: "POST",
          body: where < 0.2 ? {} : where < 0.6 ? { after_id: anchor } : { before_id: anchor },
        });
      } else if (roll < 0.86) {
        remaining -= 3;
        const { body } = await request(user, "/tasks/batch", {
          method: "POST",
          body: {
            operations: [
              { op: "create", task: { title: `b${tag()}`, list_id: list.id } },
              { op: "update", id: pick(), task: { tags: [`tag${Math.floor(next() * 5)}`] } },
              { op: "complete", id: pickFrom(shared), completed: next() < 0.5 },
              next() < 0.5 ? { op: "delete", id: pickFrom(shared) } : { op: "create", task: { title: `c${tag()}` } },
            ],
          },
        });
        const results = (body as { results?: Array<{ task?: Task }> } | undefined)?.results;
        const created = results?.[0]?.task?.id;
        if (created !== undefined) shared.push(created);
        const last = results?.[3]?.task;
        if (last !== undefined && last.list_id !== list.id) mine.push(last.id);
      } else if (roll < 0.9) {
        await request(user, `/tasks/${pick()}`, { method: "PUT", body: { title: "stale" }, headers: { "If-Match": '"999999"' } });
      } else if (roll < 0.95) {
        // Out of the shared list into the writer's Inbox: theirs now, a deletion for the others.
        const id = pickFrom(shared);
        const { status } = await request(user, `/tasks/${id}/move`, { method: "POST", body: { list_id: inboxes.get(user) } });
        if (status === 200) mine.push(id);
      } else {
        // One of the writer's own into the shared list: the owner's now, an upsert for everyone.
        const id = pickFrom(mine);
        const { status } = await request(user, `/tasks/${id}/move`, { method: "POST", body: { list_id: list.id } });
        if (status === 200) shared.push(id);
      }
    }
  };

  // A sync client per member: applies each page in the order it came.
  const reader = (user: string, member: MemberDivergence["member"]) => {
    const tasks = new Map<number, string>();
    const lists = new Map<number, string>();
    const versions = new Map<string, number>();
    let cursor: string | undefined;
    let position = 0;
    const divergence = noDivergence(member);
    const apply = (kind: "task" | "list", into: Map<number, string>, id: number | undefined, item: { version: number } | undefined) => {
      if (item !== undefined && id !== undefined) {
        if (item.version < (versions.get(`${kind}${id}`) ?? 0)) divergence.stale++;
        versions.set(`${kind}${id}`, item.version);
        into.set(id, JSON.stringify(item));
      } else if (id !== undefined) into.delete(id);
    };
    const pull = async (): Promise<boolean> => {
      const limit = String(1 + Math.floor(next() * 20));
      const query = new URLSearchParams(cursor === undefined ? { limit } : { limit, since: cursor });
      const response = await send(user, `/changes?${query}`);
      if (response.status !== 200) throw new Error(`pull of ${member}: ${response.status} ${await response.text()}`);
      const page = (await response.json()) as ChangesPage;
      const taskIds = page.changes.map((change) => change.task?.id ?? change.id);
      const listIds = page.lists.map((change) => change.list?.id ?? change.id);
      if (new Set(taskIds).size !== taskIds.length || new Set(listIds).size !== listIds.length) divergence.repeats++;
      for (const change of page.changes)
        apply("task", tasks, change.task?.id ?? change.id, change.op === "upsert" ? change.task : undefined);
      for (const change of page.lists) apply("list", lists, change.list?.id ?? change.id, change.op === "upsert" ? change.list : undefined);
      const reached = decodeChangesCursor(page.cursor);
      if (reached < position) divergence.backwards++;
      position = reached;
      cursor = page.cursor;
      return page.has_more;
    };
    return { user, tasks, lists, divergence, pull };
  };
  const readers = users.map((user, index) => reader(user, names[index] ?? "owner"));

  // Checkpoints: every OPERATIONS / CHECKPOINTS operations the writers stop, each reader pulls to
  // the end, and each feed must then be exactly what GET /tasks and GET /lists show. A change lost
  // to a feed shows at the next checkpoint unless a later change of the same task hid it. The run
  // stops at the first checkpoint where a feed diverged.
  const compare = async ({ user, tasks, lists, divergence }: (typeof readers)[number], checkpoint: number) => {
    const headers = { Authorization: `Bearer ${tokens.get(user)}` };
    const listed = new Map<number, string>();
    let page: string | null = `${base}/api/${user}/tasks?limit=1000&sort=created_at`;
    while (page !== null) {
      const response: Response = await httpFetch(page, { headers });
      for (const task of (await response.json()) as Task[]) listed.set(task.id, JSON.stringify(task));
      // A relative reference (no PUBLIC_URL here): resolved against the URL requested.
      const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("Link") ?? "")?.[1];
      page = link === undefined ? null : new URL(link, page).href;
    }
    const listedLists = new Map<number, string>();
    for (const l of (await (await httpFetch(`${base}/api/${user}/lists`, { headers })).json()) as List[])
      listedLists.set(l.id, JSON.stringify(l));
    const missing = [...listed].filter(([id, json]) => tasks.get(id) !== json).map(([id]) => id);
    const extra = [...tasks.keys()].filter((id) => !listed.has(id));
    const listsMissing = [...listedLists].filter(([id, json]) => lists.get(id) !== json).map(([id]) => id);
    const listsExtra = [...lists.keys()].filter((id) => !listedLists.has(id));
    if (divergence.checkpoint !== null || missing.length + extra.length + listsMissing.length + listsExtra.length === 0) return;
    Object.assign(divergence, { checkpoint, missing, extra, listsMissing, listsExtra });
    const first = missing[0];
    if (first !== undefined) divergence.first = { id: first, feed: tasks.get(first), listed: listed.get(first) };
  };

  for (let checkpoint = 1; checkpoint <= CHECKPOINTS; checkpoint++) {
    remaining = OPERATIONS / CHECKPOINTS;
    let writing = true;
    const writers = Promise.all(users.map(writer)).finally(() => {
      writing = false;
    });
    // Each reader pulls all along, with short random pauses: at every moment some writes are in flight.
    await Promise.all(
      readers.map(async ({ pull }) => {
        while (writing) {
          await pull();
          await sleep(10 + Math.floor(next() * 50));
        }
      }),
    );
    await writers;
    for (const { pull } of readers) while (await pull());
    for (const reader of readers) await compare(reader, checkpoint);
    if (readers.some((reader) => diverged(reader.divergence))) break;
  }
  return { members: readers.map((r) => r.divergence), statuses };
}

describe("convergence of a shared list under concurrency", () => {
  it(`an owner and 2 editors writing one shared list, ${OPERATIONS} operations, a reader per member: at every checkpoint each member's feed is exactly their GET /tasks, ${RUNS} runs`, {
    timeout: 1_800_000,
  }, async () => {
    for (let run = 1; run <= RUNS; run++) {
      const { members, statuses } = await converge(workerUrl(), 20261210 + run);
      for (const divergence of members) {
        const clean = noDivergence(divergence.member);
        expect({ run, ...divergence }).toEqual({ run, ...clean });
      }
      // Only the statuses of writes that happened or that changed nothing; never a 5xx.
      for (const status of Object.keys(statuses).map(Number)) expect([200, 201, 204, 404, 412, 422], `run ${run}`).toContain(status);
    }
  });
});

describe("the classic trap, for contrast: positions from a sequence, without the members' counter locks", () => {
  let database: ScratchDatabase;
  let worker: RunningWorker;
  beforeAll(async () => {
    database = await scratchDatabase();
    // The same swap as test/sync.test.ts, in the two functions every feed's positions go through:
    // task_lock_user locks nothing (so neither does task_lock_users, which locks the owner and the
    // members with it), and task_next_position hands out a number from a sequence, taken inside
    // the statement with the statement's other work after it (a sleep of up to 100 ms), so that a
    // later number can commit first. feed_next still numbers another member's feed with an UPDATE
    // of their counter row, which locks that row until commit; what goes unlocked are the writer's
    // own positions. So a member's own write takes 10 in their feed, another member's write takes
    // 11 there and commits, the member's reader moves past 11, then 10 commits: lost to that feed.
    await database.admin.query(NAIVE_POSITIONS);
    // Those row locks come in no particular order (the writer's own last), so its writes to the
    // shared list deadlock often (a 503 write_conflict, sent again after Retry-After): Postgres
    // looks for a deadlock after 50 ms instead of its default 1 s, and a run takes half as long.
    await database.admin.query(`ALTER DATABASE ${new URL(database.url).pathname.slice(1)} SET deadlock_timeout = '50ms'`);
    // Its errors go unprinted: its 503s, and 500s where two writes gave two tasks of the shared list
    // one order key (tasks_list_order; without the owner's lock nothing orders them either).
    worker = await startTestWorker({ database: database.url, bindings: { BETTER_AUTH_SECRET: TEST_SECRET }, onLog: () => {} });
  });
  afterAll(async () => {
    await worker?.stop();
    await database?.drop();
  });

  it("is caught: within a few runs, at a checkpoint, a member's feed misses a task, a deletion or a task's latest state", {
    timeout: 900_000,
  }, async () => {
    let caught: MemberDivergence | undefined;
    for (let run = 1; run <= 6 && caught === undefined; run++) {
      const { members } = await converge(worker.url, 7 + run);
      caught = members.find(diverged);
    }
    expect(caught, "the naive design never diverged").toBeDefined();
  });
});

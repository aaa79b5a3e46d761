// Idempotency-Key on POST (API.md "Headers"): a retry with the same key and body replays the
// original 201 and creates nothing, another body is a 422, a retry while the first is in flight
// is a 409, keys are per user and live 24 hours, and the Cron Trigger purges expired ones.
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { requestHash } from "../src/http/idempotency.ts";
import { TaskInput } from "../src/schemas/task.ts";
import { call, expectProblem, newUser, type Task, untilAvailable } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { suiteDatabase } from "./support/database.ts";
import { startTestWorker } from "./support/transport.ts";

const tasksPath = (user: string) => `/api/${user}/tasks`;
const newKey = () => `key-${crypto.randomUUID()}`;

function post(user: string, body: unknown, key?: string): Promise<Response> {
  return call(tasksPath(user), { method: "POST", body, headers: key === undefined ? {} : { "Idempotency-Key": key } });
}

async function tasksOf(user: string): Promise<Task[]> {
  const response = await call(tasksPath(user));
  expect(response.status).toBe(200);
  return (await response.json()) as Task[];
}

const db = suiteDatabase();

describe("a retry with the same key", () => {
  it("replays the original 201, Location, ETag and task, and creates nothing", async () => {
    const user = newUser();
    const key = newKey();
    const body = { title: "pay rent", tags: ["home"], priority: "high" };
    const first = await post(user, body, key);
    expect(first.status).toBe(201);
    const created = (await first.json()) as Task;
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    for (let retry = 0; retry < 3; retry += 1) {
      const again = await post(user, body, key);
      expect(again.status).toBe(201);
      expect(again.headers.get("Location")).toBe(first.headers.get("Location"));
      expect(again.headers.get("ETag")).toBe(first.headers.get("ETag"));
      expect(again.headers.get("Idempotent-Replayed")).toBe("true");
      expect(await again.json()).toEqual(created);
    }
    expect(await tasksOf(user)).toEqual([created]);
  });

  it("treats the same body with keys in another order, or defaults spelled out, as the same request", async () => {
    const user = newUser();
    const key = newKey();
    const first = await post(user, { title: "same", tags: ["a"] }, key);
    expect(first.status).toBe(201);
    const replay = await post(user, { tags: ["a"], priority: "medium", title: "same" }, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await tasksOf(user)).toHaveLength(1);
  });

  it("replays the response as first sent, even after the task changed or was deleted", async () => {
    const user = newUser();
    const key = newKey();
    const first = await post(user, { title: "original" }, key);
    const created = (await first.json()) as Task;
    await call(`${tasksPath(user)}/${created.id}`, { method: "PATCH", body: { title: "changed" } });
    expect(await (await post(user, { title: "original" }, key)).json()).toEqual(created);
    await call(`${tasksPath(user)}/${created.id}`, { method: "DELETE" });
    const afterDelete = await post(user, { title: "original" }, key);
    expect(afterDelete.status).toBe(201);
    expect(await afterDelete.json()).toEqual(created);
    expect(await tasksOf(user)).toEqual([]);
  });

  it("with a different body is a 422 naming Idempotency-Key, and creates nothing", async () => {
    const user = newUser();
    const key = newKey();
    expect((await post(user, { title: "first" }, key)).status).toBe(201);
    await expectProblem(await post(user, { title: "second" }, key), "idempotency_key_reused", "Idempotency-Key");
    await expectProblem(await post(user, { title: "first", tags: ["x"] }, key), "idempotency_key_reused", "Idempotency-Key");
    expect((await tasksOf(user)).map((task) => task.title)).toEqual(["first"]);
  });

  it("is scoped per user: another user's same key creates that user's own task", async () => {
    const key = newKey();
    const alice = newUser();
    const bob = newUser();
    const a = (await (await post(alice, { title: "alice's" }, key)).json()) as Task;
    const second = await post(bob, { title: "bob's" }, key);
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBeNull();
    const b = (await second.json()) as Task;
    expect(b.id).not.toBe(a.id);
    expect(b).toMatchObject({ user_id: bob, title: "bob's" });
  });

  it("is scoped per user on retries too: Bob's retry with a key Alice also used replays Bob's task, never Alice's", async () => {
    const key = newKey();
    const alice = newUser();
    const bob = newUser();
    const body = { title: "same body for both" };
    const first = await post(alice, body, key);
    expect(first.status).toBe(201);
    const aliceTask = (await first.json()) as Task;
    const bobFirst = await post(bob, body, key);
    expect(bobFirst.status).toBe(201);
    const bobTask = (await bobFirst.json()) as Task;
    const bobRetry = await post(bob, body, key);
    expect(bobRetry.status).toBe(201);
    expect(bobRetry.headers.get("Idempotent-Replayed")).toBe("true");
    const replayed = (await bobRetry.json()) as Task;
    expect(replayed).toEqual(bobTask);
    expect(replayed.id).not.toBe(aliceTask.id);
    expect(bobRetry.headers.get("Location")).toMatch(new RegExp(`/api/${bob}/tasks/${bobTask.id}$`));
    const aliceRetry = (await (await post(alice, body, key)).json()) as Task;
    expect(aliceRetry).toEqual(aliceTask);
  });

  it("is not consumed by a request rejected for its body", async () => {
    const user = newUser();
    const key = newKey();
    await expectProblem(await post(user, { title: "" }, key), "validation_failed", "title");
    const response = await post(user, { title: "valid now" }, key);
    expect(response.status).toBe(201);
    expect(response.headers.get("Idempotent-Replayed")).toBeNull();
  });
});

describe("the Idempotency-Key header", () => {
  it.each([
    ["empty", ""],
    ["256 characters", "k".repeat(256)],
    ["non-ASCII", "clé-1"],
    ["holding a tab (a control character)", "key\tone"],
  ])("answers 422 when it is %s, and creates nothing", async (_label, key) => {
    const user = newUser();
    await expectProblem(await post(user, { title: "never" }, key), "validation_failed", "Idempotency-Key");
    expect(await tasksOf(user)).toEqual([]);
  });

  it("accepts 255 printable ASCII characters, spaces and symbols included", async () => {
    const user = newUser();
    const key = `${"~ !#$%&'()*+,-./:;<=>?@[]^_`{|}"}${"x".repeat(255)}`.slice(0, 255);
    expect((await post(user, { title: "long key" }, key)).status).toBe(201);
    expect((await post(user, { title: "long key" }, key)).headers.get("Idempotent-Replayed")).toBe("true");
  });
});

/** The fingerprint the Worker keeps with a key for this create body (src/http/idempotency.ts). */
const hashOf = (body: unknown) => requestHash(v.parse(TaskInput, body));

/** Waits until some statement is waiting for a lock that `holder`'s open transaction holds. */
async function blockedBy(holder: pg.Client): Promise<void> {
  const [{ pid }] = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows as [{ pid: number }];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { rows } = await db.query<{ waiting: number }>(
      "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
      [pid],
    );
    if ((rows[0]?.waiting ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error("no statement ever waited on the in-flight transaction");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("concurrent requests with the same key", () => {
  it("50 parallel POSTs create one task; the rest replay it or are told it is in flight (409)", async () => {
    const user = newUser();
    const key = newKey();
    // Each client sends its POST again with the same key after a 503 database_unavailable.
    const responses = await Promise.all(Array.from({ length: 50 }, () => untilAvailable(() => post(user, { title: "once" }, key))));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status !== 201 && status !== 409)).toEqual([]);
    const ids = new Set(
      await Promise.all(
        responses.filter((response) => response.status === 201).map(async (response) => ((await response.json()) as Task).id),
      ),
    );
    expect(ids.size).toBe(1);
    const tasks = await tasksOf(user);
    expect(tasks).toHaveLength(1);
    expect(ids.has(tasks[0]?.id ?? -1)).toBe(true);
  });

  it("answers 409 with Retry-After to a retry while the first request is still in flight after 2 seconds", async () => {
    const user = newUser();
    const key = newKey();
    // The first request's statement, caught mid-flight: it has claimed the key, not committed.
    const first = new pg.Client({ connectionString: inject("databaseUrl") });
    await first.connect();
    try {
      await first.query("BEGIN");
      await first.query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, results, created_at) VALUES ($1, $2, 'in-flight', '[]', now())",
        [user, key],
      );
      const retry = post(user, { title: "in flight" }, key);
      await blockedBy(first);
      // The retry waits for the first request (the key's row) for 2 s, then gives up.
      const response = await retry;
      await expectProblem(response, "idempotency_in_flight");
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
      await first.query("ROLLBACK");
      expect(await tasksOf(user)).toEqual([]);
    } finally {
      await first.end();
    }
  });

  it("replays the first request's answer to a retry that arrived while it was still running", async () => {
    const user = newUser();
    const key = newKey();
    const body = { title: "slow first" };
    const first = new pg.Client({ connectionString: inject("databaseUrl") });
    await first.connect();
    try {
      // The first request, run by hand inside a transaction that is still open when the retry comes.
      await first.query("BEGIN");
      const { rows } = await first.query<{ task_id: string }>("SELECT task_id FROM task_write($1, $2::jsonb, $3, $4, '{}')", [
        user,
        JSON.stringify([
          {
            op: "create",
            task: {
              title: body.title,
              description: null,
              completed: false,
              priority: "medium",
              tags: [],
              due_date: null,
              recurrence: null,
            },
          },
        ]),
        key,
        await hashOf(body),
      ]);
      const retry = post(user, body, key);
      await blockedBy(first);
      await first.query("COMMIT");
      const response = await retry;
      expect(response.status).toBe(201);
      expect(response.headers.get("Idempotent-Replayed")).toBe("true");
      expect(((await response.json()) as Task).id).toBe(Number(rows[0]?.task_id));
      expect(await tasksOf(user)).toHaveLength(1);
    } finally {
      await first.end();
    }
  });

  it("creates the task when the in-flight first request fails and rolls back", async () => {
    const user = newUser();
    const key = newKey();
    const first = new pg.Client({ connectionString: inject("databaseUrl") });
    await first.connect();
    try {
      await first.query("BEGIN");
      await first.query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, results, created_at) VALUES ($1, $2, 'doomed', '[]', now())",
        [user, key],
      );
      const retry = post(user, { title: "second try" }, key);
      await blockedBy(first);
      await first.query("ROLLBACK");
      const response = await retry;
      expect(response.status).toBe(201);
      expect((await tasksOf(user)).map((task) => task.title)).toEqual(["second try"]);
    } finally {
      await first.end();
    }
  });
});

describe("expiry after 24 hours", () => {
  const insertKey = (user: string, key: string, age: string) =>
    db.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, results, created_at)
       VALUES ($1, $2, 'old', '[]', now() - $3::interval)`,
      [user, key, age],
    );

  it("lets a key older than 24 hours be used again for a new request", async () => {
    const user = newUser();
    const key = newKey();
    await insertKey(user, key, "25 hours");
    const response = await post(user, { title: "a new day" }, key);
    expect(response.status).toBe(201);
    expect(response.headers.get("Idempotent-Replayed")).toBeNull();
    expect((await tasksOf(user)).map((task) => task.title)).toEqual(["a new day"]);
    expect((await post(user, { title: "a new day" }, key)).headers.get("Idempotent-Replayed")).toBe("true");
  });

  describe("the Cron Trigger", () => {
    let worker: RunningWorker;
    beforeAll(async () => {
      worker = await startTestWorker({
        bindings: { BETTER_AUTH_SECRET: TEST_SECRET },
      });
    });
    afterAll(() => worker?.stop());

    it("is configured in wrangler.toml and purges keys older than 24 hours, keeping younger ones", async () => {
      const toml = readFileSync(path.resolve(import.meta.dirname, "../wrangler.toml"), "utf8");
      const cron = /^\s*crons\s*=\s*\[\s*"([^"]+)"/m.exec(toml)?.[1];
      expect(cron).toBeTruthy();
      const user = newUser();
      await insertKey(user, "expired", "24 hours 1 minute");
      await insertKey(user, "fresh", "23 hours");
      expect(await worker.scheduled(cron ?? "")).toBe("ok");
      const { rows } = await db.query<{ key: string }>("SELECT key FROM idempotency_keys WHERE user_id = $1 ORDER BY key", [user]);
      expect(rows.map((row) => row.key)).toEqual(["fresh"]);
    });
  });
});

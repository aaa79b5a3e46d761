// Running it in production: the per-user rate limit (Workers Rate Limiting binding, through
// Miniflare's implementation of it), one structured log line per request with nothing secret in
// it, and unexpected errors whose stack goes to the log and never to the client.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, expectProblem, newUser, sleep, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { startTestWorker } from "./support/transport.ts";

const LIMIT = 3;
const PERIOD_SECONDS = 60;

describe("per-user rate limiting", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET }, rateLimit: { limit: LIMIT, period: PERIOD_SECONDS } });
  });
  afterAll(() => worker.stop());

  const list = (user: string) => call(`/api/${user}/tasks`, { base: worker.url });
  const window = () => Math.floor(Date.now() / (PERIOD_SECONDS * 1000));

  it("answers 429 with Retry-After once a user is over the limit, and other users are unaffected", async () => {
    // The limiter counts per fixed window; a run that straddles two windows is retried once.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const user = newUser();
      const before = window();
      const responses: Response[] = [];
      for (let i = 0; i <= LIMIT; i++) responses.push(await list(user));
      const other = await list(newUser());
      if (window() !== before && attempt === 1) continue;

      expect(responses.map((response) => response.status)).toEqual([...Array(LIMIT).fill(200), 429]);
      const limited = responses[LIMIT] as Response;
      const body = await expectProblem(limited, 429);
      expect(body.title).toBe("Too Many Requests");
      expect(Number(limited.headers.get("Retry-After"))).toBe(PERIOD_SECONDS);
      expect(other.status).toBe(200);
      return;
    }
  });

  it("does not count requests that fail authentication against the user", async () => {
    const user = newUser();
    const forged = await tokenFor(user, { secret: "not the server's secret, at least 32 bytes long" });
    for (let i = 0; i < LIMIT + 2; i++) {
      const response = await call(`/api/${user}/tasks`, { base: worker.url, token: forged });
      expect(response.status).toBe(401);
    }
    // Only the valid token's requests count: this is the user's first.
    expect((await list(user)).status).toBe(200);
  });
});

interface LogEntry {
  level: string;
  message: string;
  request_id?: string;
  error?: string;
}

/** The Worker's JSON log entries with this message and request id, once workerd has passed them on. */
async function loggedFor(lines: string[], message: string, requestId: string): Promise<LogEntry[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = lines
      .flatMap((line) => line.split("\n"))
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as LogEntry)
      .filter((entry) => entry.message === message && entry.request_id === requestId);
    if (found.length > 0) return found;
    if (Date.now() > deadline) throw new Error(`no "${message}" log line for request ${requestId} in:\n${lines.join("\n")}`);
    await sleep(50);
  }
}

interface RequestLine {
  level: string;
  message: string;
  request_id: string;
  method: string;
  route: string | null;
  status: number;
  duration_ms: number;
  db_ms: number;
}

describe("logs", () => {
  let worker: RunningWorker;
  const lines: string[] = [];
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET }, onLog: (line) => lines.push(line) });
  });
  afterAll(() => worker.stop());

  /** The request line for this request id, once workerd has passed it on. */
  async function lineFor(requestId: string): Promise<RequestLine> {
    const found = await loggedFor(lines, "request", requestId);
    expect(found).toHaveLength(1);
    return found[0] as unknown as RequestLine;
  }

  it("writes one JSON line per request: id, method, route pattern, status, duration, database time", async () => {
    const user = newUser();
    const created = await call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "log me" } });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    const fetched = await call(`/api/${user}/tasks/${id}`, { base: worker.url, headers: { "X-Request-Id": "trace-42" } });
    expect(fetched.status).toBe(200);
    const missing = await call("/no/such/route", { base: worker.url });
    expect(missing.status).toBe(404);

    const post = await lineFor(created.headers.get("X-Request-Id") as string);
    expect(post).toMatchObject({ level: "info", method: "POST", route: "/api/:user_id/tasks", status: 201 });
    expect(post.duration_ms).toBeGreaterThanOrEqual(0);
    expect(post.db_ms).toBeGreaterThanOrEqual(0);
    expect(post.db_ms).toBeLessThanOrEqual(post.duration_ms);
    expect(Object.keys(post).sort()).toEqual(["db_ms", "duration_ms", "level", "message", "method", "request_id", "route", "status"]);

    expect(await lineFor("trace-42")).toMatchObject({ method: "GET", route: "/api/:user_id/tasks/:id", status: 200 });
    expect(await lineFor(missing.headers.get("X-Request-Id") as string)).toMatchObject({ route: null, status: 404, db_ms: 0 });
  });

  it("never logs tokens, user ids from the path, or task contents", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const secretTitle = `title-${crypto.randomUUID()}`;
    const secretDescription = `description-${crypto.randomUUID()}`;
    const created = await call(`/api/${user}/tasks`, {
      base: worker.url,
      token,
      method: "POST",
      body: { title: secretTitle, description: secretDescription, tags: ["private-tag"] },
    });
    expect(created.status).toBe(201);
    // An invalid body too: its validation errors go to the client, not the log.
    const rejected = await call(`/api/${user}/tasks`, {
      base: worker.url,
      token,
      method: "POST",
      body: { title: secretTitle, priority: 7 },
    });
    expect(rejected.status).toBe(422);
    await lineFor(rejected.headers.get("X-Request-Id") as string);

    const everything = lines.join("\n");
    for (const secret of [token, user, secretTitle, secretDescription, "private-tag", token.split(".")[2] as string]) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe("an unexpected error", () => {
  let worker: RunningWorker;
  const lines: string[] = [];
  beforeAll(async () => {
    // A real database without the tasks table: every task statement fails with a SQL error that
    // is not the client's fault and not a transient one.
    const url = new URL(inject("databaseUrl"));
    url.pathname = "/postgres";
    worker = await startTestWorker({
      database: url.href,
      bindings: { BETTER_AUTH_SECRET: TEST_SECRET },
      onLog: (line) => lines.push(line),
    });
  });
  afterAll(() => worker.stop());

  it("answers a 500 problem with the request id only, and logs the stack server-side", async () => {
    const user = newUser();
    const response = await call(`/api/${user}/tasks`, { base: worker.url });
    const body = await expectProblem(response, 500);
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/relation|tasks_|\bat \S+ \(|SELECT|postgres/i);

    const [logged] = await loggedFor(lines, "unhandled error", body.request_id);
    expect(logged?.level).toBe("error");
    expect(logged?.error).toMatch(/relation "tasks" does not exist/);
    // A stack: the message followed by frames.
    expect(logged?.error).toMatch(/\n\s+at /);
  });
});

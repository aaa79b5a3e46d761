// Running it in production: the per-user rate limit (Workers Rate Limiting binding, through
// Miniflare's implementation of it), one structured log line per request with nothing secret in
// it, and unexpected errors whose stack goes to the log and never to the client.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { SLOW_REQUEST_MS } from "../src/log.ts";
import { call, expectProblem, newUser, sleep, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { entries, type LogEntry, loggedFor } from "./support/logs.ts";
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
      const body = await expectProblem(limited, "rate_limited");
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

/** A Worker with the test secret and these bindings, its log lines collected into `lines`. */
function loggingWorker(bindings: Record<string, string>, lines: string[]): Promise<RunningWorker> {
  return startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET, ...bindings }, onLog: (line) => lines.push(line) });
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

describe("logs with LOG_REQUESTS=all", () => {
  let worker: RunningWorker;
  const lines: string[] = [];
  beforeAll(async () => {
    worker = await loggingWorker({ LOG_REQUESTS: "all" }, lines);
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

describe("logs by default (LOG_REQUESTS unset: errors and slow requests)", () => {
  let worker: RunningWorker;
  const lines: string[] = [];
  let locker: pg.Client;
  beforeAll(async () => {
    worker = await loggingWorker({}, lines);
    locker = new pg.Client({ connectionString: inject("databaseUrl") });
    await locker.connect();
  });
  afterAll(async () => {
    await worker.stop();
    await locker.end();
  });

  it("writes no line for a request that succeeded quickly, and one for each 4xx", async () => {
    const user = newUser();
    const created = await call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "quiet" } });
    expect(created.status).toBe(201);
    const invalid = await call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "" } });
    expect(invalid.status).toBe(422);
    const missing = await call("/no/such/route", { base: worker.url });
    expect(missing.status).toBe(404);

    // Lines are written in request order: once the 404's is in, the 201's would be too.
    for (const response of [invalid, missing]) await loggedFor(lines, "request", response.headers.get("X-Request-Id") as string);
    // No line for the 201, unless a starved machine made even it slow (then its line is due).
    const quiet = entries<RequestLine>(lines).filter(
      (line) => line.message === "request" && line.request_id === created.headers.get("X-Request-Id"),
    );
    expect(quiet.filter((line) => line.duration_ms < SLOW_REQUEST_MS)).toEqual([]);
  });

  it(`writes the line of a request that took ${SLOW_REQUEST_MS} ms or more, though it succeeded`, async () => {
    const user = newUser();
    const created = await call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "slow" } });
    const { id } = (await created.json()) as { id: number };
    // A row lock held for 1.5 s: the PATCH waits for it, then succeeds.
    await locker.query("BEGIN");
    await locker.query("SELECT id FROM tasks WHERE id = $1 FOR UPDATE", [id]);
    const release = sleep(1_500).then(() => locker.query("ROLLBACK"));
    const patched = await call(`/api/${user}/tasks/${id}`, { base: worker.url, method: "PATCH", body: { title: "slower" } });
    await release;
    expect(patched.status).toBe(200);
    const [line] = await loggedFor(lines, "request", patched.headers.get("X-Request-Id") as string);
    expect(line).toMatchObject({ level: "info", method: "PATCH", status: 200 });
    expect((line as unknown as RequestLine).duration_ms).toBeGreaterThanOrEqual(SLOW_REQUEST_MS);
  });
});

describe("an unknown LOG_REQUESTS value", () => {
  let worker: RunningWorker;
  const lines: string[] = [];
  beforeAll(async () => {
    worker = await loggingWorker({ LOG_REQUESTS: "verbose" }, lines);
  });
  afterAll(() => worker.stop());

  it("logs every request and warns once that the setting is wrong, without failing a request", async () => {
    const user = newUser();
    const first = await call(`/api/${user}/tasks`, { base: worker.url });
    const second = await call(`/api/${user}/tasks`, { base: worker.url });
    expect([first.status, second.status]).toEqual([200, 200]);
    for (const response of [first, second]) await loggedFor(lines, "request", response.headers.get("X-Request-Id") as string);
    const warnings = entries<LogEntry & { setting?: string }>(lines).filter((entry) => entry.message === "configuration");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: "warn", setting: "LOG_REQUESTS" });
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
    const body = await expectProblem(response, "internal_error");
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/relation|tasks_|\bat \S+ \(|SELECT|postgres/i);

    const [logged] = await loggedFor(lines, "unhandled error", body.request_id);
    expect(logged?.level).toBe("error");
    expect(logged?.cause?.message).toMatch(/relation "tasks" does not exist/);
    expect(logged?.cause?.code).toBe("42P01"); // undefined_table: not transient, so a 500
    // A stack: the message followed by frames.
    expect(logged?.cause?.stack).toMatch(/\n\s+at /);
  });
});

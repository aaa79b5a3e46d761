// /mcp obeys the REST API's limits: the per-user rate limit counts each /mcp request once (a tool
// call is one request, as its REST call would be), and the routes' body limits apply to the REST
// call a tool makes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postMcp, toolCall } from "../scripts/lib/mcp.ts";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { newUser, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { suiteDatabase } from "./support/database.ts";
import { connect, toolProblem } from "./support/mcp.ts";
import { startTestWorker } from "./support/transport.ts";

const LIMIT = 3;
const PERIOD_SECONDS = 60;

describe("the rate limit on /mcp", () => {
  const database = suiteDatabase();
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET }, rateLimit: { limit: LIMIT, period: PERIOD_SECONDS } });
  });
  afterAll(() => worker.stop());

  /** One tools/call of add_task as one HTTP request (the 2025 protocol's stateless transport takes it without a session). */
  const addTask = (token: string, title: string) => postMcp(worker.url, token, toolCall("add_task", { title }));
  const window = () => Math.floor(Date.now() / (PERIOD_SECONDS * 1000));
  const count = async (user: string) =>
    Number((await database.query("SELECT count(*) FROM tasks WHERE user_id = $1", [user])).rows[0].count);

  it("counts a tool call once, and answers 429 with Retry-After past the limit, before any tool runs", async () => {
    // The limiter counts per fixed window; a run that straddles two windows is retried once.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const user = newUser();
      const token = await tokenFor(user);
      const before = window();
      const responses: Response[] = [];
      for (let i = 0; i <= LIMIT; i++) responses.push(await addTask(token, `task ${i}`));
      const other = await addTask(await tokenFor(newUser()), "another user's");
      if (window() !== before && attempt === 1) continue;

      // Each tool call made its REST call in-process: counted with its /mcp request, not again.
      expect(responses.map((response) => response.status)).toEqual([...Array(LIMIT).fill(200), 429]);
      expect(await count(user)).toBe(LIMIT);
      const limited = responses[LIMIT] as Response;
      expect(limited.headers.get("Retry-After")).toBe(String(PERIOD_SECONDS));
      expect(await limited.json()).toMatchObject({ code: "rate_limited", status: 429 });
      expect(other.status).toBe(200);
      // A client of the SDK sees the 429 as an error.
      await expect(connect(user, { base: worker.url, token })).rejects.toThrow(/429|Too Many/i);
      return;
    }
  });
});

describe("the body limits on /mcp", () => {
  it("a tool's REST call has its route's limit: 64 KiB for one task, as a tool error", async () => {
    const mcp = await connect(newUser());
    try {
      await toolProblem(mcp, "add_task", { title: "long", description: "x".repeat(65 * 1024) }, "body_too_large");
      const { tasks } = (await mcp.callTool({ name: "list_tasks", arguments: {} })).structuredContent as { tasks: unknown[] };
      expect(tasks).toEqual([]);
    } finally {
      await mcp.close();
    }
  });
});

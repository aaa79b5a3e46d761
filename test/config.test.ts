// A missing or unusable setting: a 500 problem that names it and one log line, never a crash,
// and routes that do not need the setting keep working.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, expectProblem, newUser, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { startTestWorker } from "./support/transport.ts";

interface Started {
  worker: RunningWorker;
  logs: string[];
}

async function start(bindings: Record<string, string>, withDatabase: boolean): Promise<Started> {
  const logs: string[] = [];
  const worker = await startTestWorker({
    bindings,
    ...(withDatabase ? {} : { database: null }),
    onLog: (line) => logs.push(line),
  });
  return { worker, logs };
}

async function listAs(base: string): Promise<Response> {
  const user = newUser();
  return call(`/api/${user}/tasks`, { base, token: await tokenFor(user) });
}

describe("without BETTER_AUTH_SECRET", () => {
  let started: Started;
  beforeAll(async () => {
    started = await start({}, true);
  });
  afterAll(() => started.worker.stop());

  it("answers API calls with a 500 problem naming BETTER_AUTH_SECRET", async () => {
    const response = await listAs(started.worker.url);
    const body = await expectProblem(response, "configuration_error");
    expect(body.detail).toContain("BETTER_AUTH_SECRET");
    expect(body.detail).not.toMatch(/at |\.ts|\.js/);
  });

  it("logs one line naming the setting per failed request", async () => {
    const response = await listAs(started.worker.url);
    const id = response.headers.get("X-Request-Id") as string;
    const ofRequest = () => started.logs.flatMap((line) => line.split("\n")).filter((line) => line.includes(id));
    // The request's own line comes last (src/http/lifecycle.ts); by then the problem's is in too.
    await expect.poll(() => ofRequest().some((line) => line.includes('"message":"request"'))).toBe(true);
    const naming = ofRequest().filter((line) => line.includes("BETTER_AUTH_SECRET"));
    expect(naming).toHaveLength(1);
    expect(started.logs.find((line) => line.includes(id) && line.includes("BETTER_AUTH_SECRET"))).not.toContain("\n");
  });

  it("keeps /health working, since it needs no secret", async () => {
    const response = await call("/health", { base: started.worker.url });
    expect(response.status).toBe(200);
  });
});

describe("with a BETTER_AUTH_SECRET under 32 characters", () => {
  let started: Started;
  const shortSecret = "x".repeat(31);
  beforeAll(async () => {
    started = await start({ BETTER_AUTH_SECRET: shortSecret }, true);
  });
  afterAll(() => started.worker.stop());

  it("refuses to verify tokens and names the setting, even for a token signed with it", async () => {
    const user = newUser();
    const response = await call(`/api/${user}/tasks`, { base: started.worker.url, token: await tokenFor(user, { secret: shortSecret }) });
    const body = await expectProblem(response, "configuration_error");
    expect(body.detail).toContain("BETTER_AUTH_SECRET");
    expect(body.detail).toContain("32");
    expect(body.detail).not.toContain(shortSecret);
  });
});

describe("without a HYPERDRIVE binding", () => {
  let started: Started;
  beforeAll(async () => {
    started = await start({ BETTER_AUTH_SECRET: TEST_SECRET }, false);
  });
  afterAll(() => started.worker.stop());

  it("answers API calls with a 500 problem naming HYPERDRIVE", async () => {
    const response = await listAs(started.worker.url);
    expect((await expectProblem(response, "configuration_error")).detail).toContain("HYPERDRIVE");
  });

  it("answers /health with a 500 problem naming HYPERDRIVE", async () => {
    const response = await call("/health", { base: started.worker.url });
    expect((await expectProblem(response, "configuration_error")).detail).toContain("HYPERDRIVE");
  });

  it("still checks the token first: a request without one is 401, not 500", async () => {
    const response = await call(`/api/${newUser()}/tasks`, { base: started.worker.url, token: null });
    await expectProblem(response, "token_missing");
  });
});

describe("with JWT_MAX_TOKEN_LIFETIME", () => {
  const HOUR = 60 * 60;

  it("accepts tokens up to that lifetime and refuses longer ones, naming it: 1h", async () => {
    const started = await start({ BETTER_AUTH_SECRET: TEST_SECRET, JWT_MAX_TOKEN_LIFETIME: "1h" }, true);
    try {
      const user = newUser();
      const list = (token: string) => call(`/api/${user}/tasks`, { base: started.worker.url, token });
      expect((await list(await tokenFor(user, { expiresIn: HOUR }))).status).toBe(200);
      const refused = await expectProblem(await list(await tokenFor(user, { expiresIn: 2 * HOUR })), "token_invalid");
      expect(refused.detail).toBe("the token is invalid: its lifetime is longer than 1 hour");
      // iat may be at most that long ago, too (7 days without the setting).
      await expectProblem(await list(await tokenFor(user, { issuedAt: -2 * HOUR, expiresIn: 60 })), "token_invalid");
    } finally {
      await started.worker.stop();
    }
  });

  it.each(["soon", "0", "400d", "30s"])("answers a 500 naming the setting for %j", async (value) => {
    const started = await start({ BETTER_AUTH_SECRET: TEST_SECRET, JWT_MAX_TOKEN_LIFETIME: value }, true);
    try {
      const body = await expectProblem(await listAs(started.worker.url), "configuration_error");
      expect(body.detail).toContain("JWT_MAX_TOKEN_LIFETIME");
      // The rest of the Worker keeps working.
      expect((await call("/health", { base: started.worker.url })).status).toBe(200);
    } finally {
      await started.worker.stop();
    }
  });
});

// Interop with the real Better Auth: a user signs up through Better Auth's HTTP API, the frontend
// takes a token from /api/auth/token (EdDSA, verified by the Worker with Better Auth's JWKS) or
// mints an HS256 one with the shared secret, and the Worker accepts exactly that user's calls.
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, expectProblem } from "./support/api.ts";
import { type BetterAuthServer, startBetterAuth } from "./support/better-auth.ts";
import { connect } from "./support/mcp.ts";
import { startTestWorker } from "./support/transport.ts";

const SECRET = "better-auth-interop-secret-of-more-than-32-characters";

let betterAuth: BetterAuthServer;
let worker: RunningWorker;

beforeAll(async () => {
  betterAuth = await startBetterAuth(inject("databaseUrl"), SECRET);
  worker = await startTestWorker({
    bindings: { BETTER_AUTH_SECRET: SECRET, BETTER_AUTH_URL: betterAuth.url },
  });
});

afterAll(async () => {
  await worker?.stop();
  await betterAuth?.stop();
});

const tasksOf = (user: string) => `/api/${encodeURIComponent(user)}/tasks`;

/** Creates a task with `token` on `user`'s path, then lists them: the token opens that user's tasks. */
async function expectOwnTasks(user: string, token: string): Promise<void> {
  const created = await call(tasksOf(user), { base: worker.url, token, method: "POST", body: { title: "from better auth" } });
  expect(created.status).toBe(201);
  expect(await created.json()).toMatchObject({ user_id: user, title: "from better auth" });
  const listed = await call(tasksOf(user), { base: worker.url, token });
  expect(listed.status).toBe(200);
  expect(await listed.json()).toMatchObject([{ user_id: user, title: "from better auth" }]);
}

async function expectExpired(response: Response): Promise<void> {
  await expectProblem(response, "token_invalid");
  expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="tasks", error="invalid_token"');
}

describe("a token from Better Auth's JWT plugin (/api/auth/token, verified with its JWKS)", () => {
  it("is what Better Auth issues by default: EdDSA with a kid, iss and aud its base URL, 15 minutes", async () => {
    const { userId, cookie } = await betterAuth.signUp();
    const token = await betterAuth.token(cookie);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "EdDSA", kid: expect.any(String) });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: userId, iss: betterAuth.url, aud: betterAuth.url });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(15 * 60);
  });

  it("opens that user's tasks", async () => {
    const { userId, cookie } = await betterAuth.signUp();
    await expectOwnTasks(userId, await betterAuth.token(cookie));
  });

  it("is a 403 on another user's path, and creates nothing there", async () => {
    const owner = await betterAuth.signUp();
    const intruder = await betterAuth.signUp();
    const token = await betterAuth.token(intruder.cookie);
    await expectProblem(await call(tasksOf(owner.userId), { base: worker.url, token }), "forbidden");
    const planted = await call(tasksOf(owner.userId), { base: worker.url, token, method: "POST", body: { title: "planted" } });
    await expectProblem(planted, "forbidden");
    const listed = await call(tasksOf(owner.userId), { base: worker.url, token: await betterAuth.token(owner.cookie) });
    expect(await listed.json()).toEqual([]);
  });

  it("is a 401 once expired (signed by Better Auth with its key, exp beyond the 60 s skew)", async () => {
    const { userId } = await betterAuth.signUp();
    const now = Math.floor(Date.now() / 1000);
    const expired = await betterAuth.sign({ sub: userId, iat: now - 16 * 60, exp: now - 61 - 30 });
    expect(decodeProtectedHeader(expired).alg).toBe("EdDSA");
    await expectExpired(await call(tasksOf(userId), { base: worker.url, token: expired }));
    // The same key and claims, not yet expired, are accepted: only exp made the difference.
    const fresh = await betterAuth.sign({ sub: userId, iat: now, exp: now + 60 });
    expect(decodeProtectedHeader(fresh).kid).toBe(decodeProtectedHeader(expired).kid);
    expect((await call(tasksOf(userId), { base: worker.url, token: fresh })).status).toBe(200);
  });
});

describe("an HS256 token minted by a frontend with BETTER_AUTH_SECRET", () => {
  /** What a frontend's server does: read the Better Auth session, sign its user id with the secret. */
  async function mint(cookie: string, expiresAt: number | string = "15m"): Promise<{ userId: string; token: string }> {
    const response = await fetch(`${betterAuth.url}/api/auth/get-session`, { headers: { Cookie: cookie } });
    const session = (await response.json()) as { user: { id: string; email: string } };
    const token = await new SignJWT({ email: session.user.email })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(session.user.id)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(new TextEncoder().encode(SECRET));
    return { userId: session.user.id, token };
  }

  it("opens that user's tasks (no iss or aud needed)", async () => {
    const { userId, token } = await mint((await betterAuth.signUp()).cookie);
    await expectOwnTasks(userId, token);
  });

  it("is a 403 on another user's path", async () => {
    const owner = await betterAuth.signUp();
    const { token } = await mint((await betterAuth.signUp()).cookie);
    await expectProblem(await call(tasksOf(owner.userId), { base: worker.url, token }), "forbidden");
  });

  it("is a 401 once expired", async () => {
    const { userId, token } = await mint((await betterAuth.signUp()).cookie, Math.floor(Date.now() / 1000) - 90);
    await expectExpired(await call(tasksOf(userId), { base: worker.url, token }));
  });
});

describe("/mcp with Better Auth (1.7 has no MCP or OIDC provider plugin: its JWT plugin's tokens)", () => {
  it("an MCP client with the token Better Auth issued manages that user's tasks, and nobody else's", async () => {
    const { userId, cookie } = await betterAuth.signUp();
    const token = await betterAuth.token(cookie);
    const mcp = await connect(userId, { base: worker.url, token });
    try {
      const added = await mcp.callTool({ name: "add_task", arguments: { title: "from an agent" } });
      expect(added.structuredContent).toMatchObject({ task: { user_id: userId, title: "from an agent" } });
      const listed = await call(tasksOf(userId), { base: worker.url, token });
      expect(await listed.json()).toMatchObject([{ user_id: userId, title: "from an agent" }]);
      const other = await betterAuth.signUp();
      const othersTask = await call(tasksOf(other.userId), {
        base: worker.url,
        token: await betterAuth.token(other.cookie),
        method: "POST",
        body: { title: "not the agent's" },
      });
      const { id } = (await othersTask.json()) as { id: number };
      const refused = await mcp.callTool({ name: "get_task", arguments: { id } });
      expect(refused).toMatchObject({ isError: true, structuredContent: { problem: { code: "task_not_found" } } });
    } finally {
      await mcp.close();
    }
  });

  it("the protected resource metadata names Better Auth as the authorization server, and a 401 points at it", async () => {
    const metadata = await fetch(`${worker.url}/.well-known/oauth-protected-resource/mcp`);
    expect(await metadata.json()).toMatchObject({ resource: `${worker.url}/mcp`, authorization_servers: [betterAuth.url] });
    const refused = await fetch(`${worker.url}/mcp`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("WWW-Authenticate")).toContain(`resource_metadata="${worker.url}/.well-known/oauth-protected-resource/mcp"`);
  });
});

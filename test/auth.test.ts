// Authentication and ownership (API.md "Authentication and ownership"): which bearer tokens open
// /api/{user_id}/..., which are a 401 with an RFC 6750 challenge, and when a valid token is a 403.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, createTask, expectProblem, newUser, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { startTestWorker } from "./support/transport.ts";

const DAY = 24 * 60 * 60;
const ISSUER = "https://auth.example.com";
const AUDIENCE = "https://app.example.com";

/** A 401 for a request that carried no bearer token: a plain Bearer challenge, no error code. */
async function expectNoTokenChallenge(response: Response): Promise<void> {
  await expectProblem(response, "token_missing");
  expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="tasks"');
}

/** A 401 for a request whose bearer token was rejected: error="invalid_token" (RFC 6750 §3.1). */
async function expectInvalidToken(response: Response): Promise<void> {
  await expectProblem(response, "token_invalid");
  // Fixed text: nothing of the token (its alg, its claims) is echoed into a header.
  expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="tasks", error="invalid_token"');
}

/** A 200 list for the token's owner: the token was accepted. */
async function expectAccepted(response: Response): Promise<void> {
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${await response.text()}`);
  expect(Array.isArray(await response.json())).toBe(true);
}

const list = (user: string, token: string | null, base?: string) =>
  call(`/api/${encodeURIComponent(user)}/tasks`, { token, ...(base === undefined ? {} : { base }) });

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An unsecured JWT (RFC 7519 §6): alg "none" and an empty signature. */
function unsecuredToken(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  return `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ sub, iat: now, exp: now + 3600 })}.`;
}

/** `token` with its payload's sub replaced and the original signature kept. */
function withSubject(token: string, sub: string): string {
  const [header, payload, signature] = token.split(".");
  if (header === undefined || payload === undefined || signature === undefined) throw new Error(`not a JWS: ${token}`);
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  return `${header}.${base64url({ ...claims, sub })}.${signature}`;
}

describe("a request without a bearer token", () => {
  it("is a 401 with a Bearer challenge and no error code when there is no Authorization header", async () => {
    await expectNoTokenChallenge(await list(newUser(), null));
  });

  it("is a 401 with a Bearer challenge for a Basic Authorization header", async () => {
    const user = newUser();
    const response = await call(`/api/${user}/tasks`, {
      token: null,
      headers: { Authorization: `Basic ${Buffer.from(`${user}:password`).toString("base64")}` },
    });
    await expectProblem(response, "token_missing");
    expect(response.headers.get("WWW-Authenticate") ?? "").toMatch(/^Bearer\b/);
  });

  it("is a 401 for the Bearer scheme with no token after it", async () => {
    const user = newUser();
    const response = await call(`/api/${user}/tasks`, { token: null, headers: { Authorization: "Bearer " } });
    await expectProblem(response, "token_missing");
    expect(response.headers.get("WWW-Authenticate") ?? "").toMatch(/^Bearer\b/);
  });
});

describe("a bearer token that is rejected with 401 invalid_token", () => {
  it("rejects a string that is not a JWT", async () => {
    await expectInvalidToken(await list(newUser(), "not-a-jwt"));
  });

  it("rejects a token signed with another secret", async () => {
    const user = newUser();
    await expectInvalidToken(await list(user, await tokenFor(user, { secret: `${TEST_SECRET}-but-another-one` })));
  });

  it("rejects a token signed with HS512, since only HS256 is allowed", async () => {
    const user = newUser();
    await expectInvalidToken(await list(user, await tokenFor(user, { alg: "HS512" })));
  });

  it("rejects a token signed with HS384, since only HS256 is allowed", async () => {
    const user = newUser();
    await expectInvalidToken(await list(user, await tokenFor(user, { alg: "HS384" })));
  });

  it('rejects an unsecured token with alg "none" and an empty signature', async () => {
    const user = newUser();
    await expectInvalidToken(await list(user, unsecuredToken(user)));
  });

  it("rejects a token whose payload was changed to another sub while keeping the signature", async () => {
    const victim = newUser();
    const forged = withSubject(await tokenFor(newUser()), victim);
    await expectInvalidToken(await list(victim, forged));
  });

  it("rejects a token that expired more than 60 seconds ago", async () => {
    const user = newUser();
    await expectInvalidToken(await list(user, await tokenFor(user, { expiresIn: -90 })));
  });

  it("rejects a token without an exp claim", async () => {
    const user = newUser();
    await expectInvalidToken(await list(user, await tokenFor(user, { expiresIn: null })));
  });

  it("rejects a token whose nbf is more than 60 seconds in the future", async () => {
    const user = newUser();
    await expectInvalidToken(await list(user, await tokenFor(user, { notBefore: 90 })));
  });

  it("rejects a token without a sub claim", async () => {
    await expectInvalidToken(await list(newUser(), await tokenFor(undefined)));
  });

  it("rejects a token whose sub is the empty string", async () => {
    await expectInvalidToken(await list(newUser(), await tokenFor("")));
  });

  it("rejects a token whose sub is not a string, even when its digits match the path", async () => {
    const numeric = Date.now() * 1000 + Math.floor(Math.random() * 1000);
    await expectInvalidToken(await list(String(numeric), await tokenFor(undefined, { claims: { sub: numeric } })));
  });

  it("rejects a token whose iat is not a number, with a challenge that stays a valid RFC 6750 header", async () => {
    const user = newUser();
    const response = await list(user, await tokenFor(user, { issuedAt: null, claims: { iat: "yesterday" } }));
    const challenge = response.headers.get("WWW-Authenticate") ?? "";
    // auth-params are token="quoted string" where error_description may not hold '"' or '\\'.
    expect(challenge).toMatch(/^Bearer( [a-z_]+="[\x20\x21\x23-\x5B\x5D-\x7E]*")(, [a-z_]+="[\x20\x21\x23-\x5B\x5D-\x7E]*")*$/);
    await expectInvalidToken(response);
  });

  it("rejects a token whose sub contains a NUL character instead of failing with 500", async () => {
    const user = `${newUser()}\u0000x`;
    await expectInvalidToken(await list(user, await tokenFor(user)));
  });

  it("rejects a token whose sub holds a lone surrogate instead of failing with 500", async () => {
    // Its path cannot be percent-encoded (encodeURIComponent throws), so the path names another user:
    // the token must be refused before ownership is compared.
    await expectInvalidToken(await list(newUser(), await tokenFor(`${newUser()}\ud800`)));
  });

  it("rejects a token issued more than 7 days and 60 seconds ago", async () => {
    const user = newUser();
    await expectInvalidToken(await list(user, await tokenFor(user, { issuedAt: -(7 * DAY + 90) })));
  });

  it("rejects a token issued more than 60 seconds in the future, and accepts one 30 seconds ahead", async () => {
    const user = newUser();
    await expectInvalidToken(await list(user, await tokenFor(user, { issuedAt: 120 })));
    await expectAccepted(await list(user, await tokenFor(user, { issuedAt: 30 })));
  });

  it("rejects a sub of 256 characters on every route, with 401 and not a 500, and accepts one of 255", async () => {
    const long = `u${"x".repeat(255)}`;
    const token = await tokenFor(long);
    const path = `/api/${long}`;
    for (const [method, route, body] of [
      ["GET", `${path}/tasks`, undefined],
      ["POST", `${path}/tasks`, { title: "too long an owner" }],
      ["GET", `${path}/tasks/1`, undefined],
      ["PUT", `${path}/tasks/1`, { title: "x" }],
      ["PATCH", `${path}/tasks/1`, { title: "x" }],
      ["DELETE", `${path}/tasks/1`, undefined],
      ["PATCH", `${path}/tasks/1/complete`, undefined],
    ] as const) {
      await expectInvalidToken(await call(route, { method, token, ...(body === undefined ? {} : { body }) }));
    }
    const exact = `u${"x".repeat(254)}`;
    const created = await call(`/api/${exact}/tasks`, { method: "POST", token: await tokenFor(exact), body: { title: "fits" } });
    expect(created.status).toBe(201);
  });

  it("rejects a sub of 3,000 characters on a create with 401 (it once made a 500: an index row too large)", async () => {
    const huge = "y".repeat(3000);
    const response = await call(`/api/${huge}/tasks`, { method: "POST", token: await tokenFor(huge), body: { title: "t" } });
    await expectInvalidToken(response);
  });

  it("echoes nothing of a token into headers: a 20,000-character alg and a non-ASCII alg give the fixed challenge and a short body", async () => {
    const user = newUser();
    const [, payload, signature] = (await tokenFor(user)).split(".");
    for (const alg of ["A".repeat(20_000), "HS256\u00e9\u4e2d", "ES256\r\nX-Injected: 1"]) {
      const header = base64url({ alg, typ: "JWT" });
      const response = await list(user, `${header}.${payload}.${signature}`);
      const text = await response.clone().text();
      await expectInvalidToken(response);
      expect(response.headers.get("X-Injected")).toBeNull();
      expect(text.length).toBeLessThan(1_000);
      expect(text).not.toContain("AAAA");
      expect(text).not.toContain("\u00e9");
    }
  });
});

describe("a bearer token that is accepted", () => {
  it("accepts a token that expired 30 seconds ago, within the 60 second clock skew", async () => {
    const user = newUser();
    await expectAccepted(await list(user, await tokenFor(user, { expiresIn: -30 })));
  });

  it("accepts a token whose nbf is 30 seconds in the future, within the clock skew", async () => {
    const user = newUser();
    await expectAccepted(await list(user, await tokenFor(user, { notBefore: 30 })));
  });

  it("accepts a token whose nbf is in the past", async () => {
    const user = newUser();
    await expectAccepted(await list(user, await tokenFor(user, { notBefore: -30 })));
  });

  it("accepts a token without an iat claim", async () => {
    const user = newUser();
    await expectAccepted(await list(user, await tokenFor(user, { issuedAt: null })));
  });

  it("accepts a token issued 6 days ago", async () => {
    const user = newUser();
    await expectAccepted(await list(user, await tokenFor(user, { issuedAt: -6 * DAY })));
  });

  it('accepts the scheme name in lower case ("bearer")', async () => {
    const user = newUser();
    const response = await call(`/api/${user}/tasks`, { token: null, headers: { Authorization: `bearer ${await tokenFor(user)}` } });
    await expectAccepted(response);
  });

  it("accepts any iss and aud when JWT_ISSUER and JWT_AUDIENCE are not set", async () => {
    const user = newUser();
    await expectAccepted(await list(user, await tokenFor(user, { issuer: "https://anyone.example.net", audience: "whatever" })));
  });
});

describe("ownership of /api/{user_id}", () => {
  it("answers 403 to a valid token for another user", async () => {
    const owner = newUser();
    const response = await list(owner, await tokenFor(newUser()));
    await expectProblem(response, "forbidden");
    expect(response.headers.get("WWW-Authenticate")).toBeNull();
  });

  it("answers 403 on another user's single task, and leaves it untouched", async () => {
    const owner = newUser();
    const task = await createTask(owner);
    const intruder = await tokenFor(newUser());
    await expectProblem(await call(`/api/${owner}/tasks/${task.id}`, { token: intruder }), "forbidden");
    await expectProblem(await call(`/api/${owner}/tasks/${task.id}`, { method: "DELETE", token: intruder }), "forbidden");
    const after = await call(`/api/${owner}/tasks/${task.id}`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ id: task.id, version: task.version });
  });

  it("answers 401, not 403, to a bad token for another user", async () => {
    const owner = newUser();
    await expectInvalidToken(await list(owner, await tokenFor(newUser(), { expiresIn: -3600 })));
    await expectInvalidToken(await list(owner, await tokenFor(newUser(), { secret: `${TEST_SECRET}-but-another-one` })));
  });

  it("answers 401, not 403, to no token at all on another user's path", async () => {
    await expectNoTokenChallenge(await list(newUser(), null));
  });

  it("compares the path's user id after percent-decoding: an email-like sub", async () => {
    const user = `${newUser()}@example.com`;
    const token = await tokenFor(user);
    const created = await call(`/api/${encodeURIComponent(user)}/tasks`, { method: "POST", token, body: { title: "mine" } });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ user_id: user, title: "mine" });
    const listed = await list(user, token);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject([{ user_id: user, title: "mine" }]);
  });

  it("compares the path's user id after percent-decoding: a sub with a space", async () => {
    const user = `${newUser()} smith`;
    const token = await tokenFor(user);
    const created = await call(`/api/${encodeURIComponent(user)}/tasks`, { method: "POST", token, body: { title: "spaced" } });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ user_id: user });
    const listed = await list(user, token);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject([{ user_id: user }]);
  });

  it("compares the path's user id with the subject exactly: a token for user_x may not read /api/USER_X", async () => {
    const user = `user_x_${crypto.randomUUID()}`;
    const token = await tokenFor(user);
    await createTask(user, { title: "lower" });
    const shouted = user.toUpperCase();
    await expectProblem(await list(shouted, token), "forbidden");
    await expectProblem(await call(`/api/${shouted}/tasks`, { method: "POST", token, body: { title: "planted" } }), "forbidden");
    const owner = await list(user, token);
    expect((await owner.json()) as unknown[]).toHaveLength(1);
  });

  it("percent-decodes the path exactly once", async () => {
    const literal = `${newUser()}%40example.com`; // a sub that really contains "%40"
    await expectAccepted(await list(literal, await tokenFor(literal)));
    // The path of literal, decoded twice, would be this user; it must not be let in.
    const decodedTwice = decodeURIComponent(literal);
    await expectProblem(await list(literal, await tokenFor(decodedTwice)), "forbidden");
  });
});

describe("a rejected request", () => {
  it("creates nothing when the token is bad", async () => {
    const user = newUser();
    const badTokens = [
      "not-a-jwt",
      await tokenFor(user, { secret: `${TEST_SECRET}-but-another-one` }),
      await tokenFor(user, { expiresIn: -3600 }),
      unsecuredToken(user),
    ];
    for (const token of badTokens) {
      const response = await call(`/api/${user}/tasks`, { method: "POST", token, body: { title: "should not exist" } });
      await expectInvalidToken(response);
    }
    const response = await call(`/api/${user}/tasks`, { method: "POST", token: null, body: { title: "should not exist" } });
    await expectNoTokenChallenge(response);
    const listed = await list(user, await tokenFor(user));
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual([]);
  });

  it("creates nothing when the token belongs to another user", async () => {
    const owner = newUser();
    const intruder = newUser();
    const response = await call(`/api/${owner}/tasks`, { method: "POST", token: await tokenFor(intruder), body: { title: "planted" } });
    await expectProblem(response, "forbidden");
    for (const user of [owner, intruder]) {
      const listed = await list(user, await tokenFor(user));
      expect(listed.status).toBe(200);
      expect(await listed.json()).toEqual([]);
    }
  });
});

describe("with JWT_ISSUER and JWT_AUDIENCE set", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startTestWorker({
      bindings: { BETTER_AUTH_SECRET: TEST_SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE },
    });
  });
  afterAll(() => worker?.stop());

  const listOn = (user: string, token: string) => list(user, token, worker.url);

  it("accepts a token with the right iss and aud", async () => {
    const user = newUser();
    await expectAccepted(await listOn(user, await tokenFor(user, { issuer: ISSUER, audience: AUDIENCE })));
  });

  it("accepts a token whose aud is an array containing the configured audience", async () => {
    const user = newUser();
    const token = await tokenFor(user, { issuer: ISSUER, claims: { aud: ["https://other.example.com", AUDIENCE] } });
    await expectAccepted(await listOn(user, token));
  });

  it("rejects a token with the wrong iss", async () => {
    const user = newUser();
    await expectInvalidToken(await listOn(user, await tokenFor(user, { issuer: "https://evil.example.com", audience: AUDIENCE })));
  });

  it("rejects a token without iss", async () => {
    const user = newUser();
    await expectInvalidToken(await listOn(user, await tokenFor(user, { audience: AUDIENCE })));
  });

  it("rejects a token with the wrong aud", async () => {
    const user = newUser();
    await expectInvalidToken(await listOn(user, await tokenFor(user, { issuer: ISSUER, audience: "https://evil.example.com" })));
  });

  it("rejects a token without aud", async () => {
    const user = newUser();
    await expectInvalidToken(await listOn(user, await tokenFor(user, { issuer: ISSUER })));
  });
});

describe("the token's lifetime: at most 7 days by default (JWT_MAX_TOKEN_LIFETIME)", () => {
  /** The token's detail, after checking it is a 401 invalid_token. */
  const refusal = async (response: Response) => {
    const body = await expectProblem(response.clone(), "token_invalid");
    await expectInvalidToken(response);
    return body.detail;
  };

  it("accepts a 7-day token as npm run token mints it, exp exactly 7 days after iat, and one a second longer (two clock reads)", async () => {
    const user = newUser();
    await expectAccepted(await list(user, await tokenFor(user, { expiresIn: 7 * DAY })));
    await expectAccepted(await list(user, await tokenFor(user, { expiresIn: 7 * DAY + 1 })));
  });

  it("accepts a token without iat whose exp is 7 days ahead, or 7 days and 30 seconds (within the clock skew)", async () => {
    const user = newUser();
    await expectAccepted(await list(user, await tokenFor(user, { issuedAt: null, expiresIn: 7 * DAY })));
    await expectAccepted(await list(user, await tokenFor(user, { issuedAt: null, expiresIn: 7 * DAY + 30 })));
  });

  it("refuses a token without iat whose exp is more than 7 days and 60 seconds ahead, saying why", async () => {
    const user = newUser();
    const detail = await refusal(await list(user, await tokenFor(user, { issuedAt: null, expiresIn: 7 * DAY + 120 })));
    expect(detail).toBe("the token is invalid: its lifetime is longer than 7 days");
  });

  it("refuses a token issued now whose exp is more than 7 days and 60 seconds ahead", async () => {
    const user = newUser();
    await refusal(await list(user, await tokenFor(user, { expiresIn: 7 * DAY + 120 })));
  });

  it("refuses a token whose exp is more than 7 days after its iat, even when that exp is less than 7 days from now", async () => {
    const user = newUser();
    const detail = await refusal(await list(user, await tokenFor(user, { issuedAt: -DAY, expiresIn: 6 * DAY + 120 })));
    expect(detail).toBe("the token is invalid: its lifetime is longer than 7 days");
    // The same token with its exp 7 days after its iat is fine.
    await expectAccepted(await list(user, await tokenFor(user, { issuedAt: -DAY, expiresIn: 6 * DAY })));
  });

  it("refuses far-future exps with 401 on every route, never a 500: year 2200, 10^12 s, the largest safe integer", async () => {
    const user = newUser();
    const task = await createTask(user);
    for (const exp of [7_258_118_400, 1e12, Number.MAX_SAFE_INTEGER]) {
      for (const issuedAt of [0, null]) {
        const token = await tokenFor(user, { issuedAt, expiresIn: null, claims: { exp } });
        for (const [method, path, body] of [
          ["GET", `/api/${user}/tasks`, undefined],
          ["POST", `/api/${user}/tasks`, { title: "forever" }],
          ["PATCH", `/api/${user}/tasks/${task.id}`, { title: "forever" }],
          ["GET", `/api/${user}/changes`, undefined],
        ] as const) {
          await refusal(await call(path, { method, token, ...(body === undefined ? {} : { body }) }));
        }
      }
    }
  });
});

// Property-based fuzzing (fast-check, fixed seed, bounded runs) of everything a client controls:
// bodies, query strings, path segments, headers and tokens. Whatever is sent: never a 5xx, every
// error is problem+json carrying its status, the status is one the contract allows for that
// input, and a rejected write leaves the user's rows (tasks and idempotency keys) untouched.
// Every response also goes through the OpenAPI check of `call`.

import { createHmac } from "node:crypto";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { call, createTask, expectSomeProblem, newUser, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";

const SEED = 20_261_124;
const RUNS = 60;
const settings = { seed: SEED, numRuns: RUNS, endOnFailure: true };

let db: pg.Client;
beforeAll(async () => {
  db = new pg.Client({ connectionString: inject("databaseUrl") });
  await db.connect();
});
afterAll(() => db.end());

/** Everything stored for a user, as one hash: equal before and after means nothing changed. */
async function fingerprint(user: string): Promise<string> {
  const { rows } = await db.query<{ tasks: string; keys: string }>(
    `SELECT (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM tasks t WHERE user_id = $1) AS tasks,
            (SELECT md5(coalesce(string_agg(k::text, '|' ORDER BY key), '')) FROM idempotency_keys k WHERE user_id = $1) AS keys`,
    [user],
  );
  return `${rows[0]?.tasks}/${rows[0]?.keys}`;
}

/** The response is one of `allowed`; an error is a problem+json; a rejected request changed nothing. */
async function expectOutcome(response: Response, allowed: number[], unchanged: () => Promise<void>): Promise<void> {
  const text = await response.clone().text();
  expect(response.status, text).toBeLessThan(500);
  expect(allowed, `${response.status} ${text}`).toContain(response.status);
  if (response.status >= 400) {
    await expectSomeProblem(response);
    await unchanged();
  }
}

// Strings of every kind: ASCII, any code point (lone surrogates included), and long ones.
const anyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.string({ unit: fc.constantFrom("\u0000", "\uD800", "\uFEFF", "%", "'", '"', "\\", "\n", " ", "😀", "a"), maxLength: 30 }),
  fc.string({ minLength: 190, maxLength: 300 }),
);
const TIMESTAMPS = [
  "2026-12-01T17:00:00Z",
  "2026-12-01T17:00:00+01:00",
  "2026-02-30T00:00:00Z",
  "2026-12-01",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999999999Z",
];
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  anyString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, "", " ", "low", "medium", "high", ...TIMESTAMPS),
  fc.array(anyString, { maxLength: 12 }),
);
const WRITABLE = ["title", "description", "completed", "priority", "tags", "due_date"];
const READ_ONLY = ["id", "user_id", "version", "created_at", "updated_at", "completed_at"];
const taskLike = fc.dictionary(fc.oneof(fc.constantFrom(...WRITABLE, ...READ_ONLY), anyString), fieldValue, { maxKeys: 7 });
/** A task body that may be valid: a plausible title plus some fields. */
const plausible = fc
  .record({ title: fc.string({ minLength: 1, maxLength: 40 }) })
  .chain((base) => fc.dictionary(fc.constantFrom(...WRITABLE), fieldValue, { maxKeys: 3 }).map((extra) => ({ ...extra, ...base })));
const anyBody = fc.oneof(
  { weight: 3, arbitrary: plausible.map((body) => JSON.stringify(body)) },
  { weight: 3, arbitrary: taskLike.map((body) => JSON.stringify(body)) },
  { weight: 1, arbitrary: fc.jsonValue().map((body) => JSON.stringify(body)) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
);

describe("fuzzed bodies", () => {
  it("POST, PUT, PATCH and /complete: 2xx or 400/415/422, and a rejected write changes nothing", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const task = await createTask(user, { title: "the target" });
    const targets = [
      { method: "POST", path: `/api/${user}/tasks`, ok: 201 },
      { method: "PUT", path: `/api/${user}/tasks/${task.id}`, ok: 200 },
      { method: "PATCH", path: `/api/${user}/tasks/${task.id}`, ok: 200 },
      { method: "PATCH", path: `/api/${user}/tasks/${task.id}/complete`, ok: 200 },
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), anyBody, async (target, body) => {
        const before = await fingerprint(user);
        const response = await call(target.path, { method: target.method, token, body });
        await expectOutcome(response, [target.ok, 400, 415, 422], async () => expect(await fingerprint(user)).toBe(before));
      }),
      settings,
    );
  });
});

describe("fuzzed query strings", () => {
  const KNOWN = ["status", "priority", "tag", "q", "due_before", "due_after", "sort", "limit", "cursor"];
  const VALUES = ["all", "pending", "completed", "low", "high", "-due_date", "title", "0", "1", "1000", "1001", "-1", "1e2", ...TIMESTAMPS];
  const pair = fc.tuple(
    fc.oneof(fc.constantFrom(...KNOWN), anyString),
    fc.oneof(fc.constantFrom(...VALUES), anyString, fc.base64String({ maxLength: 60 })),
  );
  // Either properly encoded, or raw text with stray % sequences the server must decode leniently.
  const query = fc.oneof(
    fc.array(pair, { maxLength: 4 }).map((pairs) => new URLSearchParams(pairs).toString()),
    fc.array(pair, { maxLength: 4 }).map((pairs) => pairs.map(([key, value]) => `${key}=${value}`.replace(/[#\s]/g, "%")).join("&")),
  );

  it("GET /tasks answers 200 or a 422 problem", async () => {
    const user = newUser();
    await createTask(user, { title: "listed" });
    const token = await tokenFor(user);
    await fc.assert(
      fc.asyncProperty(query, async (search) => {
        const response = await call(`/api/${user}/tasks?${search}`, { token });
        await expectOutcome(response, [200, 422], async () => {});
        if (response.status === 200) expect(Array.isArray(await response.json())).toBe(true);
      }),
      settings,
    );
  });

  // Object.prototype's names ("__proto__", "constructor", "toString", …) are the client's names
  // like any other: an unknown parameter, never taken for one already given.
  const PROTOTYPE_NAMES = [...Object.getOwnPropertyNames(Object.prototype), "prototype"];
  const named = (known: string[]) =>
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.constantFrom(...known), anyString), fc.constantFrom(...VALUES)), {
        maxLength: 4,
      })
      .map((pairs) => new URLSearchParams(pairs).toString());

  it("every query route: a name Object.prototype has is an unknown parameter, never a repeat, never a 5xx", async () => {
    const user = newUser();
    const task = await createTask(user, {
      title: "t",
      due_date: "2030-01-07T09:00:00Z",
      recurrence: { rule: "FREQ=WEEKLY", time_zone: "UTC" },
    });
    const token = await tokenFor(user);
    const routes: [string, string[]][] = [
      [`/api/${user}/tasks`, KNOWN],
      [`/api/${user}/changes`, ["since", "limit"]],
      [`/api/${user}/tasks/${task.id}/occurrences`, ["limit"]],
    ];
    for (const [route, known] of routes) {
      await fc.assert(
        fc.asyncProperty(named(known), async (search) => {
          const response = await call(`${route}?${search}`, { token });
          const answer = await response.clone().text();
          await expectOutcome(response, [200, 422], async () => {});
          const names = [...new URLSearchParams(search).keys()];
          const times = (name: string) => names.filter((other) => other === name).length;
          if (names.some((name) => PROTOTYPE_NAMES.includes(name) && !known.includes(name))) expect(response.status).toBe(422);
          if (response.status === 422) {
            for (const error of (JSON.parse(answer) as { errors?: { path: string; message: string }[] }).errors ?? []) {
              if (error.message === "must be given at most once") expect(times(error.path), search).toBeGreaterThan(1);
              if (error.message === "is not a known query parameter") expect(known, search).not.toContain(error.path);
            }
          }
        }),
        settings,
      );
    }
  });
});

describe("fuzzed path segments", () => {
  const segment = fc.oneof(
    anyString,
    fc.webSegment(),
    fc.constantFrom("", ".", "..", "%2e%2e", "%2F", "%00", "%zz", "0", "-1", "1e3", "9007199254740993"),
  );
  const encoded = fc.oneof(
    segment.map((text) => encodeURIComponent(text)),
    // Raw, with only what would end the path (? and #) or break the URL escaped.
    segment.map((text) => text.replace(/[?#\\/\s]/g, (c) => encodeURIComponent(c))),
  );

  it("any user and task id segment, any method: never a 5xx, never another user's data", async () => {
    const owner = newUser();
    await createTask(owner, { title: "owned" });
    await fc.assert(
      fc.asyncProperty(
        encoded,
        fc.option(encoded, { nil: undefined }),
        fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
        fc.boolean(),
        async (userSegment, idSegment, method, ownToken) => {
          let pathUser: string | undefined;
          try {
            pathUser = decodeURIComponent(userSegment);
          } catch {
            pathUser = undefined;
          }
          const sub = ownToken && pathUser ? pathUser : owner;
          const before = await fingerprint(owner);
          const path = `/api/${userSegment}/tasks${idSegment === undefined ? "" : `/${idSegment}`}`;
          const response = await call(path, {
            method,
            token: await tokenFor(sub),
            ...(method === "GET" || method === "DELETE" || method === "OPTIONS" ? {} : { body: { title: "fuzz" } }),
          });
          await expectOutcome(response, [200, 201, 204, 400, 401, 403, 404, 405, 415, 422], async () => {
            expect(await fingerprint(owner)).toBe(before);
          });
          // The owner's rows only ever change through the owner's own token.
          if (sub !== owner) expect(await fingerprint(owner)).toBe(before);
          if (response.status < 300 && method !== "OPTIONS") expect(pathUser).toBe(sub);
        },
      ),
      settings,
    );
  });
});

describe("fuzzed headers", () => {
  const headerValue = fc.oneof(
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 80 }),
    fc.constantFrom(
      '"1"',
      'W/"1"',
      "*",
      '"v1"',
      "application/json",
      "application/json; charset=utf-16",
      "text/plain",
      "application/merge-patch+json",
    ),
    fc.string({ unit: fc.constantFrom("a", "-", ".", ":", "_", "0"), minLength: 100, maxLength: 300 }),
  );
  const headers = fc.dictionary(
    fc.constantFrom(
      "If-Match",
      "If-None-Match",
      "Idempotency-Key",
      "Content-Type",
      "X-Request-Id",
      "Accept",
      "Origin",
      "Prefer",
      "Accept-Encoding",
    ),
    headerValue,
    { maxKeys: 4 },
  );

  it("conditional, idempotency, content and id headers: never a 5xx, a rejected write changes nothing", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const task = await createTask(user, { title: "headers" });
    const targets = [
      { method: "GET", path: `/api/${user}/tasks/${task.id}`, allowed: [200, 304] },
      { method: "GET", path: `/api/${user}/tasks`, allowed: [200] },
      { method: "POST", path: `/api/${user}/tasks`, allowed: [201, 409, 415, 422] },
      { method: "PATCH", path: `/api/${user}/tasks/${task.id}`, allowed: [200, 412, 415, 422] },
    ];
    const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), headers, async (target, sent) => {
        const before = await fingerprint(user);
        const write = target.method !== "GET";
        const response = await call(target.path, {
          method: target.method,
          token,
          headers: sent,
          ...(write ? { body: { title: "from headers" } } : {}),
        });
        await expectOutcome(response, target.allowed, async () => expect(await fingerprint(user)).toBe(before));
        const requestId = response.headers.get("X-Request-Id") ?? "";
        const sentId = sent["X-Request-Id"];
        if (sentId !== undefined && SANE_REQUEST_ID.test(sentId)) expect(requestId).toBe(sentId);
        else expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      }),
      settings,
    );
  });
});

describe("fuzzed tokens", () => {
  const b64url = (text: string) => Buffer.from(text).toString("base64url");
  const claim = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.integer(), fc.double(), anyString);
  const now = () => Math.floor(Date.now() / 1000);
  const time = fc.oneof(
    fc.integer({ min: -8 * 86_400, max: 8 * 86_400 }).map((offset) => now() + offset),
    fc.constantFrom(0, -1, 1e20, Number.MAX_SAFE_INTEGER),
    claim,
  );
  const payload = fc.record(
    { sub: fc.oneof(claim, fc.constant("<owner>")), exp: time, nbf: time, iat: time, iss: claim, aud: claim },
    { requiredKeys: [] },
  );
  const header = fc.record(
    {
      alg: fc.constantFrom("HS256", "HS384", "HS512", "none", "RS256", "EdDSA", "ES256", "hs256", ""),
      kid: anyString,
      crit: fc.array(anyString),
      b64: fc.boolean(),
      typ: anyString,
    },
    { requiredKeys: ["alg"] },
  );
  /** A token with a real HS256 signature over fuzzed claims, or a forged or garbled one. */
  const token = fc.oneof(
    payload.map((claims) => ({ kind: "signed" as const, claims })),
    fc.tuple(header, payload, anyString).map(([head, claims, signature]) => ({
      kind: "forged" as const,
      text: `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}.${b64url(signature)}`,
    })),
    fc
      .oneof(
        anyString,
        fc.base64String(),
        fc.array(fc.base64String({ maxLength: 40 }), { minLength: 2, maxLength: 5 }).map((parts) => parts.join(".")),
      )
      .map((text) => ({
        kind: "garbled" as const,
        text,
      })),
  );
  const scheme = fc.constantFrom("Bearer ", "bearer ", "Bearer  ", "Basic ", "", "Bearer\t", "Token ");

  it("answers 200 only for a well-signed token whose sub is the path's user, else 401/403 problems", async () => {
    const owner = newUser();
    await createTask(owner, { title: "guarded" });
    await fc.assert(
      fc.asyncProperty(token, scheme, async (candidate, prefix) => {
        let text: string;
        let sub: unknown;
        if (candidate.kind === "signed") {
          const claims = { ...candidate.claims };
          if (claims.sub === "<owner>") claims.sub = owner;
          sub = claims.sub;
          // Signed by hand: a library would refuse to put some of these claim values in a token.
          const signingInput = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
          text = `${signingInput}.${createHmac("sha256", TEST_SECRET).update(signingInput).digest("base64url")}`;
        } else {
          text = candidate.text;
        }
        const authorization = `${prefix}${text}`.replace(/[^\x20-\x7e\t]/g, "?");
        const response = await call(`/api/${owner}/tasks`, { token: null, headers: { Authorization: authorization } });
        await expectOutcome(response, [200, 401, 403], async () => {});
        if (response.status === 200) expect(sub).toBe(owner);
        if (response.status === 401) expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
        if (response.status === 403) expect(sub).not.toBe(owner);
      }),
      settings,
    );
  });
});

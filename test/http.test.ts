// The HTTP envelope every response shares (API.md "Errors" and "Headers"): request ids, content
// types, caching, 404/405 routing, OPTIONS, CORS and /health.
import { describe, expect, it } from "vitest";
import type { ProblemCode } from "../src/problems.ts";
import { call, createTask, expectProblem, expectSomeProblem, newUser, tokenFor } from "./support/api.ts";
import { ALLOWED_ORIGIN } from "./support/constants.ts";

const JSON_UTF8 = /^application\/json;\s*charset=utf-8$/i;
const PROBLEM_UTF8 = /^application\/problem\+json;\s*charset=utf-8$/i;

/** A comma-separated header as a sorted list of its trimmed, upper-cased items. */
function items(response: Response, name: string): string[] {
  const value = response.headers.get(name);
  if (value === null) return [];
  return value
    .split(",")
    .map((item) => item.trim().toUpperCase())
    .filter((item) => item !== "")
    .sort();
}

function corsHeaderNames(response: Response): string[] {
  return [...response.headers.keys()].filter((name) => name.toLowerCase().startsWith("access-control-"));
}

/** One response of each kind the Worker gives, each labelled for failure messages. */
async function sampleResponses(headers: Record<string, string> = {}): Promise<Array<[string, Response]>> {
  const user = newUser();
  const task = await createTask(user);
  const doomed = await createTask(user);
  return [
    ["GET /health", await call("/health", { headers })],
    ["GET list", await call(`/api/${user}/tasks`, { headers })],
    ["POST create", await call(`/api/${user}/tasks`, { method: "POST", body: { title: "t" }, headers })],
    ["GET task", await call(`/api/${user}/tasks/${task.id}`, { headers })],
    ["DELETE task", await call(`/api/${user}/tasks/${doomed.id}`, { method: "DELETE", headers })],
    ["401", await call(`/api/${user}/tasks`, { token: null, headers })],
    ["403", await call(`/api/${newUser()}/tasks`, { token: null, headers: { ...headers, Authorization: await bearerFor(user) } })],
    ["404 route", await call("/nope", { headers })],
    ["404 task", await call(`/api/${user}/tasks/999999999`, { headers })],
    ["405", await call("/health", { method: "PUT", headers })],
    ["422", await call(`/api/${user}/tasks`, { method: "POST", body: { title: "" }, headers })],
    ["OPTIONS", await call(`/api/${user}/tasks`, { method: "OPTIONS", token: null, headers })],
  ];
}

async function bearerFor(user: string): Promise<string> {
  return `Bearer ${await tokenFor(user)}`;
}

describe("X-Request-Id", () => {
  it("is on every response, generated when the client sent none", async () => {
    for (const [label, response] of await sampleResponses()) {
      expect(response.headers.get("X-Request-Id"), label).toMatch(/^\S+$/);
      await response.body?.cancel();
    }
  });

  it("is a new id for each request when the client sent none", async () => {
    const first = await call("/health");
    const second = await call("/health");
    expect(first.headers.get("X-Request-Id")).toBeTruthy();
    expect(first.headers.get("X-Request-Id")).not.toBe(second.headers.get("X-Request-Id"));
  });

  it("echoes a sane client X-Request-Id on success and error responses", async () => {
    const headers = { "X-Request-Id": "abc-123" };
    for (const [label, response] of await sampleResponses(headers)) {
      expect(response.headers.get("X-Request-Id"), label).toBe("abc-123");
      await response.body?.cancel();
    }
  });

  it("quotes the echoed client X-Request-Id in problem bodies", async () => {
    const response = await call("/nope", { headers: { "X-Request-Id": "abc-123" } });
    expect((await expectProblem(response, "route_not_found")).request_id).toBe("abc-123");
  });

  it("replaces an X-Request-Id of 200 characters with a generated one", async () => {
    const sent = "a".repeat(200);
    const response = await call("/nope", { headers: { "X-Request-Id": sent } });
    const id = response.headers.get("X-Request-Id");
    expect(id).toBeTruthy();
    expect(id).not.toBe(sent);
    expect((await expectProblem(response, "route_not_found")).request_id).toBe(id);
  });

  it("replaces an X-Request-Id with spaces or quotes with a generated one", async () => {
    for (const sent of ["abc 123", '"abc-123"', 'abc"123', "a'b", "<script>"]) {
      const response = await call("/health", { headers: { "X-Request-Id": sent } });
      const id = response.headers.get("X-Request-Id");
      expect(id, sent).toBeTruthy();
      expect(id, sent).not.toBe(sent);
      expect(id, sent).not.toMatch(/[\s"'<>]/);
    }
  });
});

describe("headers on every response", () => {
  it("sends X-Content-Type-Options: nosniff on success, error and preflight responses", async () => {
    for (const [label, response] of await sampleResponses({ Origin: ALLOWED_ORIGIN })) {
      expect(response.headers.get("X-Content-Type-Options"), label).toBe("nosniff");
      await response.body?.cancel();
    }
  });

  it("sends Content-Type application/json with charset=utf-8 on JSON bodies", async () => {
    const user = newUser();
    const task = await createTask(user);
    const responses: Array<[string, Response]> = [
      ["GET /health", await call("/health")],
      ["GET list", await call(`/api/${user}/tasks`)],
      ["POST create", await call(`/api/${user}/tasks`, { method: "POST", body: { title: "t" } })],
      ["GET task", await call(`/api/${user}/tasks/${task.id}`)],
      ["PATCH task", await call(`/api/${user}/tasks/${task.id}`, { method: "PATCH", body: { title: "u" } })],
    ];
    for (const [label, response] of responses) {
      expect(response.status, label).toBeLessThan(300);
      expect(response.headers.get("Content-Type"), label).toMatch(JSON_UTF8);
      await response.body?.cancel();
    }
  });

  it("sends Content-Type application/problem+json with charset=utf-8 on problem bodies", async () => {
    for (const [label, response] of await sampleResponses()) {
      if (response.status < 400) {
        await response.body?.cancel();
        continue;
      }
      expect(response.headers.get("Content-Type"), label).toMatch(PROBLEM_UTF8);
      await expectSomeProblem(response);
    }
  });

  it("sends Cache-Control: no-store on /api success and error responses", async () => {
    const user = newUser();
    const task = await createTask(user);
    const doomed = await createTask(user);
    const responses: Array<[string, Response]> = [
      ["200 list", await call(`/api/${user}/tasks`)],
      ["200 task", await call(`/api/${user}/tasks/${task.id}`)],
      ["201 create", await call(`/api/${user}/tasks`, { method: "POST", body: { title: "t" } })],
      ["204 delete", await call(`/api/${user}/tasks/${doomed.id}`, { method: "DELETE" })],
      ["401", await call(`/api/${user}/tasks`, { token: null })],
      ["403", await call(`/api/${newUser()}/tasks`, { headers: { Authorization: await bearerFor(user) }, token: null })],
      ["404 task", await call(`/api/${user}/tasks/999999999`)],
      ["404 route", await call(`/api/${user}/other`)],
      ["405", await call(`/api/${user}/tasks`, { method: "DELETE" })],
      ["422", await call(`/api/${user}/tasks/abc`)],
    ];
    for (const [label, response] of responses) {
      expect(response.headers.get("Cache-Control"), label).toBe("no-store");
      await response.body?.cancel();
    }
  });
});

describe("routing errors", () => {
  it("answers 404 problem+json to an unknown route outside /api", async () => {
    await expectProblem(await call("/nope"), "route_not_found");
  });

  it("answers 404 problem+json to an unknown route under /api, without asking for a token", async () => {
    const user = newUser();
    await expectProblem(await call(`/api/${user}/other`), "route_not_found");
    await expectProblem(await call(`/api/${user}/other`, { token: null }), "route_not_found");
    await expectProblem(await call(`/api/${user}/tasks/1/nope`, { token: null }), "route_not_found");
  });

  const cases: Array<[method: string, path: (user: string) => string, allow: string[]]> = [
    ["POST", (u) => `/api/${u}/tasks/1`, ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]],
    ["DELETE", (u) => `/api/${u}/tasks`, ["GET", "HEAD", "POST", "OPTIONS"]],
    ["PUT", () => "/health", ["GET", "HEAD", "OPTIONS"]],
    ["GET", (u) => `/api/${u}/tasks/1/complete`, ["PATCH", "OPTIONS"]],
    ["POST", (u) => `/api/${u}/tasks/1/complete`, ["PATCH", "OPTIONS"]],
  ];
  for (const [method, path, allow] of cases) {
    it(`answers 405 with Allow: ${allow.join(", ")} to ${method} ${path("{u}")}, without a token`, async () => {
      const response = await call(path(newUser()), { method, token: null });
      await expectProblem(response, "method_not_allowed");
      expect(items(response, "Allow")).toEqual([...allow].sort());
      expect(response.headers.get("WWW-Authenticate")).toBeNull();
    });
  }

  it("answers 405 rather than 401 even when a bad token is sent", async () => {
    const response = await call(`/api/${newUser()}/tasks`, { method: "DELETE", token: "not-a-jwt" });
    await expectProblem(response, "method_not_allowed");
    expect(items(response, "Allow")).toEqual(["GET", "HEAD", "OPTIONS", "POST"]);
  });
});

describe("HEAD", () => {
  /** The headers that must agree between GET and HEAD (not request ids, dates, or how the body is framed). */
  const VARYING = ["x-request-id", "date", "content-length", "transfer-encoding", "connection", "keep-alive"];
  const comparable = (response: Response) => [...response.headers.entries()].filter(([name]) => !VARYING.includes(name)).sort();

  it("answers every GET route as GET does, without the body", async () => {
    const user = newUser();
    const task = await createTask(user);
    for (const path of [
      "/health",
      "/openapi.json",
      `/api/${user}/tasks`,
      `/api/${user}/tasks?limit=1&sort=title`,
      `/api/${user}/tasks/${task.id}`,
    ]) {
      const get = await call(path);
      const head = await call(path, { method: "HEAD" });
      expect(head.status, path).toBe(get.status);
      expect(comparable(head), path).toEqual(comparable(get));
      expect(await head.text(), path).toBe("");
      expect((await get.text()).length, path).toBeGreaterThan(0);
    }
  });

  it("checks the token and the task as GET does: 401, 403, 404 and 304 carry no body", async () => {
    const user = newUser();
    const task = await createTask(user);
    const cases: Array<[string, Parameters<typeof call>[1], number]> = [
      [`/api/${user}/tasks`, { token: null }, 401],
      [`/api/${user}/tasks`, { token: await tokenFor(newUser()) }, 403],
      [`/api/${user}/tasks/999999999`, {}, 404],
      [`/api/${user}/tasks/${task.id}`, { headers: { "If-None-Match": `"${task.version}"` } }, 304],
    ];
    for (const [path, options, status] of cases) {
      const head = await call(path, { ...options, method: "HEAD" });
      expect(head.status, path).toBe(status);
      expect(await head.text(), path).toBe("");
    }
  });
});

describe("OPTIONS", () => {
  const paths = (u: string) => ["/health", `/api/${u}/tasks`, `/api/${u}/tasks/1`, `/api/${u}/tasks/1/complete`, "/nope"];

  it("answers 204 with no body and no token on any route", async () => {
    for (const path of paths(newUser())) {
      const response = await call(path, { method: "OPTIONS", token: null });
      expect(response.status, path).toBe(204);
      expect(await response.text(), path).toBe("");
    }
  });

  it("lists in Allow the methods the path serves, the same as a 405 would", async () => {
    const user = newUser();
    const expected: Record<string, string[] | null> = {
      "/health": ["GET", "HEAD", "OPTIONS"],
      [`/api/${user}/tasks`]: ["GET", "HEAD", "OPTIONS", "POST"],
      [`/api/${user}/tasks/1`]: ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "PUT"],
      [`/api/${user}/tasks/1/complete`]: ["OPTIONS", "PATCH"],
      "/nope": null,
    };
    for (const [path, methods] of Object.entries(expected)) {
      const response = await call(path, { method: "OPTIONS", token: null });
      if (methods === null) expect(response.headers.get("Allow"), path).toBeNull();
      else expect(items(response, "Allow"), path).toEqual(methods);
    }
  });
});

describe("CORS", () => {
  const EXPOSED = ["ETAG", "IDEMPOTENT-REPLAYED", "LINK", "LOCATION", "RETRY-AFTER", "X-REQUEST-ID"];
  const foreignOrigins = () => {
    const allowed = new URL(ALLOWED_ORIGIN);
    const otherScheme = allowed.protocol === "https:" ? "http:" : "https:";
    return ["https://evil.example.com", `${allowed.protocol}//${allowed.hostname}:8443`, `${otherScheme}//${allowed.host}`];
  };

  function expectCorsFor(response: Response, label: string): void {
    expect(response.headers.get("Access-Control-Allow-Origin"), label).toBe(ALLOWED_ORIGIN);
    // For frontends that fetch with credentials: "include" (the API reads no cookies).
    expect(response.headers.get("Access-Control-Allow-Credentials"), label).toBe("true");
    expect(items(response, "Vary"), label).toContain("ORIGIN");
  }

  it("gives an allowed origin its own origin back, Vary: Origin and the exposed headers", async () => {
    const user = newUser();
    const responses: Array<[string, Response]> = [
      ["GET /health", await call("/health", { headers: { Origin: ALLOWED_ORIGIN } })],
      ["GET list", await call(`/api/${user}/tasks`, { headers: { Origin: ALLOWED_ORIGIN } })],
      ["POST create", await call(`/api/${user}/tasks`, { method: "POST", body: { title: "t" }, headers: { Origin: ALLOWED_ORIGIN } })],
    ];
    for (const [label, response] of responses) {
      expect(response.status, label).toBeLessThan(300);
      expectCorsFor(response, label);
      const exposed = items(response, "Access-Control-Expose-Headers");
      for (const name of EXPOSED) expect(exposed, `${label} exposes ${name}`).toContain(name);
      await response.body?.cancel();
    }
  });

  it("answers a preflight from an allowed origin with 204 and the allowed methods and headers", async () => {
    const user = newUser();
    for (const path of [`/api/${user}/tasks/1`, `/api/${user}/tasks`, "/health"]) {
      const response = await call(path, {
        method: "OPTIONS",
        token: null,
        headers: {
          Origin: ALLOWED_ORIGIN,
          "Access-Control-Request-Method": "PATCH",
          "Access-Control-Request-Headers": "authorization,content-type",
        },
      });
      expect(response.status, path).toBe(204);
      expect(await response.text(), path).toBe("");
      expectCorsFor(response, path);
      const methods = items(response, "Access-Control-Allow-Methods");
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) expect(methods, `${path} allows ${method}`).toContain(method);
      const headers = items(response, "Access-Control-Allow-Headers");
      for (const header of ["AUTHORIZATION", "CONTENT-TYPE", "IF-MATCH", "IF-NONE-MATCH", "IDEMPOTENCY-KEY", "X-REQUEST-ID"]) {
        expect(headers, `${path} allows header ${header}`).toContain(header);
      }
    }
  });

  it("gives no Access-Control-* headers to other origins, on preflights and actual requests", async () => {
    const user = newUser();
    for (const origin of foreignOrigins()) {
      const responses: Array<[string, Response]> = [
        [
          "preflight",
          await call(`/api/${user}/tasks`, {
            method: "OPTIONS",
            token: null,
            headers: {
              Origin: origin,
              "Access-Control-Request-Method": "POST",
              "Access-Control-Request-Headers": "authorization,content-type",
            },
          }),
        ],
        ["GET /health", await call("/health", { headers: { Origin: origin } })],
        ["GET list", await call(`/api/${user}/tasks`, { headers: { Origin: origin } })],
        ["POST create", await call(`/api/${user}/tasks`, { method: "POST", body: { title: "t" }, headers: { Origin: origin } })],
        ["401", await call(`/api/${user}/tasks`, { token: null, headers: { Origin: origin } })],
      ];
      for (const [label, response] of responses) {
        expect(response.status, `${origin} ${label}`).not.toBe(500);
        expect(corsHeaderNames(response), `${origin} ${label}`).toEqual([]);
        await response.body?.cancel();
      }
    }
  });

  it("gives no Access-Control-* headers to a request without Origin", async () => {
    const response = await call("/health");
    expect(response.status).toBe(200);
    expect(corsHeaderNames(response)).toEqual([]);
  });

  it("lets an allowed origin read error responses (401, 403, 404, 405)", async () => {
    const user = newUser();
    const headers = { Origin: ALLOWED_ORIGIN };
    const responses: Array<[ProblemCode, Response]> = [
      ["token_missing", await call(`/api/${user}/tasks`, { token: null, headers })],
      ["forbidden", await call(`/api/${newUser()}/tasks`, { token: null, headers: { ...headers, Authorization: await bearerFor(user) } })],
      ["route_not_found", await call("/nope", { headers })],
      ["task_not_found", await call(`/api/${user}/tasks/999999999`, { headers })],
      ["method_not_allowed", await call("/health", { method: "PUT", headers })],
    ];
    for (const [code, response] of responses) {
      expectCorsFor(response, code);
      expect(items(response, "Access-Control-Expose-Headers"), code).toContain("X-REQUEST-ID");
      await expectProblem(response, code);
    }
  });
});

describe("GET /health", () => {
  it('answers 200 {"status":"ok","database":"ok"} without a token', async () => {
    const response = await call("/health", { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(JSON_UTF8);
    expect(await response.json()).toEqual({ status: "ok", database: "ok" });
  });
});

// Location and Link never carry the client's Host (API.md "Headers"): without PUBLIC_URL they
// are relative references (RFC 9110 §10.2.2, RFC 8288 §3.1), resolved against the request URL;
// with PUBLIC_URL they are absolute URLs on it; an unusable PUBLIC_URL is a 500 naming it.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, createTask, expectConformance, expectProblem, newUser, tokenFor, workerUrl } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { startTestWorker } from "./support/transport.ts";

const FORGED_HOST = "evil.example";

/**
 * Sends a request with a Host header of our choosing (fetch cannot set Host), and returns the
 * answer as a Response (checked against the OpenAPI document like `call`'s).
 */
async function withHost(base: string, path: string, init: { method?: string; body?: unknown; host?: string } = {}): Promise<Response> {
  const url = new URL(path, base);
  const user = /^\/api\/([^/]+)\//.exec(url.pathname)?.[1];
  const headers: Record<string, string> = { Host: init.host ?? FORGED_HOST };
  if (user !== undefined) headers.Authorization = `Bearer ${await tokenFor(decodeURIComponent(user))}`;
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const method = init.method ?? "GET";
  const response = await new Promise<Response>((resolve, reject) => {
    const sent = httpRequest(url, { method, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) answer.append(name, one);
        }
        const status = incoming.statusCode ?? 0;
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: answer }));
      });
    });
    sent.on("error", reject);
    sent.end(body);
  });
  await expectConformance(method, url.href, response);
  return response;
}

/** The target of `Link: <…>; rel="next"`, exactly as sent. */
function nextTarget(response: Response): string {
  const header = response.headers.get("Link") ?? "";
  const target = /^<([^>]*)>; rel="next"$/.exec(header)?.[1];
  if (target === undefined) throw new Error(`no rel="next" Link: ${header}`);
  return target;
}

/** A user with three tasks, so that limit=1 has a next page. */
async function userWithTasks(): Promise<string> {
  const user = newUser();
  for (const title of ["one", "two", "three"]) await createTask(user, { title });
  return user;
}

describe("without PUBLIC_URL", () => {
  it("answers a create with a relative Location, whatever Host the client sent", async () => {
    const user = newUser();
    const response = await withHost(workerUrl(), `/api/${user}/tasks`, { method: "POST", body: { title: "located" } });
    expect(response.status).toBe(201);
    const task = (await response.json()) as { id: number };
    expect(response.headers.get("Location")).toBe(`/api/${user}/tasks/${task.id}`);
  });

  it("sends a relative Link, whatever Host the client sent, that resolves against the request URL to the next page", async () => {
    const user = await userWithTasks();
    const first = await withHost(workerUrl(), `/api/${user}/tasks?limit=1&sort=title`);
    expect(first.status).toBe(200);
    const target = nextTarget(first);
    expect(target).toMatch(new RegExp(`^/api/${user}/tasks\\?limit=1&sort=title&cursor=[A-Za-z0-9_-]+$`));
    const requested = `${workerUrl()}/api/${user}/tasks?limit=1&sort=title`;
    const next = new URL(target, requested);
    const second = await call(`${next.pathname}${next.search}`);
    expect(((await second.json()) as { title: string }[]).map((task) => task.title)).toEqual(["three"]);
  });

  it("keeps the Host out of every header of the answer", async () => {
    const user = await userWithTasks();
    for (const response of [
      await withHost(workerUrl(), `/api/${user}/tasks?limit=1`),
      await withHost(workerUrl(), `/api/${user}/tasks`, { method: "POST", body: { title: "x" } }),
    ]) {
      for (const [name, value] of response.headers) expect(value, name).not.toContain(FORGED_HOST);
    }
  });
});

describe("with PUBLIC_URL", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    // A trailing slash is how an origin is often written; it is still the origin.
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET, PUBLIC_URL: "https://Tasks.Example.com/" } });
  });
  afterAll(() => worker?.stop());

  it("answers a create with an absolute Location on PUBLIC_URL, whatever Host the client sent", async () => {
    const user = newUser();
    const response = await withHost(worker.url, `/api/${user}/tasks`, { method: "POST", body: { title: "located" } });
    expect(response.status).toBe(201);
    const task = (await response.json()) as { id: number };
    expect(response.headers.get("Location")).toBe(`https://tasks.example.com/api/${user}/tasks/${task.id}`);
  });

  it("sends an absolute Link on PUBLIC_URL, whatever Host the client sent", async () => {
    const user = await userWithTasks();
    const first = await withHost(worker.url, `/api/${user}/tasks?limit=1&sort=title`);
    expect(nextTarget(first)).toMatch(
      new RegExp(`^https://tasks\\.example\\.com/api/${user}/tasks\\?limit=1&sort=title&cursor=[A-Za-z0-9_-]+$`),
    );
    // The same page through the Worker itself, with the cursor the Link carries.
    const next = new URL(nextTarget(first));
    const second = await call(`${next.pathname}${next.search}`, { base: worker.url });
    expect(((await second.json()) as { title: string }[]).map((task) => task.title)).toEqual(["three"]);
  });
});

describe("an unusable PUBLIC_URL", () => {
  it.each([
    ["tasks.example.com", "must be an absolute http(s) origin"],
    ["ftp://tasks.example.com", "must be an absolute http(s) origin"],
    ["http://tasks.example.com", "must use https"],
    ["https://tasks.example.com/api", "must be an origin only"],
    ["https://user:secret@tasks.example.com", "must be an origin only"],
  ])("%j: a create or a list is a 500 naming it, nothing is created, other routes keep working", async (value, reason) => {
    const worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET, PUBLIC_URL: value } });
    try {
      const user = newUser();
      const created = await call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "not created" } });
      const body = await expectProblem(created, "configuration_error");
      expect(body.detail).toContain("PUBLIC_URL");
      expect(body.detail).toContain(reason);
      expect(body.detail).not.toContain("secret");
      expect((await expectProblem(await call(`/api/${user}/tasks`, { base: worker.url }), "configuration_error")).detail).toContain(
        "PUBLIC_URL",
      );
      // Nothing was written: the suite's Worker (same database) lists nothing for the user.
      expect(await (await call(`/api/${user}/tasks`)).json()).toEqual([]);
      expect((await call("/health", { base: worker.url })).status).toBe(200);
      expect((await call(`/api/${user}/changes`, { base: worker.url })).status).toBe(200);
    } finally {
      await worker.stop();
    }
  });

  it("accepts http for a loopback origin (local development)", async () => {
    const worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET, PUBLIC_URL: "http://localhost:8787" } });
    try {
      const user = newUser();
      const response = await call(`/api/${user}/tasks`, { base: worker.url, method: "POST", body: { title: "local" } });
      const task = (await response.json()) as { id: number };
      expect(response.headers.get("Location")).toBe(`http://localhost:8787/api/${user}/tasks/${task.id}`);
    } finally {
      await worker.stop();
    }
  });
});

// The two database transports give byte-for-byte the same API: the same requests through a Worker
// bound to Hyperdrive (node-postgres over TCP) and through one with only DATABASE_URL
// (@neondatabase/serverless over a WebSocket to a local proxy playing Neon's) must answer the same
// statuses and the same JSON: timestamps, ids, arrays, nulls, errors.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { startWorker } from "../scripts/lib/worker.ts";
import { type RunningProxy, startWsProxy } from "../scripts/lib/wsproxy.ts";
import { call, expectProblem, newUser, tokenFor } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { workerDatabase } from "./support/transport.ts";

let proxy: RunningProxy;
let viaHyperdrive: RunningWorker;
let viaNeon: RunningWorker;

beforeAll(async () => {
  proxy = await startWsProxy();
  const bindings = { BETTER_AUTH_SECRET: TEST_SECRET };
  viaHyperdrive = await startWorker(inject("bundlePath"), { hyperdrive: workerDatabase(inject("databaseUrl")), bindings });
  viaNeon = await startWorker(inject("bundlePath"), {
    bindings: { ...bindings, DATABASE_URL: workerDatabase(inject("databaseUrl")), NEON_LOCAL_PROXY: proxy.address },
  });
});

afterAll(async () => {
  await viaHyperdrive?.stop();
  await viaNeon?.stop();
  await proxy?.stop();
});

/** Volatile per-request headers aside, what a client sees: status, JSON body text, and the headers that carry data. */
async function seen(response: Response): Promise<{ status: number; body: string; etag: string | null; link: string | null }> {
  const body = (await response.text()).replace(/"request_id":"[^"]+"/, '"request_id":"…"');
  return {
    status: response.status,
    body,
    etag: response.headers.get("ETag"),
    link: response.headers.get("Link")?.replace(/^<[^>]*\/api/, "<…/api") ?? null,
  };
}

async function both(path: string, init: Parameters<typeof call>[1] = {}) {
  const a = await seen(await call(path, { ...init, base: viaHyperdrive.url }));
  const b = await seen(await call(path, { ...init, base: viaNeon.url }));
  return [a, b] as const;
}

describe("the same requests through Hyperdrive and through @neondatabase/serverless", () => {
  it("goes through the WebSocket proxy on the Neon path (one connection per request)", async () => {
    const before = proxy.connections;
    const user = newUser();
    expect((await call(`/api/${user}/tasks`, { base: viaNeon.url })).status).toBe(200);
    expect((await call("/health", { base: viaNeon.url })).status).toBe(200);
    expect(proxy.connections - before).toBe(2);
  });

  it("reads identical JSON for tasks with every kind of field value", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const bodies = [
      { title: "plain" },
      { title: '  ünïcödé ✓ 🎉 "quotes" \\ back  ', description: "line\nbreak\ttab", tags: ["b", "a", "b"], priority: "high" },
      { title: "due", due_date: "2026-12-01T17:00:00.5+01:00", completed: true },
      { title: "far", due_date: "9999-12-31T23:59:59.999Z", description: null, tags: [] },
    ];
    // Written half through each transport.
    const ids: number[] = [];
    for (const [index, body] of bodies.entries()) {
      const base = index % 2 === 0 ? viaHyperdrive.url : viaNeon.url;
      const response = await call(`/api/${user}/tasks`, { base, token, method: "POST", body });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { id: number }).id);
    }
    for (const id of ids) {
      const [a, b] = await both(`/api/${user}/tasks/${id}`, { token });
      expect(a.status).toBe(200);
      expect(b).toEqual(a);
    }
    for (const query of ["", "?limit=2", "?sort=due_date", "?sort=-title&status=pending", "?tag=a&q=%C3%BC"]) {
      const [a, b] = await both(`/api/${user}/tasks${query}`, { token });
      expect(a.status).toBe(200);
      expect(b).toEqual(a);
    }
  });

  it("writes identical JSON: PUT, PATCH, complete, conditional and idempotent writes", async () => {
    const results = [];
    for (const worker of [viaHyperdrive, viaNeon]) {
      // A user of each transport's own, so that both tasks are first in their own Inbox.
      const user = newUser();
      const token = await tokenFor(user);
      const base = worker.url;
      const create = await call(`/api/${user}/tasks`, {
        base,
        token,
        method: "POST",
        body: { title: "same", tags: ["x"] },
        headers: { "Idempotency-Key": `same-${worker === viaNeon}` },
      });
      const task = (await create.json()) as { id: number };
      const path = `/api/${user}/tasks/${task.id}`;
      const steps = [
        await call(path, { base, token, method: "PUT", body: { title: "put", due_date: "2027-01-01T00:00:00Z" } }),
        await call(path, { base, token, method: "PATCH", body: { description: "d" }, headers: { "If-Match": '"2"' } }),
        await call(`${path}/complete`, { base, token, method: "PATCH" }),
        await call(path, { base, token, method: "PATCH", body: { title: "stale" }, headers: { "If-Match": '"1"' } }),
        await call(path, { base, token, headers: { "If-None-Match": '"4"' } }),
      ];
      const normalized = [];
      for (const response of steps) {
        const view = await seen(response);
        // Users, ids (of the tasks and of their Inboxes) and timestamps differ between the two
        // tasks; everything else must match.
        normalized.push({
          ...view,
          body: view.body
            .replaceAll(user, "user")
            .replace(/"id":\d+/, '"id":0')
            .replace(/"list_id":\d+/, '"list_id":0')
            .replace(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/g, (t) => (t.startsWith('"2027') ? t : '"T"')),
        });
      }
      results.push(normalized);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]?.map((r) => r.status)).toEqual([200, 200, 200, 412, 304]);
  });

  it("answers identical problems: 404, 422 and the 412 body", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    for (const [path, init] of [
      [`/api/${user}/tasks/999999999`, {}],
      [`/api/${user}/tasks?limit=0`, {}],
      [`/api/${user}/tasks`, { method: "POST", body: { title: "" } }],
    ] as const) {
      const [a, b] = await both(path, { token, ...init });
      expect(b).toEqual(a);
    }
  });
});

describe("choosing the transport from the bindings", () => {
  it("prefers Hyperdrive when both HYPERDRIVE and DATABASE_URL are set", async () => {
    const both = await startWorker(inject("bundlePath"), {
      hyperdrive: workerDatabase(inject("databaseUrl")),
      bindings: { BETTER_AUTH_SECRET: TEST_SECRET, DATABASE_URL: workerDatabase(inject("databaseUrl")), NEON_LOCAL_PROXY: proxy.address },
    });
    try {
      const before = proxy.connections;
      expect((await call(`/api/${newUser()}/tasks`, { base: both.url })).status).toBe(200);
      expect(proxy.connections).toBe(before);
    } finally {
      await both.stop();
    }
  });

  it("refuses a NEON_LOCAL_PROXY that is not on loopback (it would carry the password over plain ws://): a 500 naming it", async () => {
    for (const proxy of ["db-proxy.example.com:80", "10.0.0.5:8080", "127.0.0.1", "localhost.example.com:80"]) {
      const worker = await startWorker(inject("bundlePath"), {
        bindings: { BETTER_AUTH_SECRET: TEST_SECRET, DATABASE_URL: workerDatabase(inject("databaseUrl")), NEON_LOCAL_PROXY: proxy },
      });
      try {
        const response = await call(`/api/${newUser()}/tasks`, { base: worker.url });
        expect((await expectProblem(response, "configuration_error")).detail, proxy).toContain("NEON_LOCAL_PROXY");
      } finally {
        await worker.stop();
      }
    }
  });

  it("answers a 500 naming DATABASE_URL when it is not a postgres:// URL and no Hyperdrive is bound", async () => {
    const broken = await startWorker(inject("bundlePath"), { bindings: { BETTER_AUTH_SECRET: TEST_SECRET, DATABASE_URL: "mysql://nope" } });
    try {
      const response = await call(`/api/${newUser()}/tasks`, { base: broken.url });
      expect((await expectProblem(response, "configuration_error")).detail).toContain("DATABASE_URL");
    } finally {
      await broken.stop();
    }
  });
});

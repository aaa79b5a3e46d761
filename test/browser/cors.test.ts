// CORS as Chromium enforces it: a page on an origin in ALLOWED_ORIGINS calls the API with a
// bearer token and reads the exposed headers (ETag, Location, Link, X-Request-Id) from JS; the
// same page on any other origin has its preflighted request rejected before it reaches the API.
import { randomUUID } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../../scripts/lib/worker.ts";
import { startWorker } from "../../scripts/lib/worker.ts";
import { call, newUser, tokenFor } from "../support/api.ts";
import { TEST_SECRET } from "../support/constants.ts";
import { workerDatabase } from "../support/transport.ts";
import { launchBrowser, type StaticServer, screenshot, screenshotOnFailure, serveHtml } from "./support.ts";

// A stand-in for a frontend: the test drives it with page.evaluate, then shows what it got.
const PAGE = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Task API CORS probe</title></head>
  <body style="font-family: sans-serif">
    <h1>Task API CORS probe on <span id="origin"></span></h1>
    <pre id="result">(nothing yet)</pre>
    <script>
      document.getElementById("origin").textContent = location.origin;
      window.show = (value) => {
        document.getElementById("result").textContent = JSON.stringify(value, null, 2);
      };
    </script>
  </body>
</html>
`;

interface Created {
  status: number;
  etag: string | null;
  requestId: string | null;
  location: string | null;
  id: number;
  /** GET of Location: its status and ETag; then the same with If-None-Match: that ETag. */
  fetched: { status: number; etag: string | null };
  revalidated: { status: number };
}

interface Listed {
  url: string;
  status: number;
  link: string | null;
  sentRequestId: string;
  requestId: string | null;
  ids: number[];
}

describe("CORS in Chromium", () => {
  let browser: Browser;
  let context: BrowserContext;
  let allowed: StaticServer;
  let other: StaticServer;
  let worker: RunningWorker;
  /** The current test's page. */
  let page: Page | undefined;
  /** What the pages logged to the console (Chromium reports CORS failures there). */
  const consoleLines: string[] = [];

  beforeAll(async () => {
    allowed = await serveHtml(PAGE);
    other = await serveHtml(PAGE);
    worker = await startWorker(inject("bundlePath"), {
      hyperdrive: workerDatabase(inject("databaseUrl")),
      bindings: { BETTER_AUTH_SECRET: TEST_SECRET, ALLOWED_ORIGINS: allowed.origin },
    });
    browser = await launchBrowser();
    context = await browser.newContext();
    context.on("console", (message) => consoleLines.push(message.text()));
  });

  afterEach(async ({ task }) => {
    await screenshotOnFailure(page, task);
    await page?.close();
    page = undefined;
  });

  afterAll(async () => {
    // Each of them, even when another fails to stop (closing the browser closes its context).
    await Promise.allSettled([browser?.close(), worker?.stop(), allowed?.stop(), other?.stop()]);
  });

  it("lets an allowed origin create and page through tasks, reading the exposed headers", async () => {
    const user = newUser();
    page = await context.newPage();
    await page.goto(`${allowed.origin}/`);
    const api = worker.url;
    expect(new URL(api).origin).not.toBe(allowed.origin);

    const result = await page.evaluate(
      async ({ api, user, token, requestId }) => {
        const auth = { Authorization: `Bearer ${token}` };
        const created: Created[] = [];
        for (const title of ["first from the browser", "second from the browser"]) {
          const response = await fetch(`${api}/api/${encodeURIComponent(user)}/tasks`, {
            method: "POST",
            headers: { ...auth, "Content-Type": "application/json" },
            body: JSON.stringify({ title }),
          });
          const task = (await response.json()) as { id: number };
          const location = response.headers.get("Location");
          const etag = response.headers.get("ETag");
          // A relative reference: resolved against the response's URL, not this page's.
          const located = location === null ? "about:blank" : new URL(location, response.url).href;
          const fetched = await fetch(located, { headers: auth });
          await fetched.arrayBuffer();
          const revalidated = await fetch(located, { headers: { ...auth, "If-None-Match": etag ?? "" } });
          created.push({
            status: response.status,
            etag,
            requestId: response.headers.get("X-Request-Id"),
            location,
            id: task.id,
            fetched: { status: fetched.status, etag: fetched.headers.get("ETag") },
            revalidated: { status: revalidated.status },
          });
        }
        const pages: Listed[] = [];
        let next: string | null = `${api}/api/${encodeURIComponent(user)}/tasks?limit=1`;
        while (next !== null && pages.length < 5) {
          const sentRequestId = `${requestId}-${pages.length}`;
          const response: Response = await fetch(next, { headers: { ...auth, "X-Request-Id": sentRequestId } });
          const tasks = (await response.json()) as Array<{ id: number }>;
          const link = response.headers.get("Link");
          pages.push({
            url: next,
            status: response.status,
            link,
            sentRequestId,
            requestId: response.headers.get("X-Request-Id"),
            ids: tasks.map((task) => task.id),
          });
          const target = link === null ? undefined : /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
          next = target === undefined ? null : new URL(target, response.url).href;
        }
        return { created, pages };
      },
      { api, user, token: await tokenFor(user), requestId: `browser-${randomUUID()}` },
    );
    await page.evaluate((value) => (window as unknown as { show(value: unknown): void }).show(value), result);
    await screenshot(page, "cors-allowed-origin");

    const { created, pages } = result;
    expect(created).toHaveLength(2);
    for (const task of created) {
      expect(task.status).toBe(201);
      expect(task.etag).toBe('"1"');
      expect(task.requestId).toMatch(/\S/);
      expect(task.location).toBe(`/api/${user}/tasks/${task.id}`);
      expect(task.fetched).toEqual({ status: 200, etag: task.etag });
      expect(task.revalidated).toEqual({ status: 304 });
    }
    expect(created[0]?.requestId).not.toBe(created[1]?.requestId);

    expect(pages.map((listed) => listed.status)).toEqual([200, 200]);
    expect(pages[0]?.link).toMatch(/^<\/api\/[^>]+[?&]cursor=[^>]+>; rel="next"$/);
    expect(`${api}${/^<([^>]+)>/.exec(pages[0]?.link ?? "")?.[1]}`).toBe(pages[1]?.url);
    expect(pages[1]?.link).toBeNull();
    for (const listed of pages) {
      expect(listed.ids).toHaveLength(1);
      expect(listed.requestId).toBe(listed.sentRequestId);
    }
    const byId = (a: number, b: number) => a - b;
    expect(pages.flatMap((listed) => listed.ids).sort(byId)).toEqual(created.map((task) => task.id).sort(byId));
  });

  it('works with credentials: "include" from an allowed origin (a frontend that sends cookies too), and not from another', async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const attempt = async (origin: string) => {
      page = await context.newPage();
      await page.goto(`${origin}/`);
      const result = await page.evaluate(
        async ({ api, user, token }) => {
          try {
            const created = await fetch(`${api}/api/${encodeURIComponent(user)}/tasks`, {
              method: "POST",
              credentials: "include",
              headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
              body: JSON.stringify({ title: "with credentials" }),
            });
            const task = (await created.json()) as { id: number };
            const renamed = await fetch(`${api}/api/${encodeURIComponent(user)}/tasks/${task.id}`, {
              method: "PUT",
              credentials: "include",
              headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
              body: JSON.stringify({ title: "renamed with credentials" }),
            });
            return {
              outcome: "resolved",
              statuses: [created.status, renamed.status],
              title: ((await renamed.json()) as { title: string }).title,
            };
          } catch (error) {
            return { outcome: "rejected", name: (error as Error).name };
          }
        },
        { api: worker.url, user, token },
      );
      await page.evaluate((value) => (window as unknown as { show(value: unknown): void }).show(value), result);
      return result;
    };
    const fromAllowed = await attempt(allowed.origin);
    await screenshot(page as Page, "cors-credentials-include");
    expect(fromAllowed).toEqual({ outcome: "resolved", statuses: [201, 200], title: "renamed with credentials" });
    await page?.close();
    const fromOther = await attempt(other.origin);
    expect(fromOther).toEqual({ outcome: "rejected", name: "TypeError" });
    const listed = await call(`/api/${user}/tasks`, { base: worker.url });
    expect(((await listed.json()) as unknown[]).length).toBe(1);
  });

  it("rejects an authorized request from an origin that is not allowed, before it reaches the API", async () => {
    const user = newUser();
    page = await context.newPage();
    await page.goto(`${other.origin}/`);
    consoleLines.length = 0;

    const result = await page.evaluate(
      async ({ api, user, token }) => {
        // The Worker is reachable from here: a no-cors request gets its (opaque) answer.
        const reachable = await fetch(`${api}/health`, { mode: "no-cors" }).then(
          (response) => response.type,
          (error: unknown) => `failed: ${String(error)}`,
        );
        try {
          const response = await fetch(`${api}/api/${encodeURIComponent(user)}/tasks`, {
            method: "POST",
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
            body: JSON.stringify({ title: "must not be created" }),
          });
          return { reachable, outcome: "resolved", status: response.status };
        } catch (error) {
          return { reachable, outcome: "rejected", name: (error as Error).name, message: (error as Error).message };
        }
      },
      { api: worker.url, user, token: await tokenFor(user) },
    );
    await page.evaluate((value) => (window as unknown as { show(value: unknown): void }).show(value), result);
    await screenshot(page, "cors-disallowed-origin");

    expect(result).toMatchObject({ reachable: "opaque", outcome: "rejected", name: "TypeError" });
    expect(consoleLines.some((line) => line.includes(other.origin) && line.includes("CORS policy"))).toBe(true);

    const response = await call(`/api/${user}/tasks`, { base: worker.url });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([]);
  });
});

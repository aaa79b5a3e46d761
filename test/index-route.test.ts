// GET /: the first thing a browser or curl sees on the API's origin is a small index of where to go
// (the reference, the demo, the OpenAPI document, the health check), not a 404 problem.
import { describe, expect, it } from "vitest";
import { call, workerUrl } from "./support/api.ts";

const INDEX = { name: "task-api", docs: "/docs", demo: "/demo", openapi: "/openapi.json", health: "/health" };
/** What Chromium sends when it navigates to a page. */
const BROWSER_ACCEPT =
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
/** The static pages' policy (scripts/build-assets.ts): plain HTML loads nothing and may not be framed. */
const PAGE_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** GET / as a browser would, past call()'s conformance check, which reads every body as JSON. */
const asBrowser = (method = "GET") => fetch(`${workerUrl()}/`, { method, headers: { Accept: BROWSER_ACCEPT } });

describe("GET /", () => {
  it("answers JSON naming the service and linking /docs, /demo, /openapi.json and /health, relative to this origin", async () => {
    const response = await call("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
    expect(await response.json()).toEqual(INDEX);
  });

  it("links only to pages that are there", async () => {
    for (const link of [INDEX.docs, INDEX.demo, INDEX.openapi, INDEX.health]) {
      const response = await fetch(`${workerUrl()}${link}`, { redirect: "manual" });
      expect(response.status, link).toBe(200);
      await response.body?.cancel();
    }
  });

  it("answers a browser with a small HTML page of the same links, with the static pages' security headers", async () => {
    const response = await asBrowser();
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("Content-Security-Policy")).toBe(PAGE_POLICY);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/);
    for (const link of [INDEX.docs, INDEX.demo, INDEX.openapi, INDEX.health]) expect(html).toContain(`<a href="${link}">`);
    expect(html).not.toMatch(/<script|<style|style=|https?:\/\//);
  });

  it.each([
    ["no Accept", undefined, "application/json"],
    ["*/* (curl, fetch)", "*/*", "application/json"],
    ["application/json", "application/json", "application/json"],
    ["JSON preferred", "text/html;q=0.5, application/json", "application/json"],
    ["HTML and JSON alike", "text/html, application/json", "application/json"],
    ["text/html", "text/html", "text/html"],
    ["text/*", "text/*", "text/html"],
    ["a browser's", BROWSER_ACCEPT, "text/html"],
    ["HTML preferred over a wildcard", "text/html, */*;q=0.1", "text/html"],
  ])("negotiates on Accept (%s): %s → %s", async (_label, accept, type) => {
    const response = await fetch(`${workerUrl()}/`, accept === undefined ? {} : { headers: { Accept: accept } });
    expect(response.headers.get("Content-Type")?.split(";")[0]).toBe(type);
    expect(response.headers.get("Vary")?.split(/,\s*/)).toContain("Accept");
    await response.body?.cancel();
  });

  it("answers HEAD as GET, without the body, in both forms", async () => {
    for (const [get, head] of [
      [await call("/"), await call("/", { method: "HEAD" })],
      [await asBrowser(), await asBrowser("HEAD")],
    ] as const) {
      expect(head.status).toBe(200);
      expect(head.headers.get("Content-Type")).toBe(get.headers.get("Content-Type"));
      expect(head.headers.get("Content-Security-Policy")).toBe(get.headers.get("Content-Security-Policy"));
      expect(await head.text()).toBe("");
      expect((await get.text()).length).toBeGreaterThan(0);
    }
  });

  it("answers OPTIONS with Allow: GET, HEAD, OPTIONS and other methods with a 405", async () => {
    const options = await call("/", { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    const post = await call("/", { method: "POST", body: {} });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
  });
});

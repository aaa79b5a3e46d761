// The static pages (/docs, /demo, /problems/<code>, from Workers Static Assets) as a browser gets
// them from the Worker: every page and file, with or without its trailing slash, redirect or not,
// carries its Content-Security-Policy (with frame-ancestors 'none': no page may be framed),
// X-Frame-Options for older browsers, nosniff and Referrer-Policy, each header exactly once.
import { describe, expect, it } from "vitest";
import { PROBLEM_CODES } from "../src/problems.ts";
import { workerUrl } from "./support/api.ts";

/** What every static response carries, whatever the page. */
const COMMON = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** Swagger UI: its own scripts and styles (it sets inline styles), and calls to this origin only. */
const DOCS_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** The demo: its own module and stylesheet, the API and /live on this origin. */
const DEMO_POLICY =
  "default-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** A problem page is plain HTML: nothing to load at all. */
const PROBLEM_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The security headers of `path`'s answer (not followed when it redirects), and where it redirects. */
async function headersOf(path: string): Promise<{ status: number; location: string | null; headers: Record<string, string | null> }> {
  const response = await fetch(`${workerUrl()}${path}`, { redirect: "manual" });
  await response.arrayBuffer();
  const headers: Record<string, string | null> = {};
  for (const name of [...Object.keys(COMMON), "content-security-policy"]) headers[name] = response.headers.get(name);
  const location = response.headers.get("Location");
  return { status: response.status, location: location === null ? null : new URL(location, workerUrl()).pathname, headers };
}

/** `path` answers 200, or redirects once to a path that does, each answer with exactly these headers. */
async function expectHeaders(path: string, policy: string): Promise<void> {
  const expected = { ...COMMON, "content-security-policy": policy };
  const first = await headersOf(path);
  // A header set by two matching rules would arrive joined ("a, b"): the comparison is exact.
  expect(first.headers, path).toEqual(expected);
  if (first.status === 200) return;
  expect([301, 302, 307, 308], path).toContain(first.status);
  const target = await headersOf(first.location ?? "");
  expect(target.status, `${path} → ${first.location}`).toBe(200);
  expect(target.headers, `${path} → ${first.location}`).toEqual(expected);
}

describe("security headers of the static pages", () => {
  it("/docs, /docs/ and every file of Swagger UI carry the docs policy, frame-ancestors 'none' included", async () => {
    for (const path of [
      "/docs",
      "/docs/",
      "/docs/index.html",
      "/docs/init.js",
      "/docs/swagger-ui.css",
      "/docs/swagger-ui-bundle.js",
      "/docs/favicon-32x32.png",
    ]) {
      await expectHeaders(path, DOCS_POLICY);
    }
  });

  it("/demo (without the slash: it was served with no policy at all), /demo/ and the demo's files carry the demo policy", async () => {
    for (const path of ["/demo", "/demo/", "/demo/index.html", "/demo/demo.js", "/demo/demo.css", "/demo/protocol.js"]) {
      await expectHeaders(path, DEMO_POLICY);
    }
  });

  it("every /problems/<code> page, with a slash or .html too, carries the problem policy and the Referrer-Policy", async () => {
    for (const code of PROBLEM_CODES) {
      for (const path of [`/problems/${code}`, `/problems/${code}/`, `/problems/${code}.html`]) await expectHeaders(path, PROBLEM_POLICY);
    }
  });

  it("serves the pages themselves as HTML (the headers above are on the pages, not just on files)", async () => {
    for (const path of ["/docs", "/demo", `/problems/${PROBLEM_CODES[0]}`]) {
      const response = await fetch(`${workerUrl()}${path}`, { redirect: "manual" });
      expect(response.status, path).toBe(200);
      expect(response.headers.get("Content-Type"), path).toMatch(/^text\/html/);
      await response.arrayBuffer();
    }
  });
});

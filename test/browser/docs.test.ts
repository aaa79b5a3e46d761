// /docs in a real browser: Swagger UI renders /openapi.json from the Worker's own origin (no CDN,
// so it works offline), and "Authorize" + "Try it out" make a live, authenticated API call.
import { randomUUID } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTask, newUser, tokenFor, workerUrl } from "../support/api.ts";
import { launchBrowser, screenshot, screenshotOnFailure } from "./support.ts";

const TASK_PATHS = ["/api/{user_id}/tasks", "/api/{user_id}/tasks/{id}", "/api/{user_id}/tasks/{id}/complete"];

describe("/docs (Swagger UI) in Chromium", () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the page requested, in order. */
  const requests: string[] = [];
  /** Uncaught exceptions and console errors. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("request", (request) => requests.push(request.url()));
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    // Console errors include Content-Security-Policy violations (dist/assets/_headers sets a CSP).
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(`console: ${message.text()}`);
    });
  });

  afterEach(({ task }) => screenshotOnFailure(page, task));

  afterAll(async () => {
    await browser?.close(); // and its context
  });

  it("renders every task operation from /openapi.json", async () => {
    // /docs is served as is, without a redirect; its assets are absolute (/docs/swagger-ui-bundle.js).
    const response = await page.goto(`${workerUrl()}/docs`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${workerUrl()}/docs`);
    // Swagger UI must run under the page's own CSP (dist/assets/_headers): same origin only.
    expect(response?.headers()["content-security-policy"]).toContain("connect-src 'self'");
    await page.locator(".opblock-summary-path").first().waitFor();

    const paths = await page.locator(".opblock-summary-path").evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-path")));
    for (const taskPath of TASK_PATHS) expect(paths).toContain(taskPath);
    await expect(page.locator("#operations-tasks-listTasks .opblock-summary-method").textContent()).resolves.toBe("GET");
    await expect(page.locator(".info .title").textContent()).resolves.toContain("Task API");
    await screenshot(page, "docs-operations");
  });

  it("authorizes with a bearer token and lists the user's tasks with Try it out", async () => {
    const user = newUser();
    const title = `from the browser ${randomUUID()}`;
    await createTask(user, { title });

    // Authorize: the bearerAuth scheme's value field, then Close.
    await page.locator(".auth-wrapper button.authorize").click();
    const dialog = page.locator(".dialog-ux .modal-ux");
    await dialog.locator("#auth-bearer-value").fill(await tokenFor(user));
    await dialog.locator('button[aria-label="Apply credentials"]').click();
    // Once authorized the value shows as ******, and Authorize becomes Logout.
    await dialog.locator('button[aria-label="Remove authorization"]').waitFor();
    await dialog.locator("button.btn-done").click();
    await dialog.waitFor({ state: "detached" });
    // The button's class goes from "unlocked" to "locked".
    await expect(page.locator(".auth-wrapper button.authorize").getAttribute("class")).resolves.toMatch(/\blocked\b/);

    // GET /api/{user_id}/tasks: expand, Try it out, fill user_id, Execute.
    const operation = page.locator("#operations-tasks-listTasks");
    await operation.locator(".opblock-summary-control").click();
    await operation.locator("button.try-out__btn").click();
    await operation.locator('tr[data-param-name="user_id"] input').fill(user);
    await operation.locator("button.execute").click();

    const response = operation.locator(".live-responses-table .response");
    // The live response appears once the call has returned (a spinner until then).
    await response.first().waitFor({ timeout: 20_000 });
    await expect(response.locator(".response-col_status").first().textContent()).resolves.toMatch(/^\s*200\s*$/);
    await expect(response.locator(".response-col_description").first().textContent()).resolves.toContain(title);
    // The curl command Swagger UI shows carries the token.
    await expect(operation.locator(".curl-command").textContent()).resolves.toContain("Authorization: Bearer ");
    await screenshot(operation, "docs-try-it-out");
  });

  it("made no request to any origin but the Worker's", () => {
    const origin = new URL(workerUrl()).origin;
    const elsewhere = requests.filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin);
    expect(elsewhere).toEqual([]);
    expect(requests).toContain(`${origin}/openapi.json`);
    expect(requests.some((url) => url.startsWith(`${origin}/api/`))).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});

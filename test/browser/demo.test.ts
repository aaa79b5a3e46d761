// The live demo (/demo/) in Chromium: two windows of one user, each pasting the token; a task
// created, completed or deleted in one appears in the other without a reload, through /live and
// /changes. Nothing but the public API, and no CSP violation or page error on the way.
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newUser, tokenFor, workerUrl } from "../support/api.ts";
import { launchBrowser, screenshot, screenshotOnFailure } from "./support.ts";

describe("/demo/ in two Chromium windows", () => {
  let browser: Browser;
  let first: Page;
  let second: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    const user = newUser();
    const token = await tokenFor(user);
    // Two windows: two contexts, as two devices would be (nothing shared but the server).
    const pages = await Promise.all([0, 1].map(async () => (await browser.newContext()).newPage()));
    [first, second] = pages as [Page, Page];
    for (const page of pages) {
      page.on("pageerror", (error) => problems.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console: ${message.text()}`);
      });
      await page.goto(`${workerUrl()}/demo/`);
      await page.fill("#token", token);
      await page.click("#sign-in button[type=submit]");
      await page.locator("#status[data-state=live]").waitFor();
    }
  });

  afterEach(async ({ task }) => {
    await screenshotOnFailure(first, task);
  });

  afterAll(() => browser?.close());

  const item = (page: Page, title: string) => page.locator("#tasks li", { hasText: title });

  it("shows a task added in one window in the other, without a reload", async () => {
    await first.fill("#title", "water the plants");
    await first.click("#add button[type=submit]");
    await item(first, "water the plants").waitFor();
    await item(second, "water the plants").waitFor({ timeout: 10_000 });
    await screenshot(second, "demo-second-window");
  });

  it("shows a completion made in the other window", async () => {
    await item(second, "water the plants").locator("input[type=checkbox]").check();
    await expect.poll(() => item(first, "water the plants").getAttribute("class"), { timeout: 10_000 }).toBe("done");
    expect(await item(first, "water the plants").locator("input[type=checkbox]").isChecked()).toBe(true);
  });

  it("removes a task deleted in the other window", async () => {
    await item(first, "water the plants").locator("button").click();
    await item(second, "water the plants").waitFor({ state: "detached", timeout: 10_000 });
    await expect.poll(() => second.locator("#empty").isVisible()).toBe(true);
  });

  it("made no page error and no Content-Security-Policy violation", () => {
    expect(problems).toEqual([]);
  });
});

// The live demo (/demo/) with a shared list, in Chromium: two users, each in a window of their own
// with their own token. A creates a list and invites B; B pastes the invitation and joins; a task
// B adds appears in A's window, and one A completes is done in B's, without a reload, through
// /live and /changes. A viewer's attempt to write shows the API's 403 problem. Nothing but the
// public API, and no CSP violation or page error on the way.
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newUser, tokenFor, workerUrl } from "../support/api.ts";
import { launchBrowser, screenshot, screenshotOnFailure } from "./support.ts";

describe("/demo/: a list shared between two users in two Chromium windows", () => {
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  const bobId = newUser();
  const problems: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    const users = [newUser(), bobId];
    // Two windows: two contexts, as two people's browsers would be (nothing shared but the server).
    const pages = await Promise.all(users.map(async () => (await browser.newContext()).newPage()));
    [alice, bob] = pages as [Page, Page];
    for (const [index, page] of pages.entries()) {
      page.on("pageerror", (error) => problems.push(String(error)));
      page.on("console", (message) => {
        // A refused write is the test's point: Chromium logs the failed request itself, nothing else may fail.
        if (message.type() === "error" && !/status of 403/.test(message.text())) problems.push(`console: ${message.text()}`);
      });
      await page.goto(`${workerUrl()}/demo/`);
      await page.fill("#token", await tokenFor(users[index]));
      await page.click("#sign-in button[type=submit]");
      await page.locator("#status[data-state=live]").waitFor();
    }
  });

  afterEach(async ({ task }) => {
    await screenshotOnFailure(alice, task);
    await screenshotOnFailure(bob, task);
  });

  afterAll(() => browser?.close());

  const item = (page: Page, title: string) => page.locator("#tasks li", { hasText: title });
  const shownList = (page: Page) => page.locator("#list option:checked").textContent();

  /** The owner creates a list in their window and invites with `role`; answers the token the page shows. */
  async function createAndInvite(name: string, role: "editor" | "viewer"): Promise<string> {
    await alice.fill("#list-name", name);
    await alice.click("#new-list button[type=submit]");
    await expect.poll(() => shownList(alice)).toBe(name);
    expect(await alice.locator("#role").textContent()).toBe("owner");
    await alice.selectOption("#invite-role", role);
    await alice.click("#invite button[type=submit]");
    await alice.locator("#invitation-token").waitFor();
    const token = await alice.locator("#invitation-token").inputValue();
    expect(token).toMatch(/^inv_[A-Za-z0-9_-]{43}$/);
    return token;
  }

  /** B pastes the token in their window and joins: the page switches to the list. */
  async function accept(token: string, name: string, role: "editor" | "viewer"): Promise<void> {
    await bob.fill("#accept-token", token);
    await bob.click("#accept button[type=submit]");
    await expect.poll(() => shownList(bob)).toBe(`${name} (shared, ${role})`);
    expect(await bob.locator("#role").getAttribute("data-role")).toBe(role);
  }

  it("starts on each user's Inbox, where only its owner may invite", async () => {
    for (const page of [alice, bob]) {
      expect(await shownList(page)).toBe("Inbox");
      expect(await page.locator("#invite").isHidden()).toBe(true);
    }
  });

  it("A creates a list and invites an editor; B pastes the token in the other window and joins it", async () => {
    const token = await createAndInvite("Groceries", "editor");
    await accept(token, "Groceries", "editor");
    // A's window hears of it: the list is shared now, and B is a member, without a reload.
    await expect.poll(() => shownList(alice), { timeout: 10_000 }).toBe("Groceries (shared, owner)");
    await expect.poll(() => alice.locator("#members").textContent(), { timeout: 10_000 }).toContain(`${bobId} (editor)`);
    // B's own Inbox is still there, to pick.
    expect(await bob.locator("#list option").allTextContents()).toEqual(["Inbox", "Groceries (shared, editor)"]);
  });

  it("a task B adds to the shared list appears in A's window", async () => {
    await bob.fill("#title", "oat milk");
    await bob.click("#add button[type=submit]");
    await item(bob, "oat milk").waitFor();
    await item(alice, "oat milk").waitFor({ timeout: 10_000 });
    expect(await item(alice, "oat milk").locator(".by").textContent()).toBe(`by ${bobId}`);
    // Not in either Inbox.
    await alice.selectOption("#list", { label: "Inbox" });
    expect(await item(alice, "oat milk").count()).toBe(0);
    await alice.selectOption("#list", { label: "Groceries (shared, owner)" });
    await item(alice, "oat milk").waitFor();
  });

  it("a completion A makes is done in B's window, and B's undoing it is undone in A's", async () => {
    await item(alice, "oat milk").locator("input[type=checkbox]").check();
    await expect.poll(() => item(bob, "oat milk").getAttribute("class"), { timeout: 10_000 }).toBe("done");
    expect(await item(bob, "oat milk").locator("input[type=checkbox]").isChecked()).toBe(true);
    await screenshot(bob, "demo-shared-list");
    await item(bob, "oat milk").locator("input[type=checkbox]").uncheck();
    await expect.poll(() => item(alice, "oat milk").getAttribute("class"), { timeout: 10_000 }).toBe("");
  });

  it("a viewer's attempt to add a task shows the 403 problem's detail, and adds nothing", async () => {
    const token = await createAndInvite("Read only", "viewer");
    await accept(token, "Read only", "viewer");
    expect(await bob.locator("#role").textContent()).toBe("viewer: read only");
    expect(await bob.locator("#invite").isHidden()).toBe(true);
    await bob.fill("#title", "not allowed");
    await bob.click("#add button[type=submit]");
    await expect
      .poll(() => bob.locator("#error").textContent())
      .toBe("you are a viewer of this list: its tasks can be read, not written (list_read_only)");
    expect(await bob.locator("#error").isVisible()).toBe(true);
    expect(await item(bob, "not allowed").count()).toBe(0);
    expect(await bob.locator("#empty").isVisible()).toBe(true);
    // The owner's window has the list, with B as a viewer, and no such task.
    await expect.poll(() => alice.locator("#members").textContent(), { timeout: 10_000 }).toContain(`${bobId} (viewer)`);
    expect(await item(alice, "not allowed").count()).toBe(0);
    await screenshot(alice, "demo-shared-list-owner");
  });

  it("made no page error and no Content-Security-Policy violation", () => {
    expect(problems).toEqual([]);
  });
});

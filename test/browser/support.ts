// What the browser tests share: Debian's Chromium driven by playwright-core, screenshots into
// test-results/, and a tiny static HTTP server to play a frontend on another origin.
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";

const ROOT = path.resolve(import.meta.dirname, "../..");
export const RESULTS_DIR = path.join(ROOT, "test-results");

/** The system Chromium (`apt-get install chromium`), headless; no bundled Playwright browser is needed. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** Saves test-results/<name>.png (the full page, or just one element) and returns its path. */
export async function screenshot(target: Page | Locator, name: string): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  if ("goto" in target) await target.screenshot({ path: file, fullPage: true });
  else await target.screenshot({ path: file });
  return file;
}

/** After a failed test: a screenshot of where the page got to, as test-results/failed-<test name>.png. */
export async function screenshotOnFailure(page: Page | undefined, task: { name: string; result?: { state: string } }): Promise<void> {
  if (page === undefined || page.isClosed() || task.result?.state !== "fail") return;
  const slug = task.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  await screenshot(page, `failed-${slug}`).catch(() => {});
}

export interface StaticServer {
  /** e.g. http://127.0.0.1:41234, the page's origin. */
  origin: string;
  stop(): Promise<void>;
}

/** Serves `html` at / (and 404 elsewhere) on 127.0.0.1, on a free port. */
export async function serveHtml(html: string): Promise<StaticServer> {
  const server: Server = createServer((request, response) => {
    if (request.url === "/" || request.url === "/index.html") {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      response.end(html);
    } else {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

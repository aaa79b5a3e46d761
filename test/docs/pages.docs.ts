// npm run test:docs: the docs run. Every shell block (```sh, ```bash) of README.md and docs/*.md,
// page by page and in order, against one fresh `npm run dev` (its own database and Durable Object
// state). The blocks of a page share one bash session (test/docs/shell.ts); each page starts a
// new one. A block passes when every command in it succeeds within 60 s and every request it made
// was answered 2xx (or 101, a /live upgrade), except the statuses the page announces right above
// the block with `<!-- docs: expect 412 -->`, each of which must then occur. A block under
// `<!-- docs: skip (reason) -->` is not run, only checked to be valid bash. The statuses come from
// the Worker's own log line per request (LOG_REQUESTS=all), so curl, node and browsers alike count.
// One page: `npm run test:docs -- -t docs/api.md`; what each block printed: DOCS_VERBOSE=1.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { pagesAt } from "../../scripts/check-docs.ts";
import { type Fence, isRunnable, parsePage } from "../../scripts/lib/markdown.ts";
import { type DevServer, type LoggedRequest, startDevServer } from "./dev-server.ts";
import { Shell } from "./shell.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BLOCK_TIMEOUT_MS = 60_000;
/** The address the pages use; the run's server listens elsewhere, so blocks are rewritten to it. */
const DOCUMENTED_HOSTS = ["127.0.0.1:8787", "localhost:8787"];

let server: DevServer;

beforeAll(async () => {
  server = await startDevServer();
});

afterAll(async () => {
  await server?.stop();
});

/** The first line of a block that says something, for the test's name. */
function firstLine(fence: Fence): string {
  const line = fence.code.split("\n").find((text) => text.trim() !== "") ?? "(empty)";
  return line.trim().length > 80 ? `${line.trim().slice(0, 79)}…` : line.trim();
}

/** The settings lines of a .dev.vars-style file (no comments, sorted), or undefined when there is none. */
function settingsOf(file: string): string | undefined {
  try {
    const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
    return lines
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"))
      .sort()
      .join("\n");
  } catch {
    return undefined;
  }
}

/**
 * The dev server and `npm run token` use the checkout's .dev.vars (created from the template when
 * missing, as in CI): a failure may come from a local setting, which the message then says.
 */
const LOCAL_SETTINGS =
  settingsOf(".dev.vars") === undefined || settingsOf(".dev.vars") === settingsOf(".dev.vars.example")
    ? ""
    : "\nnote: this checkout's .dev.vars differs from .dev.vars.example, and the dev server uses it: a clean clone may answer differently.";

const succeeded = (status: number) => (status >= 200 && status < 300) || status === 101;

function describeRequest(request: LoggedRequest): string {
  const route = request.route === null ? "no route" : `route ${request.route}`;
  return `${request.method} ${request.path ?? "(path not seen)"} → ${request.status} (${route}, request id ${request.requestId})`;
}

for (const page of pagesAt(ROOT)) {
  const fences = parsePage(readFileSync(path.join(ROOT, page), "utf8")).fences.filter(isRunnable);
  if (fences.length === 0) continue;

  describe(page, () => {
    let shell: Shell;

    beforeAll(() => {
      // A clean environment: nothing the page did not set itself (TOKEN, API…) leaks in.
      shell = new Shell(ROOT, {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
        LANG: "C.UTF-8",
        TERM: "dumb",
        NO_COLOR: "1",
      });
    });

    afterAll(() => {
      shell?.kill();
    });

    for (const fence of fences) {
      const name = `${page}:${fence.line} ${firstLine(fence)}`;
      const skip = fence.directives.find((directive) => directive.kind === "skip");
      if (skip !== undefined) {
        // Not run (it installs, deploys or runs a suite), but still a block a reader pastes:
        // it must at least be valid bash.
        it(`${name} (not run: ${skip.reason}; its syntax is checked)`, () => {
          const checked = spawnSync("bash", ["-n"], { input: fence.code, encoding: "utf8" });
          if (checked.status !== 0) throw new Error(`${page}, the block at line ${fence.line} is not valid bash:\n${checked.stderr}`);
        });
        continue;
      }
      const announced = new Set(fence.directives.flatMap((directive) => (directive.kind === "expect" ? directive.statuses : [])));

      it(name, async () => {
        if (shell.dead) throw new Error(`not run: an earlier block of ${page} failed, and this one may need what it set up`);
        const code = DOCUMENTED_HOSTS.reduce((text, host) => text.replaceAll(host, `127.0.0.1:${server.port}`), fence.code);
        const ran = await shell.run(code, BLOCK_TIMEOUT_MS);
        // bash names the block's temporary file and a line in it: name the page's line instead.
        const result = {
          ...ran,
          output: ran.output.replace(/\S*block-\d+\.sh: line (\d+)/g, (_, line) => `${page}:${fence.line + Number(line)}`),
        };
        const requests = await server.mark();
        if (process.env.DOCS_VERBOSE) console.log(`${name}\n${result.output}\n${requests.map(describeRequest).join("\n")}`);

        const problems: string[] = [];
        if (!result.ok) problems.push(`the block failed: ${result.failure}`);
        const unexpected = requests.filter((request) => !succeeded(request.status) && !announced.has(request.status));
        for (const request of unexpected) {
          problems.push(`${describeRequest(request)}, which the page does not announce (<!-- docs: expect ${request.status} -->)`);
        }
        if (result.ok) {
          for (const status of announced) {
            if (!requests.some((request) => request.status === status)) {
              problems.push(`the page announces ${status} (<!-- docs: expect … -->), but no request of the block was answered ${status}`);
            }
          }
        }
        if (problems.length === 0) return;
        const seen = requests.length === 0 ? "  (none)" : requests.map((request) => `  ${describeRequest(request)}`).join("\n");
        const output = result.output.split("\n").slice(-30).join("\n");
        throw new Error(
          `${page}, the block at line ${fence.line} ("${firstLine(fence)}"):\n- ${problems.join("\n- ")}\n` +
            `requests of the block:\n${seen}\nwhat it printed (last 30 lines):\n${output}${LOCAL_SETTINGS}`,
        );
      });
    }
  });
}

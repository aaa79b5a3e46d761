// The docs checker of `npm run check` (scripts/check-docs.ts) on pages written here, against a
// repository that exists only in memory: what a reader would follow must be there.
import { describe, expect, it } from "vitest";
import { checkPage, npmScripts, type Repository } from "../../scripts/check-docs.ts";
import { parsePage, slug } from "../../scripts/lib/markdown.ts";

const FILES: Record<string, string> = {
  "README.md": "# Task API\n",
  "docs/api.md": "# API\n\n## Errors\n\n## Safe edits and retries: ETag, If-Match, Idempotency-Key\n\n## Errors\n",
  "src/db/functions.sql": "-- task_write\n",
  ".dev.vars": "BETTER_AUTH_SECRET=…\n",
};

const repository: Repository = {
  exists: (relative) => relative in FILES || Object.keys(FILES).some((file) => file.startsWith(`${relative}/`)),
  read: (relative) => FILES[relative],
  ignored: (relatives) => new Set(relatives.filter((relative) => relative === ".dev.vars")),
  scripts: (workspace) => (workspace === "" ? new Set(["dev", "test", "token"]) : workspace === "client" ? new Set(["build"]) : undefined),
};

const problems = (page: string, text: string) => checkPage(repository, page, text).map(({ line, message }) => `${line}: ${message}`);

describe("links", () => {
  it("accepts relative links to files, directories and headings that exist", () => {
    const text = [
      "See [the API](api.md), [errors](api.md#errors), [the second errors](api.md#errors-1),",
      "[retries](api.md#safe-edits-and-retries-etag-if-match-idempotency-key), [the SQL](../src/db/functions.sql),",
      "[src](../src/db/), [top](#sync), [the README](../README.md) and [Cloudflare](https://developers.cloudflare.com).",
    ].join("\n");
    expect(problems("docs/sync.md", `# Sync\n\n${text}\n`)).toEqual([]);
  });

  it("fails on a link to a file that is not there", () => {
    expect(problems("README.md", "# Task API\n\nThe contract is [docs/contract.md](docs/contract.md).\n")).toEqual([
      '3: link "docs/contract.md": docs/contract.md does not exist',
    ]);
  });

  it("fails on a link that leaves the repository, however it is spelled", () => {
    expect(problems("README.md", "[API.md](../shared/API.md)\n")).toEqual(['1: link "../shared/API.md" leaves the repository']);
    expect(problems("docs/api.md", "[up](../../shared/API.md#errors)\n")).toEqual([
      '1: link "../../shared/API.md#errors" leaves the repository',
    ]);
    expect(problems("docs/api.md", "[root](/README.md)\n")).toEqual(['1: link "/README.md" is absolute; link relative to this page']);
  });

  it("fails on an anchor that no heading of the target page has", () => {
    expect(problems("README.md", "[errors](docs/api.md#error)\n")).toEqual([
      '1: link "docs/api.md#error": docs/api.md has no heading with the anchor #error',
    ]);
  });

  it("fails on a link to a git-ignored file, which no clone has", () => {
    expect(problems("README.md", "Secrets go in [.dev.vars](.dev.vars).\n")).toEqual([
      '1: link ".dev.vars": .dev.vars is git-ignored, so no clone has it',
    ]);
  });

  it("ignores links inside code blocks and inline code", () => {
    expect(problems("README.md", "`[not a link](nowhere.md)`\n\n```md\n[nor this](nowhere.md)\n```\n")).toEqual([]);
  });
});

describe("npm scripts", () => {
  it("fails on `npm run X` when package.json has no script X, in prose and in code", () => {
    const text = "Run `npm run tokens -- demo-user`.\n\n```sh\nnpm run dev\nnpm run --silent token -- me && npm run bench\n```\n";
    expect(problems("README.md", text)).toEqual([
      '1: npm run tokens: package.json has no script "tokens"',
      '5: npm run bench: package.json has no script "bench"',
    ]);
  });

  it("reads the workspace a script runs in, before or after its name", () => {
    expect(npmScripts("npm run build --workspace client && npm -w client run build && npm test")).toEqual([
      { script: "build", workspace: "client" },
      { script: "build", workspace: "client" },
      { script: "test", workspace: "" },
    ]);
    expect(problems("README.md", "npm run build -w client\nnpm run build\n")).toEqual([
      '2: npm run build: package.json has no script "build"',
    ]);
  });

  it("does not take an ellipsis or a placeholder for a script name", () => {
    expect(npmScripts("every `npm run …` command; npm run <name>")).toEqual([]);
  });
});

describe("docs directives", () => {
  it("parses skip and expect right above a fence", () => {
    const page = parsePage(
      "<!-- docs: skip (deploys) -->\n\n```sh\nnpm run deploy\n```\n\n<!-- docs: expect 304 412 -->\n```bash\ncurl x\n```\n",
    );
    expect(page.fences.map(({ lang, line, directives }) => ({ lang, line, directives }))).toEqual([
      { lang: "sh", line: 3, directives: [{ kind: "skip", reason: "deploys", line: 1 }] },
      { lang: "bash", line: 8, directives: [{ kind: "expect", statuses: [304, 412], line: 7 }] },
    ]);
  });

  it("fails on a directive it does not know, a skip without a reason, or one that is not above a shell block", () => {
    const text = [
      "<!-- docs: expect four-twelve -->\n```sh\nx\n```",
      "<!-- docs: skip -->\n\n```sh\ny\n```",
      "<!-- docs: expect 404 -->\nSome text.",
      "<!-- docs: skip (not shell) -->\n```ts\nz\n```\n",
    ].join("\n\n");
    expect(problems("README.md", text)).toEqual([
      '1: "docs: expect four-twelve" is not "docs: skip (reason)" or "docs: expect <status> …"',
      '6: "docs: skip" is not "docs: skip (reason)" or "docs: expect <status> …"',
      '15: "docs: skip" is above a ts block, which never runs',
      '12: "docs: expect 404" is not right above a code block',
    ]);
  });
});

describe("GitHub's heading anchors", () => {
  it("drops punctuation and code marks, keeps hyphens and underscores, and numbers repeats", () => {
    expect(slug("Live updates: `/live` and the demo page")).toBe("live-updates-live-and-the-demo-page");
    expect(slug("Why `position > cursor` is exact")).toBe("why-position--cursor-is-exact");
    expect(slug("A. Better Auth's JWT plugin, verified with its JWKS (recommended)")).toBe(
      "a-better-auths-jwt-plugin-verified-with-its-jwks-recommended",
    );
    expect(slug("Soak: `npm run soak`")).toBe("soak-npm-run-soak");
    expect(slug("snake_case and [a link](x.md)")).toBe("snake_case-and-a-link");
    expect([...parsePage("# A\n## Errors\n## Errors\n").anchors]).toEqual(["a", "errors", "errors-1"]);
  });
});

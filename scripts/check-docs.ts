// Part of `npm run check`: the pages a reader follows (README.md and docs/*.md) must not send them
// anywhere that is not there. Fails on a relative link that leaves the repository or names a file
// that is missing or git-ignored (absent from every clone), on a #fragment that no heading of the
// target page has (GitHub's anchors), on an `npm run X` whose script package.json does not have,
// and on a `<!-- docs: … -->` directive that `npm run test:docs` would not understand.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { isRunnable, parsePage } from "./lib/markdown.ts";

export interface Problem {
  /** The page, relative to the repository. */
  page: string;
  line: number;
  message: string;
}

/** What the checker needs to know about the repository; a fake one in the unit test. */
export interface Repository {
  /** Whether `relative` (a path inside the repository, "/"-separated) is a file or directory there. */
  exists(relative: string): boolean;
  /** A page's text, or undefined when it is not a readable file. */
  read(relative: string): string | undefined;
  /** Paths among `relatives` that git ignores: present here, absent from a clone. */
  ignored(relatives: string[]): Set<string>;
  /** The scripts of the package.json in `workspace` ("" for the root); undefined when there is none. */
  scripts(workspace: string): Set<string> | undefined;
}

/** The repository on disk at `root`. */
export function repositoryAt(root: string): Repository {
  const inside = (relative: string) => path.join(root, relative);
  return {
    exists: (relative) => existsSync(inside(relative)),
    read: (relative) => {
      try {
        return statSync(inside(relative)).isFile() ? readFileSync(inside(relative), "utf8") : undefined;
      } catch {
        return undefined;
      }
    },
    ignored: (relatives) => {
      if (relatives.length === 0) return new Set();
      try {
        const output = execFileSync("git", ["check-ignore", "--stdin"], { cwd: root, input: relatives.join("\n"), encoding: "utf8" });
        return new Set(output.split("\n").filter((line) => line !== ""));
      } catch (error) {
        // Exit status 1: none is ignored. Anything else (no git, not a repository): nothing known.
        const stdout = (error as { stdout?: unknown }).stdout;
        return new Set(typeof stdout === "string" ? stdout.split("\n").filter((line) => line !== "") : []);
      }
    },
    scripts: (workspace) => {
      try {
        const manifest = JSON.parse(readFileSync(path.join(root, workspace, "package.json"), "utf8")) as {
          scripts?: Record<string, string>;
        };
        return new Set(Object.keys(manifest.scripts ?? {}));
      } catch {
        return undefined;
      }
    },
  };
}

/** The pages this checks: README.md and docs/*.md, relative to `root`. */
export function pagesAt(root: string): string[] {
  const docs = existsSync(path.join(root, "docs")) ? readdirSync(path.join(root, "docs")).filter((name) => name.endsWith(".md")) : [];
  return ["README.md", ...docs.sort().map((name) => `docs/${name}`)];
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/** A shell word that can be a script name, once quotes, backticks and closing punctuation are trimmed. */
const SCRIPT_NAME = /^[A-Za-z0-9][\w:.-]*$/;

/**
 * The npm scripts a line runs: `npm run X`, `npm run-script X`, `npm test`, `npm start`, each with
 * its workspace ("" for the root; `-w client`, `--workspace=client`).
 */
export function npmScripts(line: string): { script: string; workspace: string }[] {
  const found: { script: string; workspace: string }[] = [];
  const words = line.split(/\s+/).map((word) => word.replace(/^[`"'(]+|[`"'),.;:]+$/g, ""));
  for (let start = 0; start < words.length; start++) {
    if (words[start] !== "npm") continue;
    let workspace = "";
    let index = start + 1;
    const option = () => {
      const word = words[index] ?? "";
      const inline = /^(?:-w|--workspace)=(.+)$/.exec(word);
      if (inline?.[1] !== undefined) workspace = inline[1];
      else if (word === "-w" || word === "--workspace") workspace = words[++index] ?? "";
      index++;
    };
    while ((words[index] ?? "").startsWith("-")) option();
    const command = words[index++];
    if (command === "test" || command === "start") {
      found.push({ script: command, workspace });
      continue;
    }
    if (command !== "run" && command !== "run-script") continue;
    while ((words[index] ?? "").startsWith("-")) option();
    const script = words[index++] ?? "";
    // npm's own options may follow the script name too (`npm run build -w client`), up to `--`.
    while (index < words.length && !["--", "&&", "||", ";", "|"].includes(words[index] ?? "")) {
      if ((words[index] ?? "").startsWith("-")) option();
      else index++;
    }
    if (SCRIPT_NAME.test(script)) found.push({ script, workspace });
  }
  return found;
}

/** The problems of one page. */
export function checkPage(repository: Repository, page: string, text: string): Problem[] {
  const problems: Problem[] = [];
  const report = (line: number, message: string) => problems.push({ page, line, message });
  const parsed = parsePage(text);
  const directory = path.posix.dirname(page);

  const targets: { line: number; target: string; file: string; fragment: string | undefined }[] = [];
  for (const { target, line } of parsed.links) {
    if (target === "" || SCHEME.test(target)) continue;
    if (target.startsWith("/")) {
      report(line, `link "${target}" is absolute; link relative to this page`);
      continue;
    }
    const hash = target.indexOf("#");
    const pathPart = (hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, "");
    const fragment = hash < 0 ? undefined : target.slice(hash + 1);
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathPart);
    } catch {
      report(line, `link "${target}" is not a valid URL path`);
      continue;
    }
    const file = decoded === "" ? page : path.posix.normalize(path.posix.join(directory, decoded));
    if (file === ".." || file.startsWith("../")) {
      report(line, `link "${target}" leaves the repository`);
      continue;
    }
    targets.push({ line, target, file: file.replace(/\/$/, "") || ".", fragment });
  }

  const ignored = repository.ignored([...new Set(targets.map(({ file }) => file))]);
  for (const { line, target, file, fragment } of targets) {
    if (file !== page && !repository.exists(file)) {
      report(line, `link "${target}": ${file} does not exist`);
      continue;
    }
    if (file !== page && ignored.has(file)) {
      report(line, `link "${target}": ${file} is git-ignored, so no clone has it`);
      continue;
    }
    if (fragment === undefined || fragment === "" || !file.endsWith(".md")) continue;
    const anchors = file === page ? parsed.anchors : parsePage(repository.read(file) ?? "").anchors;
    if (!anchors.has(decodeURIComponent(fragment))) report(line, `link "${target}": ${file} has no heading with the anchor #${fragment}`);
  }

  text.split("\n").forEach((line, index) => {
    for (const { script, workspace } of npmScripts(line)) {
      const scripts = repository.scripts(workspace);
      const where = workspace === "" ? "package.json" : `${workspace}/package.json`;
      if (scripts === undefined) report(index + 1, `npm ${script}: there is no ${where}`);
      else if (!scripts.has(script)) report(index + 1, `npm run ${script}: ${where} has no script "${script}"`);
    }
  });

  for (const fence of parsed.fences) {
    if (!fence.closed) report(fence.line, "code block is never closed");
    for (const directive of fence.directives) {
      if (directive.kind === "invalid")
        report(directive.line, `"docs: ${directive.text}" is not "docs: skip (reason)" or "docs: expect <status> …"`);
      else if (!isRunnable(fence))
        report(directive.line, `"docs: ${directive.kind}" is above a ${fence.lang || "plain"} block, which never runs`);
    }
  }
  for (const orphan of parsed.orphans) report(orphan.line, `"docs: ${orphan.text}" is not right above a code block`);
  return problems;
}

export function checkDocs(root: string): Problem[] {
  const repository = repositoryAt(root);
  return pagesAt(root).flatMap((page) => {
    const text = repository.read(page);
    return text === undefined ? [{ page, line: 0, message: "missing" }] : checkPage(repository, page, text);
  });
}

if (import.meta.main) {
  const root = path.resolve(import.meta.dirname, "..");
  const problems = checkDocs(root);
  for (const { page, line, message } of problems) console.error(`${page}:${line}: ${message}`);
  if (problems.length > 0) {
    console.error(`docs: ${problems.length} problem${problems.length === 1 ? "" : "s"} (scripts/check-docs.ts)`);
    process.exit(1);
  }
  console.log(`docs: links and npm scripts of ${pagesAt(root).length} pages resolve.`);
}

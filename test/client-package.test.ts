// The typed client as a frontend gets it: client/ packed by `npm pack` (its prepack builds dist/),
// the tarball installed into scratch projects set up like create-next-app's and Vite's react-ts
// template, and docs/frontend.md's main example type-checked there as printed by TypeScript 5;
// then, under nodenext with the package's own declarations checked too, the same file run by
// Node against the test Worker. No registry: the client's dependencies are packed from this
// repository's node_modules and everything is installed --offline into an empty npm cache.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser, tokenFor, workerUrl } from "./support/api.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const CLIENT = path.join(ROOT, "client");
/** TypeScript 5, the client's own (the root's is TypeScript 7, which has no compiler API yet). */
const TSC = createRequire(path.join(CLIENT, "package.json")).resolve("typescript/bin/tsc");
/** The line right above the docs' main example. */
const MARKER = "<!-- test/client-package.test.ts:";
/** Generous: npm and tsc on a busy 2-core machine. */
const COMMAND_MS = 240_000;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (never throws for a non-zero exit), without npm's own settings of the run that started vitest. */
function run(file: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Ran> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(config|package|lifecycle)_/i.test(name)));
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, env: { ...clean, NO_COLOR: "1", ...env }, timeout: COMMAND_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr: error?.killed ? `${stderr}\n(killed after ${COMMAND_MS} ms)` : stderr });
      },
    );
  });
}

async function succeed(file: string, args: string[], cwd: string, env?: Record<string, string>): Promise<string> {
  const ran = await run(file, args, cwd, env);
  if (ran.code !== 0) throw new Error(`${file} ${args.join(" ")} (in ${cwd}) exited ${ran.code}:\n${ran.stdout}\n${ran.stderr}`);
  return ran.stdout;
}

/** The package directories of the client's dependencies and theirs, found as Node finds them. */
async function dependencyDirs(): Promise<string[]> {
  const found = new Map<string, string>();
  const visit = async (dir: string): Promise<void> => {
    const { dependencies = {} } = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(dependencies)) {
      if (found.has(name)) continue;
      let at = dir;
      while (!existsSync(path.join(at, "node_modules", name, "package.json"))) {
        if (path.dirname(at) === at) throw new Error(`${name} (a dependency of ${dir}) is not installed: run npm ci`);
        at = path.dirname(at);
      }
      found.set(name, path.join(at, "node_modules", name));
      await visit(path.join(at, "node_modules", name));
    }
  };
  await visit(CLIENT);
  return [...found.values()];
}

/** docs/frontend.md's main example: the ts block right under the marker. */
async function docsExample(): Promise<string> {
  const page = await readFile(path.join(ROOT, "docs/frontend.md"), "utf8");
  const at = page.indexOf(MARKER);
  const block = /^[^\n]*-->\n```ts\n([\s\S]*?)^```$/m.exec(page.slice(at));
  if (at < 0 || block?.[1] === undefined) throw new Error(`docs/frontend.md has no \`\`\`ts block under "${MARKER} …"`);
  return block[1];
}

/** Projects a frontend starts from, each with its tsconfig as the generator writes it (less what needs packages not here). */
const PROJECTS = {
  // create-next-app (Next.js 15): its tsconfig.json, example in lib/.
  next: {
    packageJson: { name: "next-app", version: "0.1.0", private: true },
    tsconfig: {
      compilerOptions: {
        target: "ES2017",
        lib: ["dom", "dom.iterable", "esnext"],
        allowJs: true,
        skipLibCheck: true,
        strict: true,
        noEmit: true,
        esModuleInterop: true,
        module: "esnext",
        moduleResolution: "bundler",
        resolveJsonModule: true,
        isolatedModules: true,
        jsx: "preserve",
        incremental: true,
        plugins: [{ name: "next" }],
        paths: { "@/*": ["./*"] },
      },
      include: ["next-env.d.ts", "**/*.ts", "**/*.tsx", ".next/types/**/*.ts"],
      exclude: ["node_modules"],
    },
    example: "lib/tasks.ts",
  },
  // create-vite's react-ts template: its tsconfig.app.json (without "types": ["vite/client"]), example in src/.
  vite: {
    packageJson: { name: "vite-app", private: true, version: "0.0.0", type: "module" },
    tsconfig: {
      compilerOptions: {
        tsBuildInfoFile: "./node_modules/.tmp/tsconfig.app.tsbuildinfo",
        target: "ES2022",
        useDefineForClassFields: true,
        lib: ["ES2022", "DOM", "DOM.Iterable"],
        module: "ESNext",
        types: [],
        skipLibCheck: true,
        moduleResolution: "bundler",
        allowImportingTsExtensions: true,
        verbatimModuleSyntax: true,
        moduleDetection: "force",
        noEmit: true,
        jsx: "react-jsx",
        strict: true,
        noUnusedLocals: true,
        noUnusedParameters: true,
        erasableSyntaxOnly: true,
        noFallthroughCasesInSwitch: true,
        noUncheckedSideEffectImports: true,
      },
      include: ["src"],
    },
    example: "src/tasks.ts",
  },
  // Node's own resolution, and the package's declarations (and openapi-fetch's) checked, not skipped.
  node: {
    packageJson: { name: "node-app", private: true, version: "0.0.0", type: "module" },
    tsconfig: {
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        types: [],
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        noEmit: true,
        skipLibCheck: false,
      },
      include: ["tasks.ts"],
    },
    example: "tasks.ts",
  },
} as const;
type ProjectName = keyof typeof PROJECTS;

// Transport-independent: on the "hyperdrive" project only (vitest.config.ts).
describe("the client package, installed from its tarball", () => {
  let scratch: string;
  let copy: string | undefined;
  let packed: { filename: string; files: { path: string }[] }[];
  const dir = (project: ProjectName) => path.join(scratch, project);
  const tsc = (project: ProjectName) => run(process.execPath, [TSC, "-p", dir(project), "--pretty", "false"], dir(project));

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "task-api-client-package-"));
    const tarballs = path.join(scratch, "tarballs");
    await mkdir(tarballs);
    // npm pack runs the client's prepack (node build.js: tsc into dist/), in a copy of client/, so
    // that another test run in this checkout (a second npm test) never sees its dist/ half built.
    // The copy sits inside the repository (.scratch/ is git-ignored) so that it resolves
    // openapi-fetch from the root's node_modules, and TypeScript 5 through client's, linked.
    await mkdir(path.join(ROOT, ".scratch"), { recursive: true });
    copy = await mkdtemp(path.join(ROOT, ".scratch", "client-"));
    await cp(CLIENT, copy, { recursive: true, filter: (source) => !/[/\\](node_modules|dist)$/.test(source) });
    await symlink(path.join(CLIENT, "node_modules"), path.join(copy, "node_modules"), "dir");
    // The dependencies are packed as installed, scripts off.
    const [client, dependencies] = await Promise.all([
      succeed("npm", ["pack", copy, "--pack-destination", tarballs, "--json"], ROOT),
      succeed("npm", ["pack", ...(await dependencyDirs()), "--ignore-scripts", "--pack-destination", tarballs, "--json"], ROOT),
    ]);
    packed = [...JSON.parse(client), ...JSON.parse(dependencies)];
    // All the tarballs at once: npm places openapi-fetch and its dependency from theirs, and the
    // client's "openapi-fetch": "0.17.0" is satisfied by that. An empty cache and an empty user
    // config: --offline then fails (ENOTCACHED) rather than reach a registry.
    await writeFile(path.join(scratch, "npmrc"), "");
    const example = await docsExample();
    await Promise.all(
      Object.entries(PROJECTS).map(async ([name, project]) => {
        const at = path.join(scratch, name);
        await mkdir(path.dirname(path.join(at, project.example)), { recursive: true });
        await writeFile(path.join(at, "package.json"), `${JSON.stringify(project.packageJson, null, 2)}\n`);
        await writeFile(path.join(at, "tsconfig.json"), `${JSON.stringify(project.tsconfig, null, 2)}\n`);
        await writeFile(path.join(at, project.example), example);
        const install = ["install", "--offline", "--no-audit", "--no-fund", "--cache", path.join(scratch, "cache")];
        await succeed(
          "npm",
          [...install, "--userconfig", path.join(scratch, "npmrc"), ...packed.map((pack) => path.join(tarballs, pack.filename))],
          at,
        );
      }),
    );
  }, 2 * COMMAND_MS);

  afterAll(async () => {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    if (copy !== undefined) await rm(copy, { recursive: true, force: true });
  });

  it("packs dist/ (ESM, declarations, the generated types), package.json and README.md: no sources", () => {
    const files = packed[0]?.files.map((file) => file.path).sort();
    expect(files).toEqual([
      "README.md",
      "dist/api.d.ts",
      "dist/api.js",
      "dist/changes.d.ts",
      "dist/changes.js",
      "dist/index.d.ts",
      "dist/index.js",
      "dist/live.d.ts",
      "dist/live.js",
      "dist/schema.d.ts",
      "package.json",
    ]);
  });

  it("type-checks the docs' example as printed, in a Next.js-style, a Vite-style and a nodenext project", async () => {
    const checks = await Promise.all(
      (Object.keys(PROJECTS) as ProjectName[]).map(async (project) => ({ project, ...(await tsc(project)) })),
    );
    for (const check of checks)
      expect(`${check.project}: exit ${check.code}\n${check.stdout}${check.stderr}`).toBe(`${check.project}: exit 0\n`);
  });

  it("fails to type-check once the line under @ts-expect-error is let through", async () => {
    const file = path.join(dir("vite"), PROJECTS.vite.example);
    const example = await readFile(file, "utf8");
    const lines = example.split("\n");
    const directive = lines.findIndex((line) => line.trim().startsWith("// @ts-expect-error"));
    expect(directive).toBeGreaterThanOrEqual(0);
    await writeFile(path.join(dir("vite"), "src/let-through.ts"), lines.filter((_, index) => index !== directive).join("\n"));
    try {
      const check = await tsc("vite");
      expect(check.code).not.toBe(0);
      expect(check.stdout).toContain(`src/let-through.ts(${directive + 1},`);
      expect(check.stdout).toContain("error TS2322");
    } finally {
      await rm(path.join(dir("vite"), "src/let-through.ts"));
    }
  });

  it("runs in Node from the installed package: the example's calls against the Worker, then /live", async () => {
    const user = newUser();
    // The driver imports the example itself (Node strips its types): what runs is what was type-checked.
    await writeFile(
      path.join(dir("node"), "run.js"),
      `import { createTaskClient, unwrap } from "@task-api/client";
import { syncTasks, tryTheApi } from "./tasks.ts";

const { BASE_URL: baseUrl, USER_ID: userId, TOKEN } = process.env;
const token = async () => TOKEN;
const done = await tryTheApi(baseUrl, userId, token);
console.log(JSON.stringify({ done: done.map(({ title, priority, completed, description }) => ({ title, priority, completed, description })) }));
// The first render follows the full sync after ready; a task created then arrives after changed.
const api = createTaskClient({ baseUrl, token });
const renders = [];
await new Promise((resolve, reject) => {
  const stop = syncTasks(baseUrl, userId, token, (tasks) => {
    renders.push(tasks.map((task) => task.title));
    if (renders.length === 1) api.POST("/api/{user_id}/tasks", { params: { path: { user_id: userId } }, body: { title: "heard on /live" } }).then(unwrap).catch(reject);
    if (tasks.some((task) => task.title === "heard on /live")) {
      stop();
      resolve();
    }
  });
});
console.log(JSON.stringify({ renders }));
`,
    );
    const ran = await run(process.execPath, ["--experimental-strip-types", "--no-warnings", "run.js"], dir("node"), {
      BASE_URL: workerUrl(),
      USER_ID: user,
      TOKEN: await tokenFor(user),
    });
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout.split("\n")).toEqual([
      "validation_failed priority",
      "404 task_not_found task not found",
      JSON.stringify({ done: [{ title: "Buy milk", priority: "high", completed: true, description: "oat, 1 l" }] }),
      JSON.stringify({ renders: [[], ["heard on /live"]] }),
      "",
    ]);
  });
});

// `npm run dev` as a developer meets it in the first minutes: the real script (embedded Postgres,
// migrations, `wrangler dev`) started once in a sandbox copy of the project, so the test has its
// own .dev.vars, data directory, .wrangler state and dist/ and never touches the developer's.
// What it checks: the local frontend origins CORS lets through, and a second instance that finds
// the ports or the data directory taken. Hyperdrive project only: npm run dev always binds
// Hyperdrive, and starting it twice per run would only cost time.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDevVars } from "../scripts/lib/dev-vars.ts";
import { freePort } from "../scripts/lib/postgres.ts";
import { sleep } from "./support/api.ts";
import { startTestWorker } from "./support/transport.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
/** What `npm run dev` should let through when ALLOWED_ORIGINS is not set. */
const LOCAL_ORIGINS = ["3000", "5173", "4200", "8080"].flatMap((port) => [`http://localhost:${port}`, `http://127.0.0.1:${port}`]);
/** Slow on a busy machine: initdb, migrations, the assets build and wrangler's bundle. */
const STARTUP_MS = 180_000;

/**
 * A copy of the project to run `npm run dev` in: its scripts and configuration copied (dev.ts
 * finds the project root from its own path), src, migrations and node_modules linked.
 */
function sandbox(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "task-api-dev-"));
  // Postgres runs as its own user when we are root; it must reach .data/ inside.
  chmodSync(dir, 0o755);
  for (const entry of ["scripts", "package.json", "wrangler.toml", ".dev.vars.example", "tsconfig.json"]) {
    cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  for (const entry of ["src", "migrations", "node_modules"]) symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
  return dir;
}

interface DevServer {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

const started: DevServer[] = [];

function startDev(cwd: string, env: Record<string, string>): DevServer {
  const child = spawn(process.execPath, ["scripts/dev.ts"], {
    cwd,
    env: {
      ...process.env,
      // As `npm run dev` would: wrangler's [build] command runs `node`, which must be this Node 22.
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
      NO_COLOR: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so that afterAll can end wrangler, workerd and Postgres with it.
    detached: true,
  });
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const server: DevServer = { url: `http://127.0.0.1:${env.PORT}`, child, output: () => text, exited };
  started.push(server);
  return server;
}

/** Resolves once GET /health answers 200; fails with what it printed if it exits or never does. */
async function ready(server: DevServer): Promise<void> {
  let exit: number | null | "running" = "running";
  void server.exited.then((code) => {
    exit = code;
  });
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline && exit === "running") {
    const status = await fetch(`${server.url}/health`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(500);
  }
  throw new Error(`npm run dev did not become ready (exit: ${String(exit)}):\n${server.output()}`);
}

/** Runs a dev server expected to give up; resolves to its exit code and output. */
async function refused(cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const server = startDev(cwd, env);
  const code = await Promise.race([server.exited, sleep(60_000).then(() => "still running" as const)]);
  if (code === "still running") throw new Error(`expected npm run dev to exit, but it runs:\n${server.output()}`);
  return { code, output: server.output() };
}

/** SIGINT (Ctrl-C) first so it stops Postgres cleanly; then SIGKILL to whatever is left of its group. */
async function stop(server: DevServer): Promise<void> {
  const pid = server.child.pid;
  if (pid === undefined) return;
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill("SIGINT");
    await Promise.race([server.exited, sleep(20_000)]);
  }
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is gone already
  }
}

/** The Access-Control-Allow-Origin a preflight from `origin` gets (null: CORS refused it). */
async function preflight(base: string, origin: string): Promise<string | null> {
  const response = await fetch(`${base}/api/someone/tasks`, {
    method: "OPTIONS",
    headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" },
  });
  expect(response.status).toBe(204);
  return response.headers.get("Access-Control-Allow-Origin");
}

/** What a failure without a hint looked like: a bare uncaught rejection, or a stack trace. */
const STACK_TRACE = /triggerUncaughtException|^\s+at .+:\d+:\d+\)?$/m;

// On the "hyperdrive" project only (vitest.config.ts): `npm run dev` always binds Hyperdrive.
describe("npm run dev", () => {
  let project: string;
  let first: DevServer;
  let port: string;
  let pgPort: string;

  beforeAll(async () => {
    project = sandbox();
    port = String(await freePort());
    pgPort = String(await freePort());
    first = startDev(project, { PORT: port, DEV_PG_PORT: pgPort });
    await ready(first);
  }, STARTUP_MS + 30_000);

  afterAll(async () => {
    await Promise.all(started.map(stop));
    if (project !== undefined) rmSync(project, { recursive: true, force: true });
  }, 60_000);

  describe("CORS for local frontends", () => {
    it("creates .dev.vars from .dev.vars.example without pinning ALLOWED_ORIGINS", () => {
      expect(readDevVars(path.join(project, ".dev.vars")).ALLOWED_ORIGINS).toBeUndefined();
    });

    it("allows the usual local dev server origins (3000, 5173, 4200, 8080 on localhost and 127.0.0.1) when ALLOWED_ORIGINS is not set", async () => {
      for (const origin of LOCAL_ORIGINS) expect(await preflight(first.url, origin), origin).toBe(origin);
    });

    it("allows no other origin", async () => {
      for (const origin of ["https://evil.example", "http://localhost:5174", "http://localhost", "https://localhost:5173"]) {
        expect(await preflight(first.url, origin), origin).toBeNull();
      }
    });

    it("prints the allowed origins at start-up, and how to add one", () => {
      const banner = first.output();
      for (const origin of LOCAL_ORIGINS) expect(banner).toContain(origin);
      expect(banner).toContain("set ALLOWED_ORIGINS in .dev.vars (comma-separated)");
      expect(banner).toContain("restart npm run dev");
    });

    it("leaves the deployed Worker's default alone: without ALLOWED_ORIGINS it allows no origin", async () => {
      const worker = await startTestWorker();
      try {
        for (const origin of LOCAL_ORIGINS) expect(await preflight(worker.url, origin), origin).toBeNull();
      } finally {
        await worker.stop();
      }
    });
  });

  it("answers / with the index, not a 404: wrangler dev's assets layer hands it to the Worker", async () => {
    const index = await fetch(`${first.url}/`);
    expect(index.status).toBe(200);
    expect(await index.json()).toMatchObject({ name: "task-api", docs: "/docs", demo: "/demo" });
    const page = await fetch(`${first.url}/`, { headers: { Accept: "text/html" } });
    expect(page.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain('<a href="/docs">');
  });

  describe("a second npm run dev while the first runs", () => {
    it("refuses the same ports before starting anything, naming them and how to choose others, without a stack trace", async () => {
      const { code, output } = await refused(project, { PORT: port, DEV_PG_PORT: pgPort });
      expect(code).toBe(1);
      expect(output).toContain(`port ${port} (PORT)`);
      expect(output).toContain(`port ${pgPort} (DEV_PG_PORT)`);
      expect(output).toMatch(/PORT=\d+ DEV_PG_PORT=\d+ DEV_DATA_DIR=\S+ npm run dev/);
      expect(output).not.toContain("Starting Postgres");
      expect(output).not.toMatch(STACK_TRACE);
    });

    it("refuses the data directory the first one's Postgres holds, even on free ports", async () => {
      const { code, output } = await refused(project, { PORT: String(await freePort()), DEV_PG_PORT: String(await freePort()) });
      expect(code).toBe(1);
      expect(output).toContain("data directory .data/postgres (DEV_DATA_DIR)");
      expect(output).toContain(`port ${pgPort}`);
      expect(output).toMatch(/DEV_DATA_DIR=\S+ npm run dev/);
      expect(output).not.toContain("Starting Postgres");
      expect(output).not.toMatch(STACK_TRACE);
    });

    it("names the HTTP port alone when only it is taken", async () => {
      const { code, output } = await refused(project, {
        PORT: port,
        DEV_PG_PORT: String(await freePort()),
        DEV_DATA_DIR: ".data/postgres-unused",
      });
      expect(code).toBe(1);
      expect(output).toContain(`port ${port} (PORT)`);
      expect(output).not.toContain("(DEV_PG_PORT)");
      expect(output).not.toContain("Starting Postgres");
      expect(output).not.toMatch(STACK_TRACE);
    });

    it(
      "runs beside the first on other ports and its own data directory; an ALLOWED_ORIGINS in .dev.vars replaces the defaults",
      async () => {
        writeFileSync(
          path.join(project, ".dev.vars"),
          "BETTER_AUTH_SECRET=local-development-secret-change-me-0123456789\nALLOWED_ORIGINS=https://app.example.test, http://localhost:5174\n",
        );
        const second = startDev(project, {
          PORT: String(await freePort()),
          DEV_PG_PORT: String(await freePort()),
          DEV_DATA_DIR: ".data/postgres-2",
        });
        await ready(second);
        expect(second.output()).toContain("data in .data/postgres-2");
        expect(await preflight(second.url, "https://app.example.test")).toBe("https://app.example.test");
        expect(await preflight(second.url, "http://localhost:5174")).toBe("http://localhost:5174");
        expect(await preflight(second.url, "http://localhost:5173")).toBeNull();
        // The first one did not pick the edit up (wrangler dev does not reload .dev.vars): hence
        // "restart npm run dev" in the banner.
        expect(await preflight(first.url, "https://app.example.test")).toBeNull();
        expect(await preflight(first.url, "http://localhost:5173")).toBe("http://localhost:5173");
        await stop(second);
      },
      STARTUP_MS + 30_000,
    );
  });
});

// A fresh `npm run dev` for the docs run: its own Postgres data directory, Durable Object state
// and ports in a temporary directory, and a JSON log line for every request (LOG_REQUESTS=all),
// read from its output to learn each request's status. `mark()` cuts that output into the
// requests of one block. `stop()` ends the whole process group (npm, scripts/dev.ts, Postgres,
// wrangler, workerd) and deletes the directory, also when the test run itself dies.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;
/** After a mark's own line: lines written to stderr (5xx) may trail those on stdout a little. */
const MARK_GRACE_MS = 300;

/** One request as the Worker logged it, with its path when wrangler's own request line gave it. */
export interface LoggedRequest {
  method: string;
  route: string | null;
  status: number;
  requestId: string;
  path?: string;
}

export interface DevServer {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The requests logged since the previous mark, up to this one (whose own request is left out). */
  mark(): Promise<LoggedRequest[]>;
  /** The last lines the server printed, for a failure message. */
  tail(lines?: number): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no free port"))));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether any process of the group `pgid` is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

const WRANGLER_REQUEST = /^\[wrangler:\w+\] ([A-Z]+) (\S+) (\d{3})\b/;

export async function startDevServer(): Promise<DevServer> {
  const scratch = mkdtempSync(path.join(tmpdir(), "task-api-docs-"));
  // Postgres runs as its own user when we are root: it must reach its data directory.
  chmodSync(scratch, 0o755);
  // Miniflare's and wrangler's temporary files too, so that deleting the scratch directory leaves nothing.
  const temp = path.join(scratch, "tmp");
  mkdirSync(temp, { mode: 0o1777 });
  chmodSync(temp, 0o1777);
  const [port, pgPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;

  const child: ChildProcess = spawn(
    "npm",
    ["run", "dev", "--", "--var", "LOG_REQUESTS:all", "--persist-to", path.join(scratch, "wrangler")],
    {
      cwd: ROOT,
      // Its own process group: one signal reaches npm, scripts/dev.ts, Postgres, wrangler and workerd.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PORT: String(port),
        DEV_PG_PORT: String(pgPort),
        DEV_DATA_DIR: path.join(scratch, "postgres"),
        TMPDIR: temp,
        NO_COLOR: "1",
        FORCE_COLOR: "0",
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
      },
    },
  );
  const pgid = child.pid;
  if (pgid === undefined) throw new Error("npm run dev did not start");
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = `npm run dev exited (${signal ?? code})`;
  });

  // Last resort when the test process ends without stop(): a crash, a timeout, Ctrl-C.
  const onExit = () => {
    killGroup(pgid, "SIGKILL");
    rmSync(scratch, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  const output: string[] = [];
  const requests: LoggedRequest[] = [];
  const read = (stream: NodeJS.ReadableStream | null) => {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) take(line);
    });
  };
  const take = (line: string) => {
    output.push(line);
    if (output.length > 400) output.shift();
    const wrangler = WRANGLER_REQUEST.exec(line);
    if (wrangler !== null) {
      // wrangler prints its own line after the Worker's: give the Worker's line its path.
      const [, method, requestPath, status] = wrangler;
      const match = requests.find(
        (request) => request.path === undefined && request.method === method && String(request.status) === status,
      );
      if (match !== undefined && requestPath !== undefined) match.path = requestPath;
      return;
    }
    if (!line.startsWith("{")) return;
    try {
      const entry = JSON.parse(line) as { message?: unknown; method?: unknown; route?: unknown; status?: unknown; request_id?: unknown };
      if (entry.message !== "request" || typeof entry.status !== "number") return;
      requests.push({
        method: String(entry.method),
        route: typeof entry.route === "string" ? entry.route : null,
        status: entry.status,
        requestId: String(entry.request_id),
      });
    } catch {
      // Not a log line of ours.
    }
  };
  read(child.stdout);
  read(child.stderr);

  const tail = (lines = 40) => output.slice(-lines).join("\n");

  const stop = async () => {
    // SIGINT first: scripts/dev.ts stops Postgres cleanly and wrangler ends workerd.
    killGroup(pgid, "SIGINT");
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(200);
    killGroup(pgid, "SIGKILL");
    while (groupAlive(pgid) && Date.now() < deadline + 5_000) await sleep(100);
    process.removeListener("exit", onExit);
    rmSync(scratch, { recursive: true, force: true, maxRetries: 5 });
  };

  const started = Date.now();
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`${exited} before it was ready:\n${tail()}`);
    }
    const status = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() - started > READY_TIMEOUT_MS) {
      await stop();
      throw new Error(`npm run dev was not ready within ${READY_TIMEOUT_MS / 1000} s (GET /health: ${status}):\n${tail()}`);
    }
    await sleep(500);
  }

  let marks = 0;
  let cut = 0;
  const mark = async () => {
    const id = `docs-mark-${++marks}`;
    await fetch(`${url}/openapi.json`, { method: "HEAD", headers: { "X-Request-Id": id }, signal: AbortSignal.timeout(10_000) });
    const deadline = Date.now() + 10_000;
    while (!requests.some((request) => request.requestId === id)) {
      if (Date.now() > deadline) throw new Error(`the dev server never logged request ${id}; is LOG_REQUESTS=all on?\n${tail()}`);
      await sleep(50);
    }
    await sleep(MARK_GRACE_MS);
    const taken = requests.slice(cut);
    cut = requests.length;
    return taken.filter((request) => !request.requestId.startsWith("docs-mark-"));
  };
  await mark(); // everything before the first block (the readiness checks)

  return { url, port, mark, tail, stop };
}

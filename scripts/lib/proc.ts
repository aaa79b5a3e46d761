// Reading processes from Linux's /proc: children of a process, the processes in a directory, a
// process's command line and resident memory. Used to kill Postgres's backends and to sample
// workerd's memory.
import { readdir, readFile, readlink, realpath } from "node:fs/promises";

/** Pids whose parent is `parent`. */
export async function childrenOf(parent: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // "pid (comm) state ppid ...": comm may contain spaces, so split after its closing paren.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === parent) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Pids whose working directory is `directory`: every process of a Postgres server runs in its data
 * directory, including backends no longer children of a dead postmaster.
 */
export async function processesIn(directory: string): Promise<number[]> {
  const target = await realpath(directory);
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    if ((await readlink(`/proc/${entry}/cwd`).catch(() => "")) === target) pids.push(Number(entry));
  }
  return pids;
}

/** Every descendant of `root`. */
export async function descendantsOf(root: number): Promise<number[]> {
  const found: number[] = [];
  for (let frontier = [root]; frontier.length > 0; ) {
    const next = (await Promise.all(frontier.map(childrenOf))).flat();
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** The command line of `pid`, arguments joined by spaces ("" once it is gone). */
export async function commandLine(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).replace(/\0/g, " ").trim();
}

/** Resident set size of `pid` in bytes (0 once it is gone). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kib === undefined ? 0 : Number(kib) * 1024;
}

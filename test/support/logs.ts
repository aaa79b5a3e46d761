// Reading the Worker's JSON log lines, as a test collects them through startTestWorker's onLog.
import { sleep } from "./api.ts";

export interface LogEntry {
  level: string;
  message: string;
  request_id?: string;
  /** What went wrong underneath (src/log.ts describeError). */
  cause?: Cause;
}

/** An error as src/log.ts describeError writes it, with what caused it in turn. */
export interface Cause {
  name?: string;
  message?: string;
  code?: string;
  stack?: string;
  cause?: Cause;
}

/** The Worker's JSON log entries so far (workerd may pass on several lines as one). */
export function entries<Entry = LogEntry>(lines: string[]): Entry[] {
  return lines
    .flatMap((line) => line.split("\n"))
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Entry);
}

/** The Worker's JSON log entries (one at least) with this message and request id, once workerd has passed them on. */
export async function loggedFor(lines: string[], message: string, requestId: string): Promise<[LogEntry, ...LogEntry[]]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const [first, ...rest] = entries(lines).filter((entry) => entry.message === message && entry.request_id === requestId);
    if (first !== undefined) return [first, ...rest];
    if (Date.now() > deadline) throw new Error(`no "${message}" log line for request ${requestId} in:\n${lines.join("\n")}`);
    await sleep(50);
  }
}

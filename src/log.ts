// The Worker's log lines: one JSON object per line, so Workers Logs can query their fields.
// Privacy rule for every caller: no token, user id, header value or task content in a field.

type Level = "info" | "warn" | "error";

export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * What a caught error says about itself, for a log field: name, message, SQLSTATE or errno, stack,
 * and what caused it in turn (two levels down). A WebSocket's ErrorEvent, which is not an Error,
 * gives its class and message.
 */
export function describeError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) {
    const event = error as { message?: unknown } | null;
    if (typeof event?.message === "string") return { name: event.constructor.name, message: event.message };
    return { value: String(error) };
  }
  const details = error as Error & { code?: unknown; errno?: unknown; syscall?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof details.code === "string" || typeof details.code === "number" ? { code: details.code } : {}),
    ...(typeof details.errno === "number" || typeof details.errno === "string" ? { errno: details.errno } : {}),
    ...(typeof details.syscall === "string" ? { syscall: details.syscall } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(error.cause === undefined || depth >= 2 ? {} : { cause: describeError(error.cause, depth + 1) }),
  };
}

/** A request at least this slow writes its log line whatever LOG_REQUESTS says. */
export const SLOW_REQUEST_MS = 1_000;

// GET /health: pings the database with one trivial statement.
import { required } from "../config.ts";
import { query, RETRY_AFTER_SECONDS } from "../db/client.ts";
import type { Env } from "../env.ts";
import type { AppRequest } from "../http/context.ts";
import { json } from "../http/json.ts";
import { HttpError } from "../http/problem.ts";

export async function health(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const database = required(request.config.database);
  try {
    await query(database, ctx, { text: "SELECT 1", values: [] });
    return json({ status: "ok", database: "ok" });
  } catch (error) {
    if (!(error instanceof HttpError && error.status === 503)) throw error;
    return json({ status: "degraded", database: "unreachable" }, { status: 503, headers: { "Retry-After": String(RETRY_AFTER_SECONDS) } });
  }
}

// GET /health: pings the database with one trivial statement.
import { required } from "../config.ts";
import { query, RETRY_AFTER_SECONDS } from "../db/client.ts";
import { sql } from "../db/sql.ts";
import type { AppRequest } from "../http/context.ts";
import { json } from "../http/json.ts";
import { describeError, log } from "../log.ts";
import { HttpError } from "../problems.ts";

export async function health(request: AppRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const database = required(request.config.database);
  try {
    await query(database, ctx, sql`SELECT 1`);
    return json({ status: "ok", database: "ok" });
  } catch (error) {
    if (!(error instanceof HttpError && error.code === "database_unavailable")) throw error;
    log("warn", "database_unavailable", { request_id: request.id, cause: describeError(error.cause) });
    return json({ status: "degraded", database: "unreachable" }, { status: 503, headers: { "Retry-After": String(RETRY_AFTER_SECONDS) } });
  }
}

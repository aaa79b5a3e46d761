// The database seam: run one SQL statement over a fresh node-postgres connection to Hyperdrive
// (which pools the real connections), with timeouts so no request hangs, and driver errors
// mapped to 503 (safe to retry) or 500. Nothing else in src/ imports pg.
import { Client, type QueryResultRow } from "pg";
import { HttpError } from "../http/problem.ts";

/** One parameterized SQL statement: a single round trip. */
export interface Statement {
  text: string;
  values: unknown[];
}

// Together under the contract's 10 seconds: connecting may take 3 s, the statement 6 s. The
// server cancels a statement after 5 s (statement_timeout, set on the role by a migration),
// before the client gives up, so a write that timed out was rolled back.
export const CONNECT_TIMEOUT_MS = 3_000;
export const QUERY_TIMEOUT_MS = 6_000;
export const RETRY_AFTER_SECONDS = 5;

// SQLSTATE classes that mean "the database is unavailable or busy, try again", never "bad input":
// 08 connection exception, 53 insufficient resources, 57 operator intervention (57014 is a
// statement cancelled by statement_timeout), 40001/40P01 serialization failure and deadlock,
// 55P03 lock not available.
const TRANSIENT_SQLSTATE = /^(08|53|57|40001|40P01|55P03)/;
const SQLSTATE = /^[0-9A-Z]{5}$/;

function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // Errors without a SQLSTATE come from the transport: refused, reset, timed out, closed.
  if (typeof code !== "string" || !SQLSTATE.test(code)) return error instanceof Error;
  return TRANSIENT_SQLSTATE.test(code);
}

export function unavailable(): HttpError {
  return new HttpError(503, "the database is unreachable or too slow; the request had no effect, retry it later", {
    headers: { "Retry-After": String(RETRY_AFTER_SECONDS) },
  });
}

/** The part of the Worker's ExecutionContext used here: closing the connection after responding. */
export interface Background {
  waitUntil(promise: Promise<unknown>): void;
}

/** Runs one statement and returns its rows. */
export async function query<Row extends QueryResultRow>(connectionString: string, ctx: Background, statement: Statement): Promise<Row[]> {
  const client = new Client({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  // A dropped connection emits 'error' on the client; the pending query rejects anyway.
  client.on("error", () => {});
  try {
    await client.connect();
    const result = await client.query<Row>(statement.text, statement.values);
    return result.rows;
  } catch (error) {
    if (isTransient(error)) throw unavailable();
    throw error;
  } finally {
    ctx.waitUntil(client.end().catch(() => {}));
  }
}

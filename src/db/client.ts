// The database seam: run one SQL statement over a fresh connection, with timeouts so no request
// hangs, and driver errors mapped to 503 (safe to retry) or 500. Two transports behind it, chosen
// from the bindings (config.ts); routes never know which:
// - Hyperdrive + node-postgres (preferred): a TCP connection to Hyperdrive, which pools the real
//   connections to Neon near the Worker;
// - @neondatabase/serverless over a WebSocket to Neon's proxy, when no Hyperdrive is bound.
// Nothing else in src/ imports a driver.
import { Client as NeonClient } from "@neondatabase/serverless";
import { Client as PgClient, type QueryResultRow } from "pg";
import { databaseUnavailable } from "../problems.ts";
import { compile, type Sql } from "./sql.ts";

/** Where statements go; see config.ts for how it is chosen. */
export type Database =
  | { transport: "hyperdrive"; connectionString: string }
  | {
      transport: "neon";
      connectionString: string;
      /**
       * Tests only: host:port of a local WebSocket-to-TCP proxy playing Neon's proxy (plain ws,
       * no pipelined password startup). Unset in production: wss to the database's own host.
       */
      localProxy?: string;
    };

// Together under the contract's 10 seconds: connecting may take 3 s, the statement 6 s. The
// server cancels a statement after 5 s (statement_timeout, set on the role by a migration),
// before the client gives up, so a write that timed out was rolled back.
const CONNECT_TIMEOUT_MS = 3_000;
const QUERY_TIMEOUT_MS = 6_000;
export const RETRY_AFTER_SECONDS = 5;

/**
 * A connection that did not open in time. Both drivers report their own connect timeout as
 * "Connection terminated unexpectedly", which reads like a dropped connection; the log line says
 * what it was, with the driver's error as its cause.
 */
class ConnectTimeout extends Error {
  override name = "ConnectTimeout";
  constructor(cause: unknown) {
    super(`no database connection within ${CONNECT_TIMEOUT_MS} ms`, { cause });
  }
}

// SQLSTATE classes that mean "the database is unavailable or busy, try again", never "bad input":
// 08 connection exception, 53 insufficient resources, 57 operator intervention (57014 is a
// statement cancelled by statement_timeout), 40001/40P01 serialization failure and deadlock,
// 55P03 lock not available. Any other SQLSTATE is a bug of ours: a 500, logged with its stack.
const TRANSIENT_SQLSTATE = /^(08|53|57|40001|40P01|55P03)/;
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Whether a statement's failure is the database's state rather than our bug: a transient
 * SQLSTATE, or no SQLSTATE at all from the driver (connection refused, reset, closed, timed
 * out: node-postgres reports those as plain Errors). JavaScript's own TypeError, RangeError and
 * the like are bugs.
 */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && SQLSTATE.test(code)) return TRANSIENT_SQLSTATE.test(code);
  return !(error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError);
}

/** The part of the Worker's ExecutionContext used here: closing the connection after responding. */
export interface Background {
  waitUntil(promise: Promise<unknown>): void;
}

/** What both drivers' Client offers and the seam uses. */
interface Connection {
  on(event: "error", listener: (error: Error) => void): unknown;
  connect(): Promise<unknown>;
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}

function clientFor(database: Database): Connection {
  const options = {
    connectionString: database.connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  };
  if (database.transport === "hyperdrive") return new PgClient(options);
  // One Client per request, as in any Worker: sockets cannot outlive the request that opened them.
  const client = new NeonClient(options);
  if (database.localProxy !== undefined) {
    const proxy = database.localProxy;
    client.neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
    client.neonConfig.useSecureWebSocket = false;
    client.neonConfig.pipelineConnect = false;
    client.neonConfig.pipelineTLS = false;
  }
  return client;
}

/** The database as a route uses it: statements run over this request's connection settings. */
export interface Db {
  query<Row extends QueryResultRow>(statement: Sql): Promise<Row[]>;
}

export function connectTo(database: Database, ctx: Background): Db {
  return { query: (statement) => query(database, ctx, statement) };
}

/** Time spent in the database (connecting included) per request, for the request log line. */
const spent = new WeakMap<Background, number>();

export function databaseMs(ctx: Background): number | undefined {
  return spent.get(ctx);
}

/**
 * Runs one statement and returns its rows. A failure to connect is always a 503 (the transport
 * is the database's availability); a failing statement is a 503 when transient, else thrown as
 * is (a 500 with its stack in the log). The 503 keeps the driver's error as its cause, which the
 * log line shows (SQLSTATE or errno).
 */
export async function query<Row extends QueryResultRow>(database: Database, ctx: Background, statement: Sql): Promise<Row[]> {
  const { text, values } = compile(statement);
  const client = clientFor(database);
  const startedAt = Date.now();
  // A dropped connection emits 'error' on the client; the pending query rejects anyway.
  client.on("error", () => {});
  try {
    try {
      await client.connect();
    } catch (error) {
      // The driver's timer is the only thing that ends a connect attempt this late.
      throw databaseUnavailable(RETRY_AFTER_SECONDS, Date.now() - startedAt >= CONNECT_TIMEOUT_MS ? new ConnectTimeout(error) : error);
    }
    try {
      return (await client.query(text, values)).rows as Row[];
    } catch (error) {
      if (isTransient(error)) throw databaseUnavailable(RETRY_AFTER_SECONDS, error);
      throw error;
    }
  } finally {
    spent.set(ctx, (spent.get(ctx) ?? 0) + (Date.now() - startedAt));
    ctx.waitUntil(client.end().catch(() => {}));
  }
}

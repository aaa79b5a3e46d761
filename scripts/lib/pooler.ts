// A small transaction-mode Postgres pooler, in front of the local Postgres for the tests and
// `npm run dev`, where Hyperdrive would stand in production. Without it every API request forks
// a new Postgres backend (about 20 ms of CPU on this machine, half of what the whole suite
// spends); with it a request borrows an open, authenticated backend for the length of its
// statement, as Hyperdrive's pool does.
//
// Why not PgBouncer: it comes from Debian's packages, so `npm install && npm test` would need a
// root install first; no maintained npm package pools on the server side. This one speaks just
// enough of the wire protocol (https://www.postgresql.org/docs/current/protocol-flow.html):
// - a client's startup is answered here (no password asked: loopback only, for local use), with
//   the server's own ParameterStatus values from a real backend;
// - its messages go to a backend borrowed on its first message, and the backend goes back to
//   the pool at a ReadyForQuery that says "idle, not in a transaction" once every Sync and Query
//   the client sent has been answered and nothing unsynced was sent since;
// - a client that goes away while its backend is busy takes that backend with it (closed, so
//   Postgres rolls back whatever was running), never back to the pool.
import net from "node:net";
import pg from "pg";

export interface RunningPooler {
  /** host:port the pooler listens on. */
  host: string;
  port: number;
  /** `databaseUrl` (on the pooled server) rewritten to go through the pooler. */
  urlFor(databaseUrl: string): string;
  /** Backends opened so far, and client connections served so far. */
  readonly stats: { backends: number; clients: number };
  stop(): Promise<void>;
}

export interface PoolerOptions {
  /** The Postgres to pool, as a connection string; its user and password open every backend. */
  target: string;
  /** Most backends open at once per database; more clients wait for one (default 32). */
  size?: number;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

interface Backend {
  socket: net.Socket;
  /** Set once the socket closed or failed: such a backend is never handed out again. */
  dead: boolean;
}

/** A frame of the regular protocol: type byte, then a length that counts itself. */
function frame(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const cString = (text: string) => Buffer.from(`${text}\0`, "utf8");

/** An ErrorResponse the client's driver reads like the server's own (SQLSTATE 08006: connection failure). */
function connectionFailure(message: string): Buffer {
  return frame("E", Buffer.concat([cString("SFATAL"), cString("VFATAL"), cString("C08006"), cString(`M${message}`), Buffer.from([0])]));
}

/** One database's backends: idle ones, how many are open, and clients waiting for one. */
class Pool {
  readonly #idle: Backend[] = [];
  readonly #waiting: Array<{ resolve: (backend: Backend) => void; reject: (error: Error) => void }> = [];
  #open = 0;
  /** The server's ParameterStatus values, replayed to every client at its startup. */
  parameters: Map<string, string> | undefined;

  readonly #connect: () => Promise<{ socket: net.Socket; parameters: Map<string, string> }>;
  readonly #size: number;
  readonly #opened: () => void;

  constructor(connect: () => Promise<{ socket: net.Socket; parameters: Map<string, string> }>, size: number, opened: () => void) {
    this.#connect = connect;
    this.#size = size;
    this.#opened = opened;
  }

  /** Makes sure the server's parameters are known (opening a backend if none was yet). */
  async ready(): Promise<Map<string, string>> {
    if (this.parameters === undefined) this.release(await this.acquire());
    if (this.parameters === undefined) throw new Error("the server sent no parameters");
    return this.parameters;
  }

  acquire(): Promise<Backend> {
    for (let backend = this.#idle.pop(); backend !== undefined; backend = this.#idle.pop()) {
      if (!backend.dead) return Promise.resolve(backend);
    }
    if (this.#open < this.#size) return this.#openOne();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  release(backend: Backend): void {
    if (backend.dead) return;
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter.resolve(backend);
    else this.#idle.push(backend);
  }

  /** Closes a backend whose state is unknown (its client left mid-statement). */
  discard(backend: Backend): void {
    backend.socket.destroy();
  }

  close(): void {
    for (const backend of this.#idle.splice(0)) backend.socket.destroy();
    for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error("the pooler is stopping"));
  }

  async #openOne(): Promise<Backend> {
    this.#open++;
    try {
      const { socket, parameters } = await this.#connect();
      this.parameters ??= parameters;
      this.#opened();
      const backend: Backend = { socket, dead: false };
      const gone = () => {
        if (backend.dead) return;
        backend.dead = true;
        this.#open--;
        const index = this.#idle.indexOf(backend);
        if (index >= 0) this.#idle.splice(index, 1);
        // A place came free: a waiting client gets a new backend.
        const waiter = this.#waiting.shift();
        if (waiter !== undefined) this.#openOne().then(waiter.resolve, waiter.reject);
      };
      socket.on("close", gone);
      socket.on("error", gone);
      return backend;
    } catch (error) {
      this.#open--;
      throw error;
    }
  }
}

/** Opens and authenticates a backend with node-postgres, then takes its socket over. */
async function openBackend(target: URL, database: string): Promise<{ socket: net.Socket; parameters: Map<string, string> }> {
  const client = new pg.Client({
    host: target.hostname,
    port: Number(target.port || 5432),
    user: decodeURIComponent(target.username),
    password: decodeURIComponent(target.password),
    database,
  });
  // node-postgres keeps its Connection (and the socket under it) out of its public types.
  const connection = (
    client as unknown as { connection: { stream: net.Socket; on(event: string, listener: (message: never) => void): void } }
  ).connection;
  const parameters = new Map<string, string>();
  connection.on("parameterStatus", (message: { parameterName: string; parameterValue: string }) => {
    parameters.set(message.parameterName, message.parameterValue);
  });
  client.on("error", () => {});
  await client.connect();
  const socket = connection.stream;
  // From here on the socket is ours: the driver's parser and handlers let go of it. The server
  // has sent ReadyForQuery and nothing after it, so no bytes are left in the driver's buffer.
  for (const event of ["data", "end", "error", "close"]) socket.removeAllListeners(event);
  socket.setNoDelay(true);
  socket.on("error", () => {});
  return { socket, parameters };
}

export async function startPooler(options: PoolerOptions): Promise<RunningPooler> {
  const target = new URL(options.target);
  const size = options.size ?? 32;
  const pools = new Map<string, Pool>();
  const clients = new Set<net.Socket>();
  const stats = { backends: 0, clients: 0 };
  const poolFor = (database: string) => {
    let pool = pools.get(database);
    if (pool === undefined) {
      pool = new Pool(
        () => openBackend(target, database),
        size,
        () => stats.backends++,
      );
      pools.set(database, pool);
    }
    return pool;
  };

  const server = net.createServer((client) => {
    stats.clients++;
    clients.add(client);
    client.setNoDelay(true);
    serve(client, poolFor).finally(() => clients.delete(client));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: "127.0.0.1",
    port,
    urlFor: (databaseUrl) => {
      const url = new URL(databaseUrl);
      url.hostname = "127.0.0.1";
      url.port = String(port);
      return url.href;
    },
    stats,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of clients) client.destroy();
      for (const pool of pools.values()) pool.close();
      await closed;
    },
  };
}

/** One client connection, from its startup packet to its Terminate. */
async function serve(client: net.Socket, poolFor: (database: string) => Pool): Promise<void> {
  let buffered: Buffer = Buffer.alloc(0);
  let started = false;
  let pool: Pool | undefined;
  let backend: Backend | undefined;
  let borrowing = false;
  /** Frames that arrived before the client's startup was answered or before its backend was borrowed. */
  const queued: Buffer[] = [];
  /** Syncs and Queries sent to the backend and not answered by a ReadyForQuery yet. */
  let unanswered = 0;
  /** Frames sent after the last Sync or Query (an extended-protocol batch in the making). */
  let unsynced = 0;
  let terminating = false;
  /** The transaction status of the backend's last ReadyForQuery: I idle, T in a transaction, E failed one. */
  let status = "I";

  const finished = new Promise<void>((resolve) => client.on("close", () => resolve()));
  const fail = (message: string) => {
    client.end(connectionFailure(message));
  };

  /** The backend goes back to the pool when the client's work on it is done and committed. */
  const maybeRelease = () => {
    if (backend === undefined || unanswered > 0 || unsynced > 0 || status !== "I" || queued.length > 0) return;
    const done = backend;
    backend = undefined;
    done.socket.removeAllListeners("data");
    done.socket.removeListener("close", onBackendGone);
    pool?.release(done);
    if (terminating) client.end();
  };

  const onBackendGone = () => {
    backend = undefined;
    client.destroy();
  };

  const attach = (borrowed: Backend) => {
    backend = borrowed;
    let pending: Buffer = Buffer.alloc(0);
    borrowed.socket.on("close", onBackendGone);
    borrowed.socket.on("data", (chunk: Buffer) => {
      client.write(chunk);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // Only ReadyForQuery matters here: read the frame boundaries to find them.
      let offset = 0;
      while (pending.length - offset >= 5) {
        const length = pending.readInt32BE(offset + 1);
        if (pending.length - offset < length + 1) break;
        if (pending[offset] === 0x5a /* Z */) {
          unanswered = Math.max(0, unanswered - 1);
          status = String.fromCharCode(pending[offset + 5] ?? 0x49);
          offset += length + 1;
          if (unanswered === 0) {
            pending = pending.subarray(offset);
            maybeRelease();
            if (backend !== borrowed) return;
            offset = 0;
          }
          continue;
        }
        offset += length + 1;
      }
      pending = pending.subarray(offset);
    });
    for (const frame of queued.splice(0)) send(frame);
  };

  const send = (message: Buffer) => {
    const type = String.fromCharCode(message[0] ?? 0);
    if (type === "Q" || type === "S") {
      unanswered++;
      unsynced = 0;
    } else if (type !== "H") unsynced++;
    backend?.socket.write(message);
  };

  const borrow = () => {
    if (borrowing || pool === undefined) return;
    borrowing = true;
    pool.acquire().then(
      (borrowed) => {
        borrowing = false;
        if (client.destroyed) pool?.release(borrowed);
        else attach(borrowed);
      },
      (error: Error) => {
        borrowing = false;
        fail(`the pooler could not reach the database: ${error.message}`);
      },
    );
  };

  const onFrame = (message: Buffer) => {
    const type = String.fromCharCode(message[0] ?? 0);
    if (type === "X") {
      terminating = true;
      if (backend === undefined) client.end();
      else if (unanswered === 0 && unsynced === 0 && status === "I") maybeRelease();
      else {
        // Mid-statement: the backend's state is unknown, so it is not reused.
        pool?.discard(backend);
        backend = undefined;
        client.end();
      }
      return;
    }
    // The client answers a password request we never made when it pipelines its startup.
    if (type === "p") return;
    if (backend === undefined) {
      queued.push(message);
      borrow();
    } else send(message);
  };

  const startup = async (packet: Buffer) => {
    const parameters = new Map<string, string>();
    const fields = packet.subarray(8).toString("utf8").split("\0");
    for (let index = 0; index + 1 < fields.length; index += 2) {
      const name = fields[index];
      if (name) parameters.set(name, fields[index + 1] ?? "");
    }
    pool = poolFor(parameters.get("database") ?? parameters.get("user") ?? "postgres");
    let serverParameters: Map<string, string>;
    try {
      serverParameters = await pool.ready();
    } catch (error) {
      fail(`the pooler could not reach the database: ${(error as Error).message}`);
      return;
    }
    const answer = [frame("R", Buffer.from([0, 0, 0, 0]))];
    for (const [name, value] of serverParameters) answer.push(frame("S", Buffer.concat([cString(name), cString(value)])));
    const key = Buffer.alloc(8);
    key.writeInt32BE(1, 0);
    key.writeInt32BE(0, 4);
    answer.push(frame("K", key), frame("Z", Buffer.from("I")));
    client.write(Buffer.concat(answer));
    started = true;
    for (const message of queued.splice(0)) onFrame(message);
  };

  let starting: Promise<void> | undefined;
  client.on("data", (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    for (;;) {
      if (starting === undefined) {
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const packet = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        const code = packet.readInt32BE(4);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          client.write("N");
          continue;
        }
        if (code === CANCEL_REQUEST || code !== PROTOCOL_3) {
          // Cancelling is not offered (nothing local sends it); an unknown protocol is refused.
          client.destroy();
          return;
        }
        starting = startup(packet);
        continue;
      }
      if (buffered.length < 5) return;
      const length = buffered.readInt32BE(1);
      if (buffered.length < length + 1) return;
      const message = buffered.subarray(0, length + 1);
      buffered = buffered.subarray(length + 1);
      if (started) onFrame(message);
      else queued.push(message);
    }
  });
  client.on("error", () => {});
  client.on("close", () => {
    if (backend === undefined) return;
    // Gone without a Terminate: reuse the backend only if it is idle.
    if (unanswered === 0 && unsynced === 0 && status === "I") {
      backend.socket.removeAllListeners("data");
      backend.socket.removeListener("close", onBackendGone);
      pool?.release(backend);
    } else pool?.discard(backend);
    backend = undefined;
  });
  await finished;
}

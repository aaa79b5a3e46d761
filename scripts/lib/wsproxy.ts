// A WebSocket-to-TCP pipe that plays the part of Neon's proxy for @neondatabase/serverless
// locally (what Neon's open-source wsproxy does): the driver opens
// ws://<proxy>/v2?address=<host>:<port>, and every binary message is Postgres wire protocol,
// passed through both ways. Used by the tests to run the Worker's direct Neon path against the
// local Postgres; production talks to Neon's own proxy over wss.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { WebSocketServer } from "ws";

export interface RunningProxy {
  /** host:port, for NEON_LOCAL_PROXY. */
  address: string;
  /** WebSocket connections accepted so far. */
  readonly connections: number;
  stop(): Promise<void>;
}

export async function startWsProxy(): Promise<RunningProxy> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  // Plain HTTP: GET /connections tells another process (a test) how many it has piped so far.
  const server = createServer((request, response) => {
    if (request.url === "/connections") response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(connections));
    else response.writeHead(426).end("WebSocket only");
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws, request) => {
    connections += 1;
    const target = new URL(request.url ?? "/", "http://proxy").searchParams.get("address") ?? "";
    const match = /^(.+):(\d+)$/.exec(target);
    if (!match?.[1] || !match[2]) {
      ws.close(1008, "address=host:port is required");
      return;
    }
    const socket = net.connect({ host: match[1], port: Number(match[2]) });
    sockets.add(socket);
    socket.setNoDelay(true);
    const pending: Buffer[] = [];
    socket.on("connect", () => {
      for (const chunk of pending.splice(0)) socket.write(chunk);
    });
    ws.on("message", (data: Buffer) => {
      if (socket.connecting) pending.push(data);
      else socket.write(data);
    });
    socket.on("data", (chunk) => ws.send(chunk, { binary: true }));
    const closeBoth = () => {
      sockets.delete(socket);
      socket.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    };
    socket.on("error", closeBoth);
    socket.on("close", closeBoth);
    ws.on("close", closeBoth);
    ws.on("error", closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

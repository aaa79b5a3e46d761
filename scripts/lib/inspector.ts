// A Chrome DevTools Protocol session with the Worker's isolate, through the V8 inspector that
// workerd opens when Miniflare is given an inspectorPort. Used for CPU profiles (npm run bench)
// and JavaScript heap sizes (npm run soak).

export interface InspectorSession {
  send<Result = unknown>(method: string, params?: object): Promise<Result>;
  close(): void;
}

const ANSWER_TIMEOUT_MS = 120_000;

/** Opens a session with the inspector target whose title contains `title` (the user Worker's by default). */
export async function openInspector(port: number, title = "core:user:"): Promise<InspectorSession> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string; title?: string }[];
  const target = targets.find((t) => t.title?.includes(title));
  if (!target) throw new Error(`no inspector target "${title}" among ${targets.map((t) => t.title).join(", ")}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let lastId = 0;
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++lastId;
        const timer = setTimeout(() => {
          socket.removeEventListener("message", onMessage);
          reject(new Error(`${method}: no answer from the inspector within ${ANSWER_TIMEOUT_MS / 1000} s`));
        }, ANSWER_TIMEOUT_MS);
        const onMessage = (event: MessageEvent) => {
          const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
          if (message.id !== id) return;
          clearTimeout(timer);
          socket.removeEventListener("message", onMessage);
          if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
          else resolve(message.result as never);
        };
        socket.addEventListener("message", onMessage);
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

/** The isolate's JavaScript heap in use right after a full garbage collection, in bytes. */
export async function heapAfterGc(session: InspectorSession): Promise<number> {
  // workerd never answers HeapProfiler.collectGarbage; a heap snapshot starts with a full GC
  // (its chunks arrive as events, which are dropped).
  await session.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  const { usedSize } = await session.send<{ usedSize: number }>("Runtime.getHeapUsage");
  return usedSize;
}

// The tests' HTTP client: what `fetch` does for a test (a request over a real connection, answered
// as a web Response), on node:http with kept-alive connections. Node's fetch (undici) spent about
// 1.6 ms of the test process's CPU per request here and node:http about 0.7 ms; the suite sends
// tens of thousands of requests on two cores, where the test processes' own CPU is time the Worker
// and Postgres do not get. Plain `fetch` stays right wherever a test is about what fetch does.
import http from "node:http";

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

/** Statuses whose response has no body (RFC 9110): a Response cannot be built with one. */
const NO_BODY = new Set([204, 205, 304]);

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | null;
}

/**
 * Over this, fetch itself: a server may answer a large body early (413) and close, and fetch
 * still reads that answer where a plain request can see only the reset of its upload.
 */
const LARGE_BODY = 64 * 1024;

export function httpFetch(url: string, init: HttpInit = {}): Promise<Response> {
  const method = init.method ?? "GET";
  if ((init.body?.length ?? 0) > LARGE_BODY)
    return fetch(url, { method, ...(init.headers ? { headers: init.headers } : {}), body: init.body ?? null });
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers: init.headers, agent }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        const headers = new Headers();
        const raw = incoming.rawHeaders;
        for (let index = 0; index + 1 < raw.length; index += 2) headers.append(raw[index] ?? "", raw[index + 1] ?? "");
        const status = incoming.statusCode ?? 0;
        const body = NO_BODY.has(status) || method === "HEAD" ? null : Buffer.concat(chunks);
        const response = new Response(body, { status, statusText: incoming.statusMessage ?? "", headers });
        // What fetch sets: the URL the response answers, for resolving a relative Location or Link.
        Object.defineProperty(response, "url", { value: url });
        resolve(response);
      });
    });
    request.on("error", reject);
    request.end(init.body ?? undefined);
  });
}

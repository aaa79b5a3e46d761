// JSON responses with an explicit charset.
export function json(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return new Response(JSON.stringify(body), {
    status: init.status ?? 200,
    headers: { ...init.headers, "Content-Type": "application/json; charset=utf-8" },
  });
}

// JSON responses with an explicit charset.
type Init = { status?: number; headers?: Record<string, string> };

/** A response whose body is already JSON text (task bodies are built by Postgres). */
export function jsonText(body: string, init: Init = {}): Response {
  return new Response(body, {
    status: init.status ?? 200,
    headers: { ...init.headers, "Content-Type": "application/json; charset=utf-8" },
  });
}

export function json(body: unknown, init: Init = {}): Response {
  return jsonText(JSON.stringify(body), init);
}

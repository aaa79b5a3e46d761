// GET /: where to go from here. JSON for programs and curl; a small HTML page of the same links
// for a browser, so that opening the dev server's URL shows the way to /docs and /demo, not a 404.
import type { AppRequest } from "../http/context.ts";
import { json } from "../http/json.ts";

/** The links, relative to this origin: the same whichever host or proxy serves the Worker. */
export const SERVICE_INDEX = { name: "task-api", docs: "/docs", demo: "/demo", openapi: "/openapi.json", health: "/health" } as const;

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Task API</title></head>
<body>
<h1>Task API</h1>
<p>A multi-user todo API. Every <code>/api/{user_id}/…</code> call needs a Bearer token.</p>
<ul>
<li><a href="${SERVICE_INDEX.docs}">API reference</a></li>
<li><a href="${SERVICE_INDEX.demo}">Live demo</a></li>
<li><a href="${SERVICE_INDEX.openapi}">OpenAPI document</a></li>
<li><a href="${SERVICE_INDEX.health}">Health</a></li>
</ul>
</body>
</html>
`;

/**
 * The headers the static pages carry (scripts/build-assets.ts, a /problems page's): plain HTML
 * loads nothing, may not be framed, posts no form and leaks no referrer. nosniff comes from finish.
 */
const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  Vary: "Accept",
};

export function home(request: AppRequest): Response {
  if (prefersHtml(request.headers.get("Accept"))) return new Response(PAGE, { headers: PAGE_HEADERS });
  return json(SERVICE_INDEX, { headers: { Vary: "Accept" } });
}

/** HTML only when the client ranks it above JSON, as browsers do; curl's and fetch's wildcard ties: JSON. */
function prefersHtml(accept: string | null): boolean {
  return quality(accept, "text/html") > quality(accept, "application/json");
}

/** The q-value Accept gives a media type: that of the most specific range matching it (RFC 9110 §12.5.1). */
function quality(accept: string | null, type: string): number {
  if (accept === null || accept.trim() === "") return 1;
  const wildcard = `${type.split("/")[0]}/*`;
  let specificity = -1;
  let q = 0;
  for (const range of accept.split(",")) {
    const [media, ...parameters] = range.split(";").map((part) => part.trim().toLowerCase());
    const rank = media === type ? 2 : media === wildcard ? 1 : media === "*/*" ? 0 : -1;
    if (rank <= specificity) continue;
    specificity = rank;
    const weight = parameters.find((parameter) => parameter.startsWith("q="));
    const value = weight === undefined ? 1 : Number(weight.slice(2));
    q = Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0;
  }
  return q;
}

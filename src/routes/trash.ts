// GET /api/{user_id}/trash: what the user deleted in the last 30 days and can restore, newest
// first, in keyset pages (Link rel="next", as GET /tasks).
import { required } from "../config.ts";
import { readTrash } from "../db/trash.ts";
import type { AuthedRequest } from "../http/context.ts";
import { jsonText } from "../http/json.ts";
import { decodeTrashCursor, encodeTrashCursor, parseTrashQuery } from "../schemas/trash.ts";
import { dbFor } from "./database.ts";

export async function listTrash(request: AuthedRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  const query = parseTrashQuery(url.searchParams);
  const after = query.cursor === undefined ? undefined : decodeTrashCursor(query.cursor);
  const base = `${required(request.config.publicOrigin)}/api/${encodeURIComponent(request.userId)}/trash`;
  const page = await readTrash(dbFor(request, ctx), request.userId, query.limit, after);
  const headers: Record<string, string> = {};
  if (page.next !== undefined) {
    const search = new URLSearchParams(url.searchParams);
    search.set("cursor", encodeTrashCursor(page.next));
    headers.Link = `<${base}?${search}>; rel="next"`;
  }
  return jsonText(`[${page.entries.join(",")}]`, { headers });
}

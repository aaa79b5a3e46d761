// GET /api/{user_id}/changes: what changed since a cursor (docs/api.md "Changes"), one statement.
import { changesSince } from "../db/changes.ts";
import type { AuthedRequest } from "../http/context.ts";
import { jsonText } from "../http/json.ts";
import { cursorExpired, invalid } from "../problems.ts";
import { decodeChangesCursor, encodeChangesCursor, parseChangesQuery } from "../schemas/changes.ts";
import { dbFor } from "./database.ts";

export async function listChanges(request: AuthedRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const query = parseChangesQuery(new URL(request.url).searchParams);
  const since = query.since === undefined ? null : decodeChangesCursor(query.since);
  const page = await changesSince(dbFor(request, ctx), request.userId, since, query.limit);
  switch (page.kind) {
    case "expired":
      throw cursorExpired();
    case "unknown":
      throw invalid("since", "is not a cursor this API issued for this user; sync again without since");
    case "page":
      return jsonText(
        `{"changes":[${page.changes.join(",")}],"lists":[${page.lists.join(",")}],"members":[${page.members.join(",")}],"cursor":"${encodeChangesCursor(page.position)}","has_more":${page.hasMore}}`,
      );
  }
}

// GET /api/{user_id}/changes: its query parameters, and the opaque cursor of the change feed.
// A cursor is a position in the user's feed (see src/db/functions.sql), written as base64url of
// "c1." and the position: URL-safe, no task content, and a position means nothing for
// another user's data (the feed is read for the token's user only).
import * as v from "valibot";
import { validate } from "../http/validate.ts";
import { invalid } from "../problems.ts";
import { queryObject } from "./listing.ts";

export const DEFAULT_CHANGES_LIMIT = 500;
export const MAX_CHANGES_LIMIT = 1000;

const limitMessage = `must be an integer from 1 to ${MAX_CHANGES_LIMIT}`;

export const ChangesQuery = v.strictObject(
  {
    since: v.optional(v.pipe(v.string(), v.metadata({ description: "The cursor of the previous pull; none for the full state." }))),
    limit: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d{1,4}$/, limitMessage),
        v.transform(Number),
        v.minValue(1, limitMessage),
        v.maxValue(MAX_CHANGES_LIMIT, limitMessage),
      ),
      String(DEFAULT_CHANGES_LIMIT),
    ),
  },
  "is not a known query parameter",
);
export type ChangesQuery = v.InferOutput<typeof ChangesQuery>;

export function parseChangesQuery(params: URLSearchParams): ChangesQuery {
  return validate(ChangesQuery, queryObject(params));
}

const PREFIX = "c1.";

export function encodeChangesCursor(position: number): string {
  return btoa(`${PREFIX}${position}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The position a cursor stands for; 422 naming `since` when it is not one of ours. */
export function decodeChangesCursor(text: string): number {
  const notOurs = () => invalid("since", "is not a cursor this API issued; sync again without since");
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(text)) throw notOurs();
  let decoded: string;
  try {
    decoded = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    throw notOurs();
  }
  const match = /^c1\.(0|[1-9][0-9]{0,15})$/.exec(decoded);
  const position = Number(match?.[1]);
  if (match === null || !Number.isSafeInteger(position)) throw notOurs();
  return position;
}

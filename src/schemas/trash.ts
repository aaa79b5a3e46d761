// GET /api/{user_id}/trash: its query, and its opaque cursor (base64url JSON of where the last
// page ended: the entry's deletion time, kind and id).
import * as v from "valibot";
import { validate } from "../http/validate.ts";
import { invalid } from "../problems.ts";
import { queryObject } from "./listing.ts";
import { Timestamp } from "./task.ts";

export const DEFAULT_TRASH_LIMIT = 50;
export const MAX_TRASH_LIMIT = 100;
const limitMessage = `must be an integer from 1 to ${MAX_TRASH_LIMIT}`;

export const TrashQuery = v.strictObject(
  {
    limit: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d{1,3}$/, limitMessage),
        v.transform(Number),
        v.minValue(1, limitMessage),
        v.maxValue(MAX_TRASH_LIMIT, limitMessage),
      ),
      String(DEFAULT_TRASH_LIMIT),
    ),
    cursor: v.optional(v.string()),
  },
  "is not a known query parameter",
);
export type TrashQuery = v.InferOutput<typeof TrashQuery>;

export function parseTrashQuery(params: URLSearchParams): TrashQuery {
  return validate(TrashQuery, queryObject(params));
}

export interface TrashCursor {
  deletedAt: string;
  kind: "list" | "task";
  id: number;
}

const CursorShape = v.tuple([
  v.literal("trash"),
  Timestamp,
  v.picklist(["list", "task"]),
  v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
]);

export function encodeTrashCursor(cursor: TrashCursor): string {
  return btoa(JSON.stringify(["trash", cursor.deletedAt, cursor.kind, cursor.id]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function decodeTrashCursor(text: string): TrashCursor {
  const notOurs = () => invalid("cursor", "is not a cursor this API issued");
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(text)) throw notOurs();
  let decoded: unknown;
  try {
    decoded = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw notOurs();
  }
  const parsed = v.safeParse(CursorShape, decoded);
  if (!parsed.success) throw notOurs();
  const [, deletedAt, kind, id] = parsed.output;
  return { deletedAt, kind, id };
}

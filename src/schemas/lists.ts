// A list's writable fields, the bodies and queries of the list routes, and the list as the API
// returns it: the single source of their types, messages and OpenAPI schemas.
import * as v from "valibot";
import { RecordId, Text } from "./task.ts";

/** A user has at most this many lists at once: the Inbox counts, lists in the trash do not. */
export const MAX_LISTS = 500;

/** A member's role in a list (docs/api.md "Sharing"). */
export const ROLES = ["owner", "editor", "viewer"] as const;
export type Role = (typeof ROLES)[number];

const WRITABLE_FIELDS = ["name", "color"] as const;
/** Sent back by clients that PUT an object they read; ignored, never an error. */
const READ_ONLY_FIELDS = ["id", "user_id", "inbox", "position", "created_at", "updated_at", "version", "role", "shared"] as const;
const UNKNOWN_FIELD = "is not a writable field";

const codePoints = (text: string) => [...text].length;

export const ListName = v.pipe(
  Text,
  v.trim(),
  v.check((name) => codePoints(name) >= 1 && codePoints(name) <= 100, "must be 1 to 100 characters"),
  v.metadata({ minLength: 1, maxLength: 100 }),
);

/** A color as #rrggbb, stored and returned in lowercase. */
const Color = v.nullable(
  v.pipe(
    v.string("must be a string"),
    v.regex(/^#[0-9a-fA-F]{6}$/, "must be a color like #1a73e8"),
    v.toLowerCase(),
    v.metadata({ pattern: "^#[0-9a-fA-F]{6}$", description: "A color as #rrggbb; returned in lowercase." }),
  ),
);

/** POST /lists: a name; a color is optional. */
export const ListInput = v.strictObject({ name: ListName, color: v.optional(Color, null) }, UNKNOWN_FIELD);
export type ListInput = v.InferOutput<typeof ListInput>;

/** PATCH and PUT /lists/{id}: any non-empty subset of the writable fields. */
export const ListPatch = v.pipe(
  v.strictObject({ name: v.optional(ListName), color: v.optional(Color) }, UNKNOWN_FIELD),
  v.check((patch) => Object.keys(patch).length > 0, `must contain at least one of ${WRITABLE_FIELDS.join(", ")}`),
  v.metadata({ minProperties: 1 }),
);
export type ListPatch = v.InferOutput<typeof ListPatch>;

/** POST /lists/{id}/move: right after `after_id` or right before `before_id` among the user's lists, else first. */
export const ListMoveInput = v.pipe(
  v.strictObject({ after_id: v.optional(RecordId), before_id: v.optional(RecordId) }, "is not accepted here; send after_id or before_id"),
  v.forward(
    v.partialCheck(
      [["after_id"], ["before_id"]],
      (move) => move.after_id === undefined || move.before_id === undefined,
      "cannot be sent with after_id",
    ),
    ["before_id"],
  ),
);
export type ListMoveInput = v.InferOutput<typeof ListMoveInput>;

/** A positive integer as a query string carries it. */
const QueryId = v.pipe(
  v.string(),
  v.regex(/^[1-9][0-9]{0,15}$/, "must be a positive integer"),
  v.transform(Number),
  v.safeInteger("must be a positive integer"),
);

/** DELETE /lists/{id}: `move_to` moves the list's tasks to the end of that list instead of the trash. */
export const ListDeleteQuery = v.strictObject({ move_to: v.optional(QueryId) }, "is not a known query parameter");
export type ListDeleteQuery = v.InferOutput<typeof ListDeleteQuery>;

const DateTime = v.pipe(v.string(), v.isoTimestamp(), v.metadata({ format: "date-time" }));

/** A list as the API returns it: documents responses (OpenAPI) and checks them in tests. */
export const List = v.strictObject({
  id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  user_id: v.string(),
  name: v.string(),
  color: v.nullable(v.string()),
  inbox: v.pipe(v.boolean(), v.metadata({ description: "The user's Inbox: the default list of new tasks; it cannot be deleted." })),
  position: v.pipe(v.string(), v.metadata({ description: "The list's order key among the user's lists: sort by it, byte by byte." })),
  created_at: DateTime,
  updated_at: DateTime,
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  role: v.pipe(
    v.picklist(ROLES),
    v.metadata({ description: "The caller's role in the list: owner, editor (writes its tasks) or viewer (reads only)." }),
  ),
  shared: v.pipe(v.boolean(), v.metadata({ description: "Whether the list has members besides its owner." })),
});

/** The body without the read-only fields a client may echo back. */
export function listWithoutReadOnly(body: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...body };
  for (const field of READ_ONLY_FIELDS) delete rest[field];
  return rest;
}

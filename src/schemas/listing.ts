// Query parameters of GET /api/{user_id}/tasks. Unknown, repeated or invalid ones are a 422.
import * as v from "valibot";
import { validate } from "../http/validate.ts";
import { invalid } from "../problems.ts";
import { Priority, Tag, Text, Timestamp } from "./task.ts";

/** position: the manual order of one list (list_id is then required): top-level tasks, then each parent's subtasks. */
export const SORT_KEYS = ["created_at", "updated_at", "due_date", "priority", "title", "position"] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const SORTS = SORT_KEYS.flatMap((key) => [key, `-${key}`] as const);
export type Sort = (typeof SORTS)[number];

const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** `+` in a query string decodes to a space, so "…T17:00:00+01:00" often arrives as "… 01:00". */
const QueryTimestamp = v.pipe(
  v.string(),
  v.transform((text) => text.replace(/ (\d{2}:\d{2})$/, "+$1")),
  Timestamp,
);

/** A positive integer as a query string carries it. */
const QueryId = v.pipe(
  v.string(),
  v.regex(/^[1-9][0-9]{0,15}$/, "must be a positive integer"),
  v.transform(Number),
  v.safeInteger("must be a positive integer"),
);

export const ListQuery = v.pipe(
  v.strictObject(
    {
      list_id: v.optional(QueryId),
      // "none": top-level tasks only; an id: that task's subtasks.
      parent_id: v.optional(
        v.union(
          [
            v.pipe(
              v.literal("none"),
              v.transform(() => 0),
            ),
            QueryId,
          ],
          'must be a positive integer, or "none" for top-level tasks',
        ),
      ),
      status: v.optional(v.picklist(["all", "pending", "completed"], "must be one of all, pending, completed"), "all"),
      priority: v.optional(Priority),
      tag: v.optional(Tag),
      q: v.optional(
        v.pipe(
          Text,
          v.check((text) => text.length >= 1 && [...text].length <= 200, "must be 1 to 200 characters"),
          v.metadata({ minLength: 1, maxLength: 200 }),
        ),
      ),
      due_before: v.optional(QueryTimestamp),
      due_after: v.optional(QueryTimestamp),
      sort: v.optional(v.picklist(SORTS, `must be one of ${SORTS.join(", ")}`), "-created_at"),
      limit: v.optional(
        v.pipe(
          v.string(),
          v.regex(/^\d{1,4}$/, `must be an integer from 1 to ${MAX_LIMIT}`),
          v.transform(Number),
          v.minValue(1, `must be an integer from 1 to ${MAX_LIMIT}`),
          v.maxValue(MAX_LIMIT, `must be an integer from 1 to ${MAX_LIMIT}`),
        ),
        String(DEFAULT_LIMIT),
      ),
      cursor: v.optional(v.string()),
    },
    "is not a known query parameter",
  ),
  v.forward(
    v.partialCheck(
      [["sort"], ["list_id"]],
      (query) => !query.sort.endsWith("position") || query.list_id !== undefined,
      "position needs list_id: the order is a list's own",
    ),
    ["sort"],
  ),
);
export type ListQuery = v.InferOutput<typeof ListQuery>;

export function parseListQuery(params: URLSearchParams): ListQuery {
  return validate(ListQuery, queryObject(params));
}

/**
 * The query parameters as an object for a schema; a name given twice is a 422 naming it. Names
 * are the client's: collected in a Map and made own properties (Object.fromEntries defines even
 * "__proto__" as one), so "constructor" or "__proto__" is an unknown parameter like any other,
 * not one that Object.prototype already "has".
 */
export function queryObject(params: URLSearchParams): Record<string, string> {
  const query = new Map<string, string>();
  for (const [name, value] of params) {
    if (query.has(name)) throw invalid(name, "must be given at most once");
    query.set(name, value);
  }
  return Object.fromEntries(query);
}

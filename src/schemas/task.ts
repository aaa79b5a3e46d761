// The task's writable fields and the request bodies that carry them: the single source of
// truth for input types and their error messages.
import * as v from "valibot";
import { ANCHORS, Recurrence } from "../recurrence/schema.ts";
import { parseTimestamp } from "./timestamp.ts";

export const PRIORITIES = ["low", "medium", "high"] as const;
const WRITABLE_FIELDS = [
  "title",
  "description",
  "completed",
  "priority",
  "tags",
  "due_date",
  "recurrence",
  "list_id",
  "parent_id",
  "assignee_id",
] as const;
/**
 * Sent back by clients that PUT an object they read; ignored, never an error. `position` is the
 * task's order key: it changes only by POST …/move (or a list_id or parent_id that moves it).
 */
const READ_ONLY_FIELDS = [
  "id",
  "user_id",
  "completed_at",
  "created_at",
  "updated_at",
  "version",
  "series_id",
  "next_id",
  "position",
  "created_by",
] as const;

/** Length in Unicode code points, as the contract counts characters. */
const codePoints = (text: string) => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

/** A string Postgres can store as sent: no NUL, no lone surrogate. */
export const Text = v.pipe(
  v.string("must be a string"),
  v.check((text) => text.isWellFormed() && !text.includes("\u0000"), "must not contain NUL or unpaired surrogate characters"),
);

const lengthBetween = (min: number, max: number) =>
  v.check((text: string) => {
    const length = codePoints(text);
    return length >= min && length <= max;
  }, `must be ${min} to ${max} characters`);

// v.metadata carries each custom check's meaning into the OpenAPI document (JSON Schema counts
// string length in code points too, and trims nothing: the limits apply after trimming).
export const Title = v.pipe(Text, v.trim(), lengthBetween(1, 200), v.metadata({ minLength: 1, maxLength: 200 }));
const Description = v.nullable(
  v.pipe(
    Text,
    v.check((text) => codePoints(text) <= 1000, "must be at most 1000 characters"),
    v.metadata({ maxLength: 1000 }),
  ),
);
const Completed = v.boolean("must be true or false");
export const Priority = v.picklist(PRIORITIES, `must be one of ${PRIORITIES.join(", ")}`);
export const Tag = v.pipe(Text, v.trim(), lengthBetween(1, 32), v.metadata({ minLength: 1, maxLength: 32 }));
const Tags = v.pipe(
  v.array(Tag, "must be an array of strings"),
  v.transform((tags) => [...new Set(tags)]),
  v.check((tags) => tags.length <= 10, "must have at most 10 distinct tags"),
  v.metadata({ description: "Duplicates are dropped; at most 10 distinct tags." }),
);
/** A date and time without an offset: 2026-12-03T14:30, 2026-12-03T14:30:00, 2026-12-03 14:30:00.123456. */
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const OFFSET_NEEDED = "needs a time zone offset, like 2026-12-03T14:30:00Z or +01:00";

/** An RFC 3339 timestamp with offset, normalized to UTC with millisecond precision. */
export const Timestamp = v.pipe(
  v.string("must be an RFC 3339 timestamp string"),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const date = parseTimestamp(dataset.value);
    if (date === undefined) {
      // A local time (Python's utcnow().isoformat(), <input type="datetime-local">) is refused:
      // guessing UTC would silently move a browser's local time. Say exactly what to send.
      addIssue({
        message: LOCAL_TIME.test(dataset.value) ? OFFSET_NEEDED : "must be an RFC 3339 timestamp with offset, such as 2026-12-01T17:00:00Z",
      });
      return NEVER;
    }
    return date.toISOString();
  }),
  v.metadata({ format: "date-time", description: "RFC 3339 with an offset; stored in UTC to the millisecond." }),
);
const DueDate = v.nullable(Timestamp);

/** The id of a task or a list named in a body or query: a positive integer. */
export const RecordId = v.pipe(
  v.number("must be a positive integer"),
  v.safeInteger("must be a positive integer"),
  v.minValue(1, "must be a positive integer"),
);

const UNKNOWN_FIELD = "is not a writable field";

/** A user id as the token's `sub` carries it: the assignee of a task in a shared list. */
export const UserId = v.pipe(Text, v.minLength(1, "must be a user id"), v.maxLength(255, "must be at most 255 characters"));
/** A member of the task's list to assign it to (checked by the database), or null. */
const Assignee = v.nullable(UserId);

/** A recurring task without a due date: on `due_date`, from the schemas here or from the database. */
export const RECURRENCE_WITHOUT_DUE = "is required for a recurring task (it is the occurrence's date)";

/** POST: title required, every other writable field defaults. */
export const TaskInput = v.pipe(
  v.strictObject(
    {
      title: Title,
      description: v.optional(Description, null),
      completed: v.optional(Completed, false),
      priority: v.optional(Priority, "medium"),
      tags: v.optional(Tags, []),
      due_date: v.optional(DueDate, null),
      recurrence: v.optional(v.nullable(Recurrence), null),
      // Absent: the parent's list, else the Inbox; a subtask's parent is a top-level task of it.
      list_id: v.optional(RecordId),
      parent_id: v.optional(v.nullable(RecordId)),
      assignee_id: v.optional(Assignee, null),
    },
    UNKNOWN_FIELD,
  ),
  v.forward(
    v.partialCheck([["recurrence"], ["due_date"]], (task) => task.recurrence === null || task.due_date !== null, RECURRENCE_WITHOUT_DUE),
    ["due_date"],
  ),
);
export type TaskInput = v.InferOutput<typeof TaskInput>;

/** PATCH and PUT: any non-empty subset of the writable fields. */
export const TaskPatch = v.pipe(
  v.strictObject(
    {
      title: v.optional(Title),
      description: v.optional(Description),
      completed: v.optional(Completed),
      priority: v.optional(Priority),
      tags: v.optional(Tags),
      due_date: v.optional(DueDate),
      recurrence: v.optional(v.nullable(Recurrence)),
      // Another list or parent moves the task there, last among its new siblings (as …/move).
      list_id: v.optional(RecordId),
      parent_id: v.optional(v.nullable(RecordId)),
      assignee_id: v.optional(Assignee),
    },
    UNKNOWN_FIELD,
  ),
  v.check((patch) => Object.keys(patch).length > 0, `must contain at least one of ${WRITABLE_FIELDS.join(", ")}`),
  // Sent together, a recurrence and a null due date contradict each other; a recurrence alone on
  // a task without a due date is refused by the database, which knows the task's due date.
  v.forward(
    v.partialCheck([["recurrence"], ["due_date"]], (patch) => !patch.recurrence || patch.due_date !== null, RECURRENCE_WITHOUT_DUE),
    ["due_date"],
  ),
  v.metadata({ minProperties: 1 }),
);
export type TaskPatch = v.InferOutput<typeof TaskPatch>;

/**
 * POST …/move (Google Tasks' move): where the task goes. `list_id` absent: its own list;
 * `parent_id` absent or null: the top level; right after `after_id` or right before `before_id`
 * (a task among its new siblings), else first.
 */
export const MoveInput = v.pipe(
  v.strictObject(
    {
      list_id: v.optional(RecordId),
      parent_id: v.optional(v.nullable(RecordId)),
      after_id: v.optional(RecordId),
      before_id: v.optional(RecordId),
    },
    "is not accepted here; send list_id, parent_id, after_id or before_id",
  ),
  v.forward(
    v.partialCheck(
      [["after_id"], ["before_id"]],
      (move) => move.after_id === undefined || move.before_id === undefined,
      "cannot be sent with after_id",
    ),
    ["before_id"],
  ),
);
export type MoveInput = v.InferOutput<typeof MoveInput>;

/** POST …/restore (a task's or a list's): no body, or an empty object; anything in it is a 422. */
export const RestoreInput = v.strictObject({}, "is not accepted here: a restore takes no fields");

/** PATCH .../complete with a body: sets the flag instead of toggling it. */
export const CompleteInput = v.strictObject({ completed: Completed }, "is not accepted here; send only completed");

const DateTime = v.pipe(v.string(), v.isoTimestamp(), v.metadata({ format: "date-time" }));

/** A task as the API returns it: documents responses (OpenAPI) and checks them in tests. */
export const Task = v.strictObject({
  id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  user_id: v.string(),
  title: v.string(),
  description: v.nullable(v.string()),
  completed: v.boolean(),
  completed_at: v.nullable(DateTime),
  priority: v.picklist(PRIORITIES),
  tags: v.array(v.string()),
  due_date: v.nullable(DateTime),
  created_at: DateTime,
  updated_at: DateTime,
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  recurrence: v.nullable(v.strictObject({ rule: v.string(), time_zone: v.string(), anchor: v.picklist(ANCHORS) })),
  series_id: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))),
  next_id: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))),
  list_id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  parent_id: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))),
  position: v.pipe(v.string(), v.metadata({ description: "The task's order key among its siblings: sort by it, byte by byte." })),
  created_by: v.pipe(v.string(), v.metadata({ description: "Who created the task (its owner for tasks older than sharing)." })),
  assignee_id: v.pipe(v.nullable(v.string()), v.metadata({ description: "The member of the task's list it is assigned to, or null." })),
});

/** The body without the read-only fields a client may echo back. */
export function withoutReadOnly(body: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...body };
  for (const field of READ_ONLY_FIELDS) delete rest[field];
  return rest;
}

// POST /api/{user_id}/tasks/batch: 1 to 100 operations (docs/api.md "Batch"), each validated with
// the rules of its own route: create as POST, update as PATCH, complete as /complete, move as
// /move; the list operations as the list routes.
import * as v from "valibot";
import { type FieldError, validationFailed } from "../problems.ts";
import { ListInput, ListMoveInput, ListPatch, listWithoutReadOnly } from "./lists.ts";
import { MoveInput, TaskInput, TaskPatch, withoutReadOnly } from "./task.ts";

export const MAX_OPERATIONS = 100;

const ID_MESSAGE = "must be an id (a positive integer)";
const Id = v.pipe(v.number(ID_MESSAGE), v.safeInteger(ID_MESSAGE), v.minValue(1, ID_MESSAGE));
const IfMatch = v.pipe(
  v.string('must be an ETag such as "\\"3\\"", as a string'),
  v.metadata({ description: 'An ETag (or a list, or "*") with If-Match\'s rules: the operation applies only to that version.' }),
);
/**
 * An operation's task, passed on as is to the schema of its route. Not v.record: it drops the keys
 * "__proto__", "constructor" and "prototype", which would then pass unseen instead of being
 * refused as the unknown fields they are.
 */
const TaskBody = v.custom<Record<string, unknown>>(
  (input) => typeof input === "object" && input !== null && !Array.isArray(input),
  "must be an object",
);
const UNKNOWN = "is not accepted in this operation";

export const OPERATION_NAMES = [
  "create",
  "update",
  "complete",
  "delete",
  "move",
  "restore",
  "list_create",
  "list_update",
  "list_move",
  "list_delete",
  "list_restore",
] as const;

/** An operation's shape; its task is checked after, against the schema of its route. */
const OperationShape = v.variant(
  "op",
  [
    v.strictObject({ op: v.literal("create"), task: TaskBody }, UNKNOWN),
    v.strictObject({ op: v.literal("update"), id: Id, task: TaskBody, if_match: v.optional(IfMatch) }, UNKNOWN),
    v.strictObject(
      { op: v.literal("complete"), id: Id, completed: v.optional(v.boolean("must be true or false")), if_match: v.optional(IfMatch) },
      UNKNOWN,
    ),
    v.strictObject({ op: v.literal("delete"), id: Id, if_match: v.optional(IfMatch) }, UNKNOWN),
    v.object({ op: v.literal("move"), id: Id, if_match: v.optional(IfMatch) }),
    v.strictObject({ op: v.literal("restore"), id: Id }, UNKNOWN),
    v.strictObject({ op: v.literal("list_create"), list: TaskBody }, UNKNOWN),
    v.strictObject({ op: v.literal("list_update"), id: Id, list: TaskBody, if_match: v.optional(IfMatch) }, UNKNOWN),
    v.object({ op: v.literal("list_move"), id: Id, if_match: v.optional(IfMatch) }),
    v.strictObject({ op: v.literal("list_delete"), id: Id, move_to: v.optional(Id), if_match: v.optional(IfMatch) }, UNKNOWN),
    v.strictObject({ op: v.literal("list_restore"), id: Id }, UNKNOWN),
  ],
  `must be one of ${OPERATION_NAMES.map((name) => `"${name}"`).join(", ")}`,
);

export type Operation =
  | { op: "create"; task: TaskInput }
  | { op: "update"; id: number; task: TaskPatch; if_match?: string | undefined }
  | { op: "complete"; id: number; completed?: boolean | undefined; if_match?: string | undefined }
  | { op: "delete"; id: number; if_match?: string | undefined }
  | ({ op: "move"; id: number; if_match?: string | undefined } & MoveInput)
  | { op: "restore"; id: number }
  | { op: "list_create"; list: ListInput }
  | { op: "list_update"; id: number; list: ListPatch; if_match?: string | undefined }
  | { op: "list_move"; id: number; after_id?: number | undefined; before_id?: number | undefined; if_match?: string | undefined }
  | { op: "list_delete"; id: number; move_to?: number | undefined; if_match?: string | undefined }
  | { op: "list_restore"; id: number };

export const Batch = v.strictObject(
  {
    operations: v.pipe(
      v.array(v.unknown(), "must be an array of operations"),
      v.minLength(1, `must have 1 to ${MAX_OPERATIONS} operations`),
      v.maxLength(MAX_OPERATIONS, `must have 1 to ${MAX_OPERATIONS} operations`),
    ),
  },
  "is not accepted here; send only operations",
);

const errorsOf = (issues: readonly v.BaseIssue<unknown>[], prefix: string): FieldError[] =>
  issues.map((issue) => {
    const path = v.getDotPath(issue) ?? "";
    return { path: `${prefix}${path}`.replace(/[/.]$/, ""), message: issue.received === "undefined" ? "is required" : issue.message };
  });

/** One operation, or the errors that make it invalid (paths relative to operations/<index>/). */
function parseOperation(input: unknown): Operation | FieldError[] {
  const shape = v.safeParse(OperationShape, input);
  if (!shape.success) return errorsOf(shape.issues, "");
  const operation = shape.output;
  switch (operation.op) {
    case "delete":
    case "complete":
    case "restore":
    case "list_delete":
    case "list_restore":
      return operation;
    case "move": {
      // The move's own fields are its route's body: checked by that schema.
      const { op, id, if_match, ...fields } = input as Record<string, unknown>;
      const move = v.safeParse(MoveInput, fields);
      if (!move.success) return errorsOf(move.issues, "");
      return {
        op: "move",
        id: operation.id,
        ...(operation.if_match === undefined ? {} : { if_match: operation.if_match }),
        ...move.output,
      };
    }
    case "list_move": {
      const { op, id, if_match, ...fields } = input as Record<string, unknown>;
      const move = v.safeParse(ListMoveInput, fields);
      if (!move.success) return errorsOf(move.issues, "");
      return {
        op: "list_move",
        id: operation.id,
        ...(operation.if_match === undefined ? {} : { if_match: operation.if_match }),
        ...move.output,
      };
    }
    case "list_create": {
      const list = v.safeParse(ListInput, listWithoutReadOnly(operation.list));
      return list.success ? { op: "list_create", list: list.output } : errorsOf(list.issues, "list.");
    }
    case "list_update": {
      const list = v.safeParse(ListPatch, listWithoutReadOnly(operation.list));
      return list.success ? { ...operation, list: list.output } : errorsOf(list.issues, "list.");
    }
  }
  const body = withoutReadOnly(operation.task);
  if (operation.op === "create") {
    const task = v.safeParse(TaskInput, body);
    return task.success ? { op: "create", task: task.output } : errorsOf(task.issues, "task.");
  }
  const task = v.safeParse(TaskPatch, body);
  return task.success ? { ...operation, task: task.output } : errorsOf(task.issues, "task.");
}

/**
 * The operations of a batch body. The first operation that breaks a rule is the batch's problem:
 * a 422 with its index in `operation` and its paths as operations/<index>/….
 */
export function parseBatch(body: Record<string, unknown>): Operation[] {
  const batch = v.safeParse(Batch, body);
  if (!batch.success) throw validationFailed(errorsOf(batch.issues, ""));
  return batch.output.operations.map((input, index) => {
    const parsed = parseOperation(input);
    if (!Array.isArray(parsed)) return parsed;
    const prefixed = parsed.map((error) => ({ ...error, path: `operations/${index}/${error.path}`.replace(/\/$/, "") }));
    throw validationFailed(prefixed, { operation: index });
  });
}

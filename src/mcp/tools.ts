// The MCP tools: each one is a REST call of this API made for the token's subject, described by
// the OpenAPI document's own schemas (which come from the valibot schemas that validate the
// call). A tool's input schema is its route's body, query and path parameters (and
// Idempotency-Key, If-Match as arguments); its output schema is the route's response. The route
// validates the arguments, with the same rules and problem codes as over HTTP. Checked before the
// call are only what a URL or a header would mangle: a path argument missing, "." or ".."
// (segment()), and an idempotency_key a header cannot carry (server.ts, with the route's rule).
import { ID, IDEMPOTENCY_KEY_SCHEMA, openApiDocument } from "../openapi.ts";

type Json = Record<string, unknown>;

/** The REST call a tool makes: a path under /api/{user_id}, with a query, a JSON body and headers. */
export interface Call {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  query?: Json;
  body?: unknown;
  idempotencyKey?: unknown;
}

/** What a route answered, for a tool to turn into its result. */
export interface Answer {
  body: unknown;
  /** The Link header's next cursor, for listings. */
  nextCursor: string | null;
  replayed: boolean;
}

export interface Tool {
  name: string;
  title: string;
  description: string;
  inputSchema: Json;
  outputSchema: Json;
  annotations: { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint: false };
  call(args: Json): Call;
  result(answer: Answer, args: Json): { structured: Json; summary: string };
  /** A problem's error path (as the route named it) → the argument it stands for. */
  argument(path: string): string;
}

// ---- Reading the OpenAPI document -------------------------------------------------------------

const API = "/api/{user_id}";

/** A copy of `schema` with every #/components/schemas/… reference replaced by the schema itself. */
function inline(schema: unknown, components: Json): unknown {
  if (Array.isArray(schema)) return schema.map((item) => inline(item, components));
  if (schema === null || typeof schema !== "object") return schema;
  const ref = (schema as Json).$ref;
  if (typeof ref === "string" && ref.startsWith("#/components/schemas/"))
    return inline(components[ref.slice("#/components/schemas/".length)], components);
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, inline(value, components)]));
}

class Document {
  private readonly paths: Json;
  private readonly schemas: Json;
  constructor(document: Json) {
    this.paths = document.paths as Json;
    this.schemas = (document.components as Json).schemas as Json;
  }

  operation(method: string, path: string): Json {
    const operation = (this.paths[`${API}${path}`] as Json | undefined)?.[method] as Json | undefined;
    if (operation === undefined) throw new Error(`no ${method} ${path} in the OpenAPI document`);
    return operation;
  }

  schema(name: string): Json {
    return this.inline({ $ref: `#/components/schemas/${name}` });
  }

  inline(schema: unknown): Json {
    return inline(schema, this.schemas) as Json;
  }

  /** The operation's parameters of `location` as schema properties (described), by name. */
  parameters(operation: Json, location: "query" | "header"): Json {
    const parameters = (operation.parameters ?? []) as Json[];
    return Object.fromEntries(
      parameters
        .filter((parameter) => parameter.in === location)
        .map((parameter) => [parameter.name, { ...(parameter.schema as Json), description: parameter.description }]),
    );
  }

  body(operation: Json): Json {
    const content = ((operation.requestBody as Json | undefined)?.content as Json | undefined)?.["application/json"] as Json | undefined;
    return this.inline(content?.schema ?? { type: "object", properties: {} });
  }

  response(operation: Json, status: string): Json {
    const content = ((operation.responses as Json)[status] as Json).content as Json;
    return this.inline((content["application/json"] as Json).schema);
  }

  /** One operation of the batch body (its `op` left out). */
  batchOperation(op: string): Json {
    const variants = ((((this.schemas.BatchRequest as Json).properties as Json).operations as Json).items as Json).oneOf as Json[];
    const variant = variants.find((candidate) => ((candidate.properties as Json).op as Json).const === op);
    if (variant === undefined) throw new Error(`no batch operation ${op}`);
    const { op: _, ...properties } = variant.properties as Json;
    return this.inline({ ...variant, properties, required: (variant.required as string[]).filter((name) => name !== "op") });
  }
}

// ---- Building tools ---------------------------------------------------------------------------

const IDEMPOTENCY_KEY = {
  ...IDEMPOTENCY_KEY_SCHEMA,
  description:
    "A fresh random string (a UUID) for each new change; send the same one again to retry this exact call, and the change is " +
    "applied once: the retry returns the first answer. Kept 24 hours, per user.",
};
const IF_MATCH = {
  type: "string",
  description: 'Optional: the task\'s or list\'s ETag ("\\"<version>\\"") when read; the change is refused (412) if it changed since.',
};
const NEXT_CURSOR = { type: ["string", "null"], description: "Pass as cursor for the next page; null on the last page." };

const object = (properties: Json, required: string[] = []): Json => ({ type: "object", properties, required, additionalProperties: false });

/** The object schema's properties and required names (an empty object schema has none). */
function fields(schema: Json): { properties: Json; required: string[] } {
  return { properties: (schema.properties ?? {}) as Json, required: (schema.required ?? []) as string[] };
}

/** Arguments without `names`, and those names' values. */
function split(args: Json, names: string[]): [Json, Json] {
  // fromEntries defines each name as its own property, "__proto__" included, so the route sees
  // (and refuses) every argument it does not know.
  const entries = Object.entries(args);
  return [
    Object.fromEntries(entries.filter(([name]) => names.includes(name))),
    Object.fromEntries(entries.filter(([name]) => !names.includes(name))),
  ];
}

/** An argument refused before any call: one that cannot be put in a URL as it is. */
export class ArgumentError extends Error {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super(message);
    this.argument = argument;
  }
}

/** An argument as the text of a path segment or a query parameter, for the route to parse. */
export function argumentText(value: unknown): string {
  if (typeof value === "string") return value;
  return typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
}

/**
 * A path segment from an argument, as the route parses it (the route refuses what is not an id).
 * Missing, "." and ".." are refused here: URL parsing would resolve a dot segment against the path
 * (a member_id of ".." would make DELETE …/lists/7/members/.. a DELETE of …/lists/7).
 */
function segment(args: Json, name: string): string {
  const value = args[name];
  if (value === undefined) throw new ArgumentError(name, "is required");
  const text = argumentText(value);
  if (text === "." || text === "..") throw new ArgumentError(name, 'must not be "." or ".."');
  return encodeURIComponent(text);
}

const quote = (title: unknown) => JSON.stringify(typeof title === "string" && title.length > 60 ? `${title.slice(0, 57)}...` : title);
const describeTask = (task: Json) => `${task.id} ${quote(task.title)}${task.completed === true ? " (completed)" : ""}`;
const describeList = (list: Json) => `${list.id} ${quote(list.name)}`;
/** At most `shown` items named, then how many more. */
function enumerate(items: Json[], describe: (item: Json) => string, shown = 10): string {
  const named = items.slice(0, shown).map(describe).join("; ");
  return items.length > shown ? `${named}; and ${items.length - shown} more` : named;
}
const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;
const replayNote = (answer: Answer) =>
  answer.replayed ? " (a retry: the first call with this idempotency_key did it; nothing changed now)" : "";

/** A route's JSON body schema as a tool's input, with the idempotency_key its retries carry. */
function withIdempotencyKey(body: Json): Json {
  const { properties, required } = fields(body);
  return object({ ...properties, idempotency_key: IDEMPOTENCY_KEY }, required);
}

/** A POST of the arguments as the body, their idempotency_key as the Idempotency-Key. */
const postWithKey =
  (path: string) =>
  (args: Json): Call => {
    const [taken, body] = split(args, ["idempotency_key"]);
    return { method: "POST", path, body, idempotencyKey: taken.idempotency_key };
  };

/** Error paths the routes use for headers, as arguments. */
function commonArgument(path: string): string {
  return path === "Idempotency-Key" ? "idempotency_key" : path;
}

/**
 * A write of one task or list through POST /tasks/batch, the route that takes an
 * Idempotency-Key for every kind of write (a batch of one is one statement, like the single
 * route). `idArg` is the argument naming the task or list; `nest` the body object the batch
 * operation carries the fields in (flattened into the arguments).
 */
function batchTool(
  document: Document,
  spec: {
    name: string;
    title: string;
    description: string;
    op: string;
    idArg: "id" | "list_id";
    nest?: "task" | "list";
    defaults?: Json;
    annotations: Tool["annotations"];
    result(item: Json, answer: Answer): { structured: Json; summary: string };
    outputSchema: Json;
  },
): Tool {
  const variant = document.batchOperation(spec.op);
  const { properties: opProperties, required: opRequired } = fields(variant);
  const { [spec.nest ?? ""]: nested, id: _, ...envelope } = opProperties;
  const nestedFields = nested === undefined ? { properties: {}, required: [] } : fields(nested as Json);
  const properties: Json = {
    [spec.idArg]: { ...ID, description: spec.idArg === "id" ? "The task id." : "The list id." },
    ...nestedFields.properties,
    ...envelope,
    idempotency_key: IDEMPOTENCY_KEY,
  };
  if ("if_match" in properties) properties.if_match = IF_MATCH;
  for (const [name, value] of Object.entries(spec.defaults ?? {})) properties[name] = { ...(properties[name] as Json), default: value };
  const required = [spec.idArg, ...opRequired.filter((name) => name !== "id" && name !== spec.nest && name in properties)];
  const envelopeNames = Object.keys(envelope);
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    annotations: spec.annotations,
    inputSchema: { ...object(properties, required), ...(variant.not === undefined ? {} : { not: variant.not }) },
    outputSchema: spec.outputSchema,
    call(args) {
      const [taken, rest] = split(args, [spec.idArg, "idempotency_key", ...envelopeNames]);
      const operation: Json = { op: spec.op, id: taken[spec.idArg] };
      for (const name of envelopeNames) if (taken[name] !== undefined) operation[name] = taken[name];
      const sent: Json = spec.nest === undefined ? { ...operation, ...rest } : { ...operation, [spec.nest]: rest };
      for (const [name, value] of Object.entries(spec.defaults ?? {})) sent[name] ??= value;
      return { method: "POST", path: "/tasks/batch", body: { operations: [sent] }, idempotencyKey: taken.idempotency_key };
    },
    result(answer) {
      const [item] = (answer.body as { results: Json[] }).results;
      const result = spec.result(item as Json, answer);
      return { structured: result.structured, summary: result.summary + replayNote(answer) };
    },
    argument(path) {
      const inner = path.replace(/^operations\/0\/?/, "");
      if (inner === "id") return spec.idArg;
      if (spec.nest !== undefined && inner.startsWith(`${spec.nest}.`)) return inner.slice(spec.nest.length + 1);
      return commonArgument(inner === spec.nest ? "" : inner);
    },
  };
}

/** A call of one route, its arguments mapped by `call`. */
function routeTool(spec: Omit<Tool, "argument"> & { argument?: (path: string) => string }): Tool {
  return { ...spec, argument: spec.argument ?? commonArgument };
}

function buildTools(document: Document): Tool[] {
  const TASK = document.schema("Task");
  const LIST = document.schema("List");
  const taskResult = (item: Json) => ({ task: item.task as Json });
  const listResult = (item: Json) => ({ list: item.list as Json });
  const taskOutput = object({ task: TASK }, ["task"]);
  const listOutput = object({ list: LIST }, ["list"]);
  const deletedOutput = object({ id: ID }, ["id"]);
  const READ = { readOnlyHint: true, openWorldHint: false } as const;
  const WRITE = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

  const createTask = document.operation("post", "/tasks");
  const createBody = document.body(createTask);
  const listQuery = document.parameters(document.operation("get", "/tasks"), "query");
  const createList = document.operation("post", "/lists");
  const listBody = document.body(createList);
  const trashQuery = document.parameters(document.operation("get", "/trash"), "query");
  const occurrences = document.operation("get", "/tasks/{id}/occurrences");
  const changesQuery = document.parameters(document.operation("get", "/changes"), "query");
  const invitationBody = document.body(document.operation("post", "/lists/{list_id}/invitations"));
  const acceptBody = document.body(document.operation("post", "/invitations/accept"));
  const memberBody = document.body(document.operation("patch", "/lists/{list_id}/members/{member_id}"));
  const LIST_ID = { ...ID, description: "The list id." };
  const TASK_ID = { ...ID, description: "The task id." };

  return [
    // ---- tasks
    routeTool({
      name: "add_task",
      title: "Add a task",
      description:
        "Create one task (in the Inbox unless list_id is given; a subtask with parent_id). Returns the task. " +
        "To add several at once, use add_tasks.",
      annotations: WRITE,
      inputSchema: withIdempotencyKey(createBody),
      outputSchema: taskOutput,
      call: postWithKey("/tasks"),
      result: (answer) => ({
        structured: { task: answer.body as Json },
        summary: `Added task ${describeTask(answer.body as Json)}.${replayNote(answer)}`,
      }),
    }),
    routeTool({
      name: "add_tasks",
      title: "Add several tasks",
      description:
        "Create 1 to 100 tasks in one call, all or none (if one is invalid, nothing is created and the error names it as " +
        "tasks.<index>.<field>). Returns the tasks in the order given.",
      annotations: WRITE,
      inputSchema: object(
        {
          tasks: { type: "array", minItems: 1, maxItems: 100, items: createBody, description: "The tasks to create, in order." },
          idempotency_key: IDEMPOTENCY_KEY,
        },
        ["tasks"],
      ),
      outputSchema: object({ tasks: { type: "array", items: TASK } }, ["tasks"]),
      call(args) {
        const [taken, rest] = split(args, ["idempotency_key", "tasks"]);
        const tasks = taken.tasks;
        const operations = Array.isArray(tasks) ? tasks.map((task) => ({ op: "create", task })) : tasks;
        // An unknown argument goes to the route as a batch field, which refuses it by name.
        return { method: "POST", path: "/tasks/batch", body: { operations, ...rest }, idempotencyKey: taken.idempotency_key };
      },
      result(answer) {
        const tasks = (answer.body as { results: Json[] }).results.map((item) => item.task as Json);
        return {
          structured: { tasks },
          summary: `Added ${plural(tasks.length, "task")}: ${enumerate(tasks, describeTask)}.${replayNote(answer)}`,
        };
      },
      argument(path) {
        // operations → tasks; operations/3 and operations/3/task → tasks.3; operations/3/task.title → tasks.3.title.
        const match = /^operations(?:\/(\d+)(?:\/task(?:\.(.+))?)?)?$/.exec(path);
        if (match === null) return commonArgument(path);
        return ["tasks", match[1], match[2]].filter((part) => part !== undefined).join(".");
      },
    }),
    routeTool({
      name: "list_tasks",
      title: "List or search tasks",
      description:
        "The user's tasks (their own and those of lists shared with them), one page at a time, with every filter of " +
        "GET /tasks: status, priority, tag, q (text search in title and description), due_before/due_after, list_id, " +
        "parent_id, sort. When next_cursor is not null, call again with the same filters and cursor for the next page.",
      annotations: READ,
      inputSchema: object(listQuery),
      outputSchema: object({ tasks: { type: "array", items: TASK }, next_cursor: NEXT_CURSOR }, ["tasks", "next_cursor"]),
      call: (args) => ({ method: "GET", path: "/tasks", query: args }),
      result(answer) {
        const tasks = answer.body as Json[];
        const more = answer.nextCursor === null ? "" : " More on the next page: pass next_cursor as cursor.";
        return {
          structured: { tasks, next_cursor: answer.nextCursor },
          summary: `${plural(tasks.length, "task")}${tasks.length > 0 ? `: ${enumerate(tasks, describeTask)}` : ""}.${more}`,
        };
      },
    }),
    routeTool({
      name: "get_task",
      title: "Get a task",
      description: "One task by id, with its version (for if_match).",
      annotations: READ,
      inputSchema: object({ id: TASK_ID }, ["id"]),
      outputSchema: taskOutput,
      call: (args) => {
        const [taken, query] = split(args, ["id"]);
        return { method: "GET", path: `/tasks/${segment(taken, "id")}`, query };
      },
      result: (answer) => ({ structured: { task: answer.body as Json }, summary: `Task ${describeTask(answer.body as Json)}.` }),
    }),
    batchTool(document, {
      name: "update_task",
      title: "Update a task",
      description:
        "Change any of a task's fields (only those given; null clears a nullable one). list_id or parent_id moves it " +
        "(last in its new place). Returns the task.",
      op: "update",
      idArg: "id",
      nest: "task",
      annotations: WRITE,
      outputSchema: taskOutput,
      result: (item) => ({ structured: taskResult(item), summary: `Updated task ${describeTask(item.task as Json)}.` }),
    }),
    batchTool(document, {
      name: "complete_task",
      title: "Complete a task",
      description:
        "Mark a task completed (completed: false reopens it). Completing an occurrence of a recurring task creates the next " +
        "one (its id is the task's next_id). Returns the task.",
      op: "complete",
      idArg: "id",
      defaults: { completed: true },
      annotations: WRITE,
      outputSchema: taskOutput,
      result: (item) => {
        const task = item.task as Json;
        const next = task.next_id === null ? "" : ` The next occurrence is task ${task.next_id}.`;
        return {
          structured: taskResult(item),
          summary: `${task.completed === true ? "Completed" : "Reopened"} task ${describeTask(task)}.${next}`,
        };
      },
    }),
    batchTool(document, {
      name: "move_task",
      title: "Move a task",
      description:
        "Move a task to another list (list_id), under another parent (parent_id; null: top level), and/or to a place among " +
        "its siblings (after_id or before_id, at most one; neither: last). Returns the task with its new position.",
      op: "move",
      idArg: "id",
      annotations: WRITE,
      outputSchema: taskOutput,
      result: (item) => ({ structured: taskResult(item), summary: `Moved task ${describeTask(item.task as Json)}.` }),
    }),
    batchTool(document, {
      name: "delete_task",
      title: "Delete a task",
      description: "Move a task (with its subtasks) to the trash; restore_task brings it back within 30 days. Returns its id.",
      op: "delete",
      idArg: "id",
      annotations: { ...WRITE, destructiveHint: true },
      outputSchema: deletedOutput,
      result: (item) => ({ structured: { id: item.id as number }, summary: `Deleted task ${item.id} (in the trash for 30 days).` }),
    }),
    batchTool(document, {
      name: "restore_task",
      title: "Restore a task",
      description: "Bring a task (and the subtasks deleted with it) back from the trash. Returns the task.",
      op: "restore",
      idArg: "id",
      annotations: WRITE,
      outputSchema: taskOutput,
      result: (item) => ({ structured: taskResult(item), summary: `Restored task ${describeTask(item.task as Json)}.` }),
    }),
    routeTool({
      name: "list_trash",
      title: "List the trash",
      description: "Tasks and lists deleted in the last 30 days, most recent first, a page at a time (see next_cursor).",
      annotations: READ,
      inputSchema: object(trashQuery),
      outputSchema: object({ entries: { type: "array", items: document.schema("TrashEntry") }, next_cursor: NEXT_CURSOR }, [
        "entries",
        "next_cursor",
      ]),
      call: (args) => ({ method: "GET", path: "/trash", query: args }),
      result(answer) {
        const entries = answer.body as Json[];
        const describe = (entry: Json) =>
          entry.type === "task" ? `task ${describeTask(entry.task as Json)}` : `list ${describeList(entry.list as Json)}`;
        return {
          structured: { entries, next_cursor: answer.nextCursor },
          summary: `In the trash: ${entries.length === 0 ? "nothing" : enumerate(entries, describe)}.${entries.length > 0 && answer.nextCursor !== null ? " More on the next page: pass next_cursor as cursor." : ""}`,
        };
      },
    }),
    routeTool({
      name: "list_occurrences",
      title: "Next occurrences of a recurring task",
      description: "The next due dates of a recurring task, without creating them.",
      annotations: READ,
      inputSchema: object({ id: TASK_ID, ...document.parameters(occurrences, "query") }, ["id"]),
      outputSchema: document.response(occurrences, "200"),
      call: (args) => {
        const [taken, query] = split(args, ["id"]);
        return { method: "GET", path: `/tasks/${segment(taken, "id")}/occurrences`, query };
      },
      result: (answer) => {
        const body = answer.body as Json;
        const dates = (body.occurrences ?? []) as unknown[];
        return {
          structured: body,
          summary: `${plural(dates.length, "occurrence")}${dates.length > 0 ? `: ${dates.slice(0, 10).join(", ")}` : ""}.`,
        };
      },
    }),

    // ---- lists
    routeTool({
      name: "list_lists",
      title: "List the lists",
      description: "Every list of the user in order (the Inbox first), then the lists shared with them, each with the caller's role.",
      annotations: READ,
      inputSchema: object({}),
      outputSchema: object({ lists: { type: "array", items: LIST } }, ["lists"]),
      call: (args) => ({ method: "GET", path: "/lists", query: args }),
      result: (answer) => {
        const lists = answer.body as Json[];
        return { structured: { lists }, summary: `${plural(lists.length, "list")}: ${enumerate(lists, describeList, 20)}.` };
      },
    }),
    routeTool({
      name: "create_list",
      title: "Create a list",
      description: "Create a list (last in the user's order). Returns the list.",
      annotations: WRITE,
      inputSchema: withIdempotencyKey(listBody),
      outputSchema: listOutput,
      call: postWithKey("/lists"),
      result: (answer) => ({
        structured: { list: answer.body as Json },
        summary: `Created list ${describeList(answer.body as Json)}.${replayNote(answer)}`,
      }),
    }),
    batchTool(document, {
      name: "update_list",
      title: "Rename or recolor a list",
      description: "Change a list's name or color (the owner only). Returns the list.",
      op: "list_update",
      idArg: "list_id",
      nest: "list",
      annotations: WRITE,
      outputSchema: listOutput,
      result: (item) => ({ structured: listResult(item), summary: `Updated list ${describeList(item.list as Json)}.` }),
    }),
    batchTool(document, {
      name: "move_list",
      title: "Reorder a list",
      description: "Move a list among the user's lists: after_id or before_id (at most one; neither: last). Returns the list.",
      op: "list_move",
      idArg: "list_id",
      annotations: WRITE,
      outputSchema: listOutput,
      result: (item) => ({ structured: listResult(item), summary: `Moved list ${describeList(item.list as Json)}.` }),
    }),
    batchTool(document, {
      name: "delete_list",
      title: "Delete a list",
      description:
        "Move a list to the trash with its tasks, or first move its tasks to move_to and delete the list alone. " +
        "The Inbox cannot be deleted. restore_list brings it back within 30 days.",
      op: "list_delete",
      idArg: "list_id",
      annotations: { ...WRITE, destructiveHint: true },
      outputSchema: deletedOutput,
      result: (item) => ({ structured: { id: item.id as number }, summary: `Deleted list ${item.id} (in the trash for 30 days).` }),
    }),
    batchTool(document, {
      name: "restore_list",
      title: "Restore a list",
      description: "Bring a list back from the trash, with the tasks deleted with it. Returns the list.",
      op: "list_restore",
      idArg: "list_id",
      annotations: WRITE,
      outputSchema: listOutput,
      result: (item) => ({ structured: listResult(item), summary: `Restored list ${describeList(item.list as Json)}.` }),
    }),

    // ---- sharing
    routeTool({
      name: "create_invitation",
      title: "Invite someone to a list",
      description:
        "Make an invitation to a list the user owns, as editor (default) or viewer. Returns its token, shown only in this " +
        "answer: give it to the person invited, who joins with accept_invitation. Valid 7 days, single use.",
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      inputSchema: object({ list_id: LIST_ID, ...fields(invitationBody).properties }, ["list_id", ...fields(invitationBody).required]),
      outputSchema: document.response(document.operation("post", "/lists/{list_id}/invitations"), "201"),
      call(args) {
        const [taken, body] = split(args, ["list_id"]);
        return { method: "POST", path: `/lists/${segment(taken, "list_id")}/invitations`, body };
      },
      result: (answer) => {
        const invitation = answer.body as Json;
        return {
          structured: invitation,
          summary: `Invitation ${invitation.id} to list ${invitation.list_id} as ${invitation.role}, until ${invitation.expires_at}. Token (shown once): ${invitation.token}`,
        };
      },
    }),
    routeTool({
      name: "list_invitations",
      title: "Pending invitations of a list",
      description: "The list's pending invitations, newest first (the owner only; tokens are never shown again).",
      annotations: READ,
      inputSchema: object({ list_id: LIST_ID }, ["list_id"]),
      outputSchema: object({ invitations: document.response(document.operation("get", "/lists/{list_id}/invitations"), "200") }, [
        "invitations",
      ]),
      call: (args) => {
        const [taken, query] = split(args, ["list_id"]);
        return { method: "GET", path: `/lists/${segment(taken, "list_id")}/invitations`, query };
      },
      result: (answer) => {
        const invitations = answer.body as Json[];
        return { structured: { invitations }, summary: `${plural(invitations.length, "pending invitation")}.` };
      },
    }),
    routeTool({
      name: "revoke_invitation",
      title: "Revoke an invitation",
      description: "Revoke a pending invitation of a list the user owns; its token stops working.",
      annotations: { ...WRITE, destructiveHint: true },
      inputSchema: object(
        { list_id: LIST_ID, invitation_id: { ...ID, description: "The invitation id." }, idempotency_key: IDEMPOTENCY_KEY },
        ["list_id", "invitation_id"],
      ),
      outputSchema: object({ id: ID }, ["id"]),
      call: (args) => {
        const [taken, query] = split(args, ["list_id", "invitation_id", "idempotency_key"]);
        const path = `/lists/${segment(taken, "list_id")}/invitations/${segment(taken, "invitation_id")}`;
        return { method: "DELETE", path, query, idempotencyKey: taken.idempotency_key };
      },
      result: (answer, args) => ({
        structured: { id: args.invitation_id as number },
        summary: `Revoked invitation ${args.invitation_id}.${replayNote(answer)}`,
      }),
    }),
    routeTool({
      name: "accept_invitation",
      title: "Join a shared list",
      description: "Join a list with an invitation token someone gave the user. Returns the membership (the list and the role).",
      annotations: WRITE,
      inputSchema: withIdempotencyKey(acceptBody),
      outputSchema: listOutput,
      call: postWithKey("/invitations/accept"),
      result: (answer) => {
        const list = answer.body as Json;
        return { structured: { list }, summary: `Joined list ${describeList(list)} as ${list.role}.${replayNote(answer)}` };
      },
    }),
    routeTool({
      name: "list_members",
      title: "Members of a list",
      description: "The list's members with their roles, the owner first (any member may read them).",
      annotations: READ,
      inputSchema: object({ list_id: LIST_ID }, ["list_id"]),
      outputSchema: object({ members: document.response(document.operation("get", "/lists/{list_id}/members"), "200") }, ["members"]),
      call: (args) => {
        const [taken, query] = split(args, ["list_id"]);
        return { method: "GET", path: `/lists/${segment(taken, "list_id")}/members`, query };
      },
      result: (answer) => {
        const members = answer.body as Json[];
        return {
          structured: { members },
          summary: `${plural(members.length, "member")}: ${enumerate(members, (m) => `${m.user_id} (${m.role})`, 20)}.`,
        };
      },
    }),
    routeTool({
      name: "update_member",
      title: "Change a member's role",
      description: "Make a member an editor or a viewer, or the owner (which transfers the list; the owner only).",
      annotations: WRITE,
      inputSchema: object(
        {
          list_id: LIST_ID,
          member_id: { type: "string", minLength: 1, description: "The member's user id." },
          ...fields(memberBody).properties,
          idempotency_key: IDEMPOTENCY_KEY,
        },
        ["list_id", "member_id", ...fields(memberBody).required],
      ),
      outputSchema: document.response(document.operation("patch", "/lists/{list_id}/members/{member_id}"), "200"),
      call(args) {
        const [taken, body] = split(args, ["list_id", "member_id", "idempotency_key"]);
        const path = `/lists/${segment(taken, "list_id")}/members/${segment(taken, "member_id")}`;
        return { method: "PATCH", path, body, idempotencyKey: taken.idempotency_key };
      },
      result: (answer) => {
        const member = answer.body as Json;
        return { structured: member, summary: `${member.user_id} is now ${member.role} of list ${member.list_id}.${replayNote(answer)}` };
      },
    }),
    routeTool({
      name: "remove_member",
      title: "Remove a member, or leave a list",
      description: "The owner removes a member; a member passes their own user id to leave the list.",
      annotations: { ...WRITE, destructiveHint: true },
      inputSchema: object(
        {
          list_id: LIST_ID,
          member_id: { type: "string", minLength: 1, description: "The member's user id (the user's own: leave)." },
          idempotency_key: IDEMPOTENCY_KEY,
        },
        ["list_id", "member_id"],
      ),
      outputSchema: object({ list_id: ID, member_id: { type: "string" } }, ["list_id", "member_id"]),
      call: (args) => {
        const [taken, query] = split(args, ["list_id", "member_id", "idempotency_key"]);
        const path = `/lists/${segment(taken, "list_id")}/members/${segment(taken, "member_id")}`;
        return { method: "DELETE", path, query, idempotencyKey: taken.idempotency_key };
      },
      result: (answer, args) => ({
        structured: { list_id: args.list_id as number, member_id: args.member_id as string },
        summary: `${args.member_id} is no longer a member of list ${args.list_id}.${replayNote(answer)}`,
      }),
    }),

    // ---- sync
    routeTool({
      name: "get_changes",
      title: "What changed since a cursor",
      description:
        "Every task, list and membership change since the cursor of the previous call (omit since for the full state), " +
        "deletions as tombstones. For agents that watch: keep the returned cursor and pass it as since next time; " +
        "has_more: call again at once.",
      annotations: READ,
      inputSchema: object(changesQuery),
      outputSchema: document.schema("ChangesPage"),
      call: (args) => ({ method: "GET", path: "/changes", query: args }),
      result: (answer) => {
        const page = answer.body as { changes: unknown[]; lists: unknown[]; members: unknown[]; has_more: boolean };
        return {
          structured: answer.body as Json,
          summary:
            `${plural(page.changes.length, "task change")}, ${plural(page.lists.length, "list change")}, ` +
            `${plural(page.members.length, "membership change")}.${page.has_more ? " More: call again with since = cursor." : ""}`,
        };
      },
    }),
  ];
}

let cached: Tool[] | undefined;

/** The tools, built once per isolate from the OpenAPI document. */
export function tools(): Tool[] {
  cached ??= buildTools(new Document(openApiDocument()));
  return cached;
}

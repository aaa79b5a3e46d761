// The OpenAPI 3.1 document of the API, generated from the same valibot schemas that validate
// requests (and the Task schema that describes responses), never kept by hand. Served at
// /openapi.json; /docs renders it; the tests validate it and check every response against it.
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { JWKS_ALGORITHMS } from "./auth/keys.ts";
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, describeLifetime } from "./auth/lifetime.ts";
import { MAX_BATCH_BODY_BYTES } from "./http/body.ts";
import { MAX_ERRORS } from "./http/problem.ts";
import { CLOSE_MESSAGE_TOO_BIG, CLOSE_POLICY_VIOLATION, MAX_CLIENT_MESSAGE_BYTES, PING, PONG } from "./live/protocol.ts";
import { PROBLEM_CODES, type ProblemCode } from "./problems.ts";
import { SERVICE_INDEX } from "./routes/home.ts";
import { MAX_OPERATIONS } from "./schemas/batch.ts";
import { ChangesQuery, DEFAULT_CHANGES_LIMIT, MAX_CHANGES_LIMIT } from "./schemas/changes.ts";
import { ListQuery, MAX_LIMIT } from "./schemas/listing.ts";
import { List, ListInput, ListMoveInput, ListPatch, MAX_LISTS } from "./schemas/lists.ts";
import { MAX_OCCURRENCES } from "./schemas/occurrences.ts";
import {
  AcceptInput,
  INVITATION_DAYS,
  Invitation,
  InvitationInput,
  MAX_MEMBERS,
  Member,
  MemberPatch,
  Membership,
  NewInvitation,
} from "./schemas/sharing.ts";
import { CompleteInput, MoveInput, Task, TaskInput, TaskPatch } from "./schemas/task.ts";
import { DEFAULT_TRASH_LIMIT, MAX_TRASH_LIMIT, TrashQuery } from "./schemas/trash.ts";

type Json = Record<string, unknown>;

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) of a valibot schema; custom checks are described by v.metadata. */
const schemaOf = (schema: v.GenericSchema): Json => {
  const { $schema: _, ...json } = toJsonSchema(schema, { target: "draft-2020-12", errorMode: "ignore" }) as Json;
  return json;
};

const Problem = v.object({
  type: v.pipe(v.string(), v.metadata({ description: "/problems/<code>: a page describing the code." })),
  code: v.pipe(v.picklist(PROBLEM_CODES), v.metadata({ description: "The stable identity of the problem, for programs." })),
  title: v.string(),
  status: v.pipe(v.number(), v.integer()),
  detail: v.pipe(v.string(), v.metadata({ description: "A sentence for people; may change." })),
  request_id: v.string(),
  operation: v.optional(
    v.pipe(v.number(), v.integer(), v.metadata({ description: "A batch's failing operation: its index in operations." })),
  ),
  errors: v.optional(
    v.pipe(
      v.array(v.strictObject({ path: v.string(), message: v.string() })),
      v.maxLength(MAX_ERRORS),
      v.metadata({ description: `At most ${MAX_ERRORS}; detail says how many more there were.` }),
    ),
  ),
});

const Health = v.strictObject({ status: v.picklist(["ok", "degraded"]), database: v.picklist(["ok", "unreachable"]) });

const header = (description: string, schema: Json = { type: "string" }, required = true) => ({ description, required, schema });

const RETRY_AFTER = { type: "string", pattern: "^[0-9]+$" };

const HEADERS = {
  "X-Request-Id": header("The client's X-Request-Id when it sent a sane one (up to 128 visible ASCII characters), else generated."),
  ETag: header("The task's (or the list's) version as a strong entity tag, e.g. \"3\"."),
  Location: header(
    "The new task's or list's URL: absolute on the API's public origin when the deployment sets PUBLIC_URL, else a relative " +
      "reference (/api/{user_id}/tasks/{id} or /api/{user_id}/lists/{list_id}, RFC 9110 §10.2.2): resolve it against the request URL.",
  ),
  "Retry-After": header("Seconds to wait before retrying.", RETRY_AFTER),
  RetryAfterInFlight: header("With idempotency_in_flight only: seconds to wait before retrying.", RETRY_AFTER, false),
  "WWW-Authenticate": header('Bearer challenge (RFC 6750), with error="invalid_token" when a token was sent.'),
  Link: header(
    'The next page: <url>; rel="next" (RFC 8288). The URL is absolute on the public origin when the deployment sets PUBLIC_URL, ' +
      "else a relative reference (the request's path and query with the next page's cursor, e.g. /api/{user_id}/tasks?…&cursor=…): " +
      "resolve it against the request URL. Absent on the last page.",
    { type: "string" },
    false,
  ),
  "Idempotent-Replayed": header(
    '"true" when this answer replays an earlier request with the same Idempotency-Key.',
    { const: "true" },
    false,
  ),
} as const;

type HeaderName = keyof typeof HEADERS;

/** The HTTP name of a header component that is a variant of another header (optional where the plain one is required). */
const HEADER_NAMES: Partial<Record<HeaderName, string>> = { RetryAfterInFlight: "Retry-After" };

const headerRefs = (...names: HeaderName[]) =>
  Object.fromEntries(
    ["X-Request-Id" as HeaderName, ...names].map((name) => [HEADER_NAMES[name] ?? name, { $ref: `#/components/headers/${name}` }]),
  );

/** A problem response with the codes it can carry. */
const problem = (description: string, codes: ProblemCode[], ...headers: HeaderName[]) => ({
  description: `${description} Codes: ${codes.map((code) => `\`${code}\``).join(", ")}.`,
  headers: headerRefs(...headers),
  content: {
    "application/problem+json": {
      schema: { allOf: [{ $ref: "#/components/schemas/Problem" }, { type: "object", properties: { code: { enum: codes } } }] },
    },
  },
});

const json = (description: string, schema: Json, ...headers: HeaderName[]) => ({
  description,
  headers: headerRefs(...headers),
  content: { "application/json": { schema } },
});

const TASK = { $ref: "#/components/schemas/Task" };
const LIST = { $ref: "#/components/schemas/List" };

/** Responses every /api operation can give. */
const API_ERRORS = {
  "401": problem(
    "Token missing, malformed, badly signed, expired, not yet valid, or with the wrong issuer, audience or subject.",
    ["token_missing", "token_invalid"],
    "WWW-Authenticate",
  ),
  "403": problem(
    "A valid token, but {user_id} is not its subject (forbidden); or a write the caller's role in a shared list does not " +
      "allow: a viewer writes nothing (list_read_only), and only the owner changes the list itself, its members and invitations " +
      "(list_owner_only).",
    ["forbidden", "list_read_only", "list_owner_only"],
  ),
  "429": problem(
    "This user sent more requests than the per-user rate limit allows; retry after Retry-After seconds.",
    ["rate_limited"],
    "Retry-After",
  ),
  "422": problem("Validation failed: body fields, query parameters, the task or list id, or the Idempotency-Key.", ["validation_failed"]),
  "500": problem("Something unexpected, or a missing setting (named in detail).", ["internal_error", "configuration_error"]),
  "503": problem(
    "The database (or the token's signing keys) could not be reached in time, or two writes to shared lists waited for each " +
      "other and this one gave way (write_conflict); the request had no effect and is safe to retry.",
    ["database_unavailable", "keys_unavailable", "write_conflict"],
    "Retry-After",
  ),
};
const BODY_ERRORS = {
  "400": problem("The body is not valid JSON, or not a JSON object.", ["malformed_json"]),
  "413": problem("The body is over 64 KiB.", ["body_too_large"]),
  "415": problem("A body with a Content-Type other than application/json.", ["unsupported_media_type"]),
};
const NOT_FOUND = {
  "404": problem("No such task for this user (another user's task, or one in the trash, looks the same).", ["task_not_found"]),
};
const STALE = { "412": problem("If-Match does not match the task's current ETag; nothing was changed.", ["precondition_failed"]) };
const LIST_NOT_FOUND = {
  "404": problem("No such list for this user (another user's list, or one in the trash, looks the same).", ["list_not_found"]),
};
const LIST_STALE = { "412": problem("If-Match does not match the list's current ETag; nothing was changed.", ["precondition_failed"]) };
/** A write that may complete a recurring task: its next due date is computed within the request's budget. */
const RECURRING_WRITE = {
  "422": problem(
    "Validation failed; or (recurrence_too_complex) the next due date of the recurring task completed needs more computation than " +
      "one request may do, which one task's series never does alone. Nothing was changed.",
    ["validation_failed", "recurrence_too_complex"],
  ),
};

/** An entry of /changes: {"op": "upsert", <field>: the record} or {"op": "delete", "id"}. */
const changeOf = (field: string, record: Json) => ({
  oneOf: [
    { type: "object", required: ["op", field], additionalProperties: false, properties: { op: { const: "upsert" }, [field]: record } },
    {
      type: "object",
      required: ["op", "id"],
      additionalProperties: false,
      properties: { op: { const: "delete" }, id: { type: "integer", minimum: 1 } },
    },
  ],
});

const param = (name: string, location: "path" | "header" | "query", schema: Json, description: string, required = location === "path") => ({
  name,
  in: location,
  required,
  description,
  schema,
});

const USER_ID = param("user_id", "path", { type: "string", minLength: 1 }, "The user; must be the token's `sub` (percent-encoded).");
export const ID = { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER };
const TASK_ID = param("id", "path", ID, "The task id.");
const LIST_ID = param("list_id", "path", ID, "The list id.");
const ifMatch = (what: "task" | "list") =>
  param(
    "If-Match",
    "header",
    { type: "string" },
    `Apply the write only if the ${what}'s ETag is one of these (strong comparison), or "*" for any existing ${what}; else 412.`,
  );
const IF_MATCH = ifMatch("task");
const LIST_IF_MATCH = ifMatch("list");
const IF_NONE_MATCH = param(
  "If-None-Match",
  "header",
  { type: "string" },
  "304 with no body when one of these tags (weak comparison) or * matches.",
);
/** An Idempotency-Key's text: 1 to 255 printable ASCII characters. */
export const IDEMPOTENCY_KEY_SCHEMA = { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x20-\\x7E]+$" };
const IDEMPOTENCY_KEY = param(
  "Idempotency-Key",
  "header",
  IDEMPOTENCY_KEY_SCHEMA,
  "A retry with the same key and body within 24 hours returns the original 201 and creates nothing; another body is a 422; a retry while the first is in flight is a 409. Keys are per user.",
);

/** The sharing writes that take an Idempotency-Key (all but making an invitation: its token is shown once, never stored). */
const SHARING_KEY =
  "Idempotency-Key works as on POST /tasks: a retry with the same key and request within 24 hours gets the first answer " +
  "again and changes nothing (a key used for another request: 422).";
const KEY_REUSED = {
  "422": problem("Validation failed, or the Idempotency-Key was used with another request.", [
    "validation_failed",
    "idempotency_key_reused",
  ]),
};
const IN_FLIGHT = {
  "409": problem(
    "A request with this Idempotency-Key is still in flight (with Retry-After).",
    ["idempotency_in_flight"],
    "RetryAfterInFlight",
  ),
};

const LIST_DESCRIPTIONS: Record<string, string> = {
  list_id: "Only the tasks of this list.",
  parent_id: 'Only the subtasks of this task; "none": only top-level tasks.',
  status: "all, pending (not completed) or completed.",
  priority: "Only tasks of this priority.",
  tag: "Only tasks carrying this tag.",
  q: "Case-insensitive substring of the title or description.",
  due_before: "Only tasks due before this instant (tasks without a due date are excluded).",
  due_after: "Only tasks due after this instant (tasks without a due date are excluded).",
  sort:
    "Sort key, descending with a leading '-'. Tasks without a due date sort last both ways; priority sorts high > medium > low. " +
    "position is a list's manual order and needs list_id (422 naming sort otherwise): its top-level tasks by position, then " +
    "each parent's subtasks, grouped by parent id, by position.",
  limit: `Page size, 1 to ${MAX_LIMIT}.`,
  cursor: "Opaque; from the Link header of the previous page, for the same sort.",
};

/**
 * Query parameters that carry numbers, as clients send them: the schemas validate their text
 * (a string matched and turned into a number), which to-json-schema cannot describe.
 */
const NUMERIC_QUERY: Record<string, Json> = {
  list_id: ID,
  parent_id: { anyOf: [ID, { const: "none" }] },
  move_to: ID,
};

function listParameters(): Json[] {
  return Object.entries(ListQuery.entries).map(([name, schema]) => {
    const converted = NUMERIC_QUERY[name] ?? schemaOf(schema as v.GenericSchema);
    if (name === "limit") Object.assign(converted, { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: 100, pattern: undefined });
    return param(name, "query", JSON.parse(JSON.stringify(converted)) as Json, LIST_DESCRIPTIONS[name] ?? "");
  });
}

function trashParameters(): Json[] {
  const descriptions: Record<string, string> = {
    limit: `Page size, 1 to ${MAX_TRASH_LIMIT}.`,
    cursor: "Opaque; from the Link header of the previous page.",
  };
  return Object.entries(TrashQuery.entries).map(([name, schema]) => {
    const converted =
      name === "limit"
        ? { type: "integer", minimum: 1, maximum: MAX_TRASH_LIMIT, default: DEFAULT_TRASH_LIMIT }
        : schemaOf(schema as v.GenericSchema);
    return param(name, "query", converted, descriptions[name] ?? "");
  });
}

/** A JSON-RPC 2.0 message, as /mcp takes and answers it (the MCP SDK checks the rest). */
const MCP_MESSAGE: Json = {
  type: "object",
  required: ["jsonrpc"],
  properties: {
    jsonrpc: { const: "2.0" },
    id: { type: ["string", "integer", "null"], description: "null in an error about a message whose id could not be read." },
    method: { type: "string", description: "initialize, tools/list, tools/call, … (requests and notifications)." },
    params: { type: "object" },
    result: { type: "object" },
    error: { type: "object", required: ["code", "message"], properties: { code: { type: "integer" }, message: { type: "string" } } },
  },
};

/** An /mcp answer the MCP SDK gives before any tool runs: a JSON-RPC error (or none, for the transport's own refusals). */
const mcpError = (description: string) => ({
  description,
  headers: headerRefs(),
  content: { "application/json": { schema: MCP_MESSAGE } },
});

function protectedResourceOperation(operationId: string, what: string): Json {
  return {
    tags: ["mcp"],
    operationId,
    summary: `OAuth 2.0 Protected Resource Metadata (RFC 9728) of ${what}`,
    description:
      "What an MCP client reads to learn how to get a token: the resource, the authorization server (Better Auth: JWT_ISSUER, " +
      "else BETTER_AUTH_URL; absent when neither is set) and that the token goes in the Authorization header.",
    security: [],
    responses: {
      "200": {
        description: "The metadata.",
        headers: headerRefs(),
        content: {
          "application/json": {
            schema: {
              type: "object",
              required: ["resource", "bearer_methods_supported"],
              additionalProperties: false,
              properties: {
                resource: { type: "string", format: "uri" },
                authorization_servers: { type: "array", items: { type: "string", format: "uri" } },
                bearer_methods_supported: { type: "array", items: { const: "header" } },
                resource_name: { type: "string" },
                resource_documentation: { type: "string", format: "uri" },
              },
            },
          },
        },
      },
    },
  };
}

/** A move names at most one anchor, after_id or before_id (the valibot schemas check it with v.partialCheck). */
const ONE_ANCHOR = { not: { required: ["after_id", "before_id"] } };
const moveBody = (schema: v.GenericSchema): Json => ({ ...schemaOf(schema), ...ONE_ANCHOR });

const body = (schema: Json, required = true) => ({ required, content: { "application/json": { schema } } });

/** How PUT and PATCH of a task treat its place: what a move does, and what an echoed read does not. */
const MOVE_BY_WRITE =
  "A list_id or parent_id other than the task's moves it there, last among its new siblings (as POST …/move; a task moved " +
  "to another list takes its subtasks along); values equal to the task's own move nothing, so a task read and sent back " +
  "stays where it is. position is read-only (ignored when sent): only a move changes it.";
/** What a position is, for the descriptions of the moves. */
const ORDER_KEY = "position is an order key: sort siblings by it byte by byte (not by locale); the server computes it.";
const LIST_ORDER_KEY = "A list's position is an order key: sort by it byte by byte (not by locale); the server computes it.";
/** What PUT and PATCH of a list ignore. */
const LIST_READ_ONLY = "Read-only fields sent back (id, user_id, inbox, position, created_at, updated_at, version) are ignored.";
/** A restore's body: none is needed; an empty object is accepted, a field is a 422. */
const NO_BODY = body(
  { type: "object", additionalProperties: false, description: "Send no body, or {}: a restore takes no fields." },
  false,
);

function changesParameters(): Json[] {
  const descriptions: Record<string, string> = {
    since: "The cursor of the previous pull; omit it for the full state.",
    limit: `Changes per page, 1 to ${MAX_CHANGES_LIMIT}.`,
  };
  return Object.entries(ChangesQuery.entries).map(([name, schema]) => {
    const converted = schemaOf(schema as v.GenericSchema);
    if (name === "limit")
      Object.assign(converted, {
        type: "integer",
        minimum: 1,
        maximum: MAX_CHANGES_LIMIT,
        default: DEFAULT_CHANGES_LIMIT,
        pattern: undefined,
      });
    return param(name, "query", JSON.parse(JSON.stringify(converted)) as Json, descriptions[name] ?? "");
  });
}

/** The batch body: each operation with the schema of its single route. */
function batchRequestSchema(): Json {
  const IF_MATCH_FIELD = { type: "string", description: 'An ETag (e.g. "\\"3\\""), with If-Match\'s rules.' };
  const operation = (op: string, properties: Json, required: string[], extra: Json = {}) => ({
    type: "object",
    required: ["op", ...required],
    additionalProperties: false,
    properties: { op: { const: op }, ...properties },
    ...extra,
  });
  const fields = (schema: v.GenericSchema) => schemaOf(schema).properties as Json;
  return {
    type: "object",
    required: ["operations"],
    additionalProperties: false,
    properties: {
      operations: {
        type: "array",
        minItems: 1,
        maxItems: MAX_OPERATIONS,
        items: {
          oneOf: [
            operation("create", { task: schemaOf(TaskInput) }, ["task"]),
            operation("update", { id: ID, task: schemaOf(TaskPatch), if_match: IF_MATCH_FIELD }, ["id", "task"]),
            operation("complete", { id: ID, completed: { type: "boolean" }, if_match: IF_MATCH_FIELD }, ["id"]),
            operation("delete", { id: ID, if_match: IF_MATCH_FIELD }, ["id"]),
            operation("move", { id: ID, ...fields(MoveInput), if_match: IF_MATCH_FIELD }, ["id"], ONE_ANCHOR),
            operation("restore", { id: ID }, ["id"]),
            operation("list_create", { list: schemaOf(ListInput) }, ["list"]),
            operation("list_update", { id: ID, list: schemaOf(ListPatch), if_match: IF_MATCH_FIELD }, ["id", "list"]),
            operation("list_move", { id: ID, ...fields(ListMoveInput), if_match: IF_MATCH_FIELD }, ["id"], ONE_ANCHOR),
            operation("list_delete", { id: ID, move_to: ID, if_match: IF_MATCH_FIELD }, ["id"]),
            operation("list_restore", { id: ID }, ["id"]),
          ],
        },
      },
    },
  };
}

function buildDocument(): Json {
  const taskResponse = (description: string, ...headers: HeaderName[]) => json(description, TASK, "ETag", ...headers);
  const listResponse = (description: string, ...headers: HeaderName[]) => json(description, LIST, "ETag", ...headers);
  return {
    openapi: "3.1.0",
    info: {
      title: "Task API",
      version: "1.0.0",
      description:
        "A multi-user todo API: tasks in ordered lists, with subtasks one level deep, manual order and a trash kept 30 days. " +
        "Every /api request needs a Bearer JWT issued by Better Auth (HS256 with the shared secret, or " +
        `${JWKS_ALGORITHMS.join(", ")} from its JWKS); its sub must be the {user_id} of the path. Errors are RFC 9457 problem+json. ` +
        "A known path with another method is a 405 with Allow; OPTIONS answers 204 with Allow (and CORS preflight for allowed origins).",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "tasks" },
      { name: "lists" },
      { name: "sharing" },
      { name: "trash" },
      { name: "sync" },
      { name: "mcp", description: "For AI agents: the API as Model Context Protocol tools." },
      { name: "service" },
    ],
    paths: {
      "/": {
        get: {
          tags: ["service"],
          operationId: "index",
          summary: "Where to go from here: links to the reference, the demo, this document and the health check",
          description: "JSON, unless the client prefers text/html (a browser): then a small page of the same links. Links are relative.",
          security: [],
          responses: {
            "200": {
              description: "The links (Vary: Accept).",
              headers: headerRefs(),
              content: {
                "application/json": { schema: { $ref: "#/components/schemas/ServiceIndex" } },
                "text/html": { schema: { type: "string" } },
              },
            },
          },
        },
      },
      "/health": {
        get: {
          tags: ["service"],
          operationId: "health",
          summary: "Liveness and database reachability",
          security: [],
          responses: {
            "200": json("The database answered.", { $ref: "#/components/schemas/Health" }),
            "503": json("The database did not answer.", { $ref: "#/components/schemas/Health" }, "Retry-After"),
            "500": problem("A missing setting (named in detail).", ["configuration_error"]),
          },
        },
      },
      "/openapi.json": {
        get: {
          tags: ["service"],
          operationId: "openapi",
          summary: "This document",
          security: [],
          responses: { "200": json("OpenAPI 3.1.", { type: "object" }) },
        },
      },
      "/docs": {
        get: {
          tags: ["service"],
          operationId: "docs",
          summary: "An HTML API reference rendered from this document (Swagger UI, served from static assets)",
          security: [],
          responses: { "200": { description: "The reference page.", content: { "text/html": { schema: { type: "string" } } } } },
        },
      },
      "/problems/{code}": {
        get: {
          tags: ["service"],
          operationId: "problemType",
          summary: "What a problem code means: the page a problem's `type` names",
          security: [],
          parameters: [param("code", "path", { enum: PROBLEM_CODES }, "A problem code.")],
          responses: { "200": { description: "A short description.", content: { "text/html": { schema: { type: "string" } } } } },
        },
      },
      "/api/{user_id}/tasks": {
        parameters: [USER_ID],
        get: {
          tags: ["tasks"],
          operationId: "listTasks",
          summary: "List the user's tasks (filters, sort, keyset pagination)",
          description:
            "Every list's tasks unless list_id names one; subtasks too unless parent_id says otherwise. Tasks in the trash are " +
            "never listed (GET /trash). For a list as its owner arranged it: list_id=…&sort=position.",
          parameters: listParameters(),
          responses: {
            "200": json("One page of tasks; Link names the next page.", { type: "array", items: TASK }, "Link"),
            ...API_ERRORS,
          },
        },
        post: {
          tags: ["tasks"],
          operationId: "createTask",
          summary: "Create a task",
          description:
            "The task goes into list_id (default: its parent's list, else the Inbox, created on first use), under parent_id when " +
            "given (a top-level task of that list: subtasks are one level deep), last among its siblings. A list_id that is not " +
            "one of the user's lists (or is in the trash), or a parent_id that cannot be the parent, is a 422 naming it.",
          parameters: [IDEMPOTENCY_KEY],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: schemaOf(TaskInput),
                examples: {
                  simple: { value: { title: "Buy milk", tags: ["home"], due_date: "2026-12-01T17:00:00Z" } },
                  subtask: { summary: "A subtask of task 42, in its list", value: { title: "Oat milk, 1 l", parent_id: 42 } },
                  recurring: {
                    summary: "Every Monday and Thursday at 09:00 Berlin time",
                    value: {
                      title: "Water the plants",
                      due_date: "2026-12-07T08:00:00Z",
                      recurrence: { rule: "FREQ=WEEKLY;BYDAY=MO,TH", time_zone: "Europe/Berlin", anchor: "due" },
                    },
                  },
                },
              },
            },
          },
          responses: {
            "201": taskResponse("Created (or replayed for a repeated Idempotency-Key).", "Location", "Idempotent-Replayed"),
            "404": problem("A repeated Idempotency-Key whose task is now in a list shared with the caller no more: not replayed.", [
              "task_not_found",
            ]),
            "409": problem("A request with this Idempotency-Key is still in flight.", ["idempotency_in_flight"], "Retry-After"),
            ...API_ERRORS,
            "422": problem("Validation failed, or the Idempotency-Key was used with another body.", [
              "validation_failed",
              "idempotency_key_reused",
            ]),
            ...BODY_ERRORS,
          },
        },
      },
      "/api/{user_id}/tasks/{id}": {
        parameters: [USER_ID, TASK_ID],
        get: {
          tags: ["tasks"],
          operationId: "getTask",
          summary: "Get a task",
          parameters: [IF_NONE_MATCH],
          responses: {
            "200": taskResponse("The task."),
            "304": { description: "Not modified: the client's copy is current.", headers: headerRefs("ETag") },
            ...NOT_FOUND,
            ...API_ERRORS,
          },
        },
        put: {
          tags: ["tasks"],
          operationId: "replaceTask",
          summary: "Change a task: the fields sent are replaced, the rest kept (the same as PATCH)",
          description:
            'Any non-empty subset of the writable fields; fields not sent keep their values, so a rename with {"title"} keeps ' +
            "completed, priority, tags and due_date. A whole task read back and sent again replaces every writable field " +
            "(read-only fields are ignored). null clears a nullable field. " +
            MOVE_BY_WRITE,
          parameters: [IF_MATCH],
          requestBody: body(schemaOf(TaskPatch)),
          responses: {
            "200": taskResponse("The task as written."),
            ...NOT_FOUND,
            ...STALE,
            ...API_ERRORS,
            ...RECURRING_WRITE,
            ...BODY_ERRORS,
          },
        },
        patch: {
          tags: ["tasks"],
          operationId: "patchTask",
          summary: "Change some of a task's fields",
          description: `Fields not sent keep their values; null clears a nullable field. ${MOVE_BY_WRITE}`,
          parameters: [IF_MATCH],
          requestBody: body(schemaOf(TaskPatch)),
          responses: {
            "200": taskResponse("The task as written."),
            ...NOT_FOUND,
            ...STALE,
            ...API_ERRORS,
            ...RECURRING_WRITE,
            ...BODY_ERRORS,
          },
        },
        delete: {
          tags: ["tasks"],
          operationId: "deleteTask",
          summary: "Move a task to the trash",
          description:
            "DELETE moves the task and its subtasks to the trash (GET /trash), restorable for 30 days with POST …/restore, then " +
            "purged for good. Until then it answers 404 like a task that never was, and /changes reports it as a delete.",
          parameters: [IF_MATCH],
          responses: {
            "204": { description: "In the trash.", headers: headerRefs() },
            ...NOT_FOUND,
            ...STALE,
            ...API_ERRORS,
          },
        },
      },
      "/api/{user_id}/tasks/{id}/complete": {
        parameters: [USER_ID, TASK_ID],
        patch: {
          tags: ["tasks"],
          operationId: "completeTask",
          summary: "Toggle completed, or set it with a body",
          parameters: [IF_MATCH],
          requestBody: body(schemaOf(CompleteInput), false),
          responses: {
            "200": taskResponse("The task as written."),
            ...NOT_FOUND,
            ...STALE,
            ...API_ERRORS,
            ...RECURRING_WRITE,
            ...BODY_ERRORS,
          },
        },
      },
      "/api/{user_id}/tasks/{id}/move": {
        parameters: [USER_ID, TASK_ID],
        post: {
          tags: ["tasks"],
          operationId: "moveTask",
          summary: "Move a task: to another list, under another parent, or to another place among its siblings",
          description:
            "Google Tasks' move. list_id absent: the task's own list; parent_id absent or null: the top level, else a top-level " +
            "task of that list (a task with subtasks cannot become a subtask: one level deep); then right after after_id or " +
            "right before before_id, a task among its new siblings (at most one of the two), or first when neither is sent. " +
            "The id, the version history and a recurrence series stay; the version goes up by one. A task moved to another list " +
            `takes its subtasks along. ${ORDER_KEY} A list_id, parent_id, after_id or before_id that cannot be is a 422 naming it.`,
          parameters: [IF_MATCH],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: moveBody(MoveInput),
                examples: {
                  after: { summary: "Right after task 43 in its list", value: { after_id: 43 } },
                  list: { summary: "To list 7, first at its top level", value: { list_id: 7 } },
                },
              },
            },
          },
          responses: {
            "200": taskResponse("The task in its new place."),
            ...NOT_FOUND,
            ...STALE,
            ...API_ERRORS,
            ...BODY_ERRORS,
          },
        },
      },
      "/api/{user_id}/tasks/{id}/restore": {
        parameters: [USER_ID, TASK_ID],
        post: {
          tags: ["trash"],
          operationId: "restoreTask",
          summary: "Bring a task back from the trash",
          description:
            "With the subtasks that went with it, into its list (the Inbox if that list is in the trash), under its parent (top " +
            "level if the parent is gone), at its old position (last among its siblings if another took it). The version goes up " +
            "by one. 404 when the task is not in the trash: never deleted, another user's, or purged after 30 days.",
          requestBody: NO_BODY,
          responses: {
            "200": taskResponse("The task, restored."),
            "404": problem("No such task in this user's trash.", ["task_not_found"]),
            ...API_ERRORS,
            ...BODY_ERRORS,
          },
        },
      },
      "/api/{user_id}/tasks/{id}/occurrences": {
        parameters: [USER_ID, TASK_ID],
        get: {
          tags: ["tasks"],
          operationId: "listOccurrences",
          summary: "The next due dates of a recurring task's series",
          description:
            "After both this task's due_date and now; the first is the one completing the task now would create (anchor due). " +
            "[] for a task that does not recur, or whose series is used up (COUNT, UNTIL).",
          parameters: [
            param("limit", "query", { type: "integer", minimum: 1, maximum: MAX_OCCURRENCES, default: 10 }, "How many, 1 to 100.", false),
          ],
          responses: {
            "200": json("The next due dates, in order.", {
              type: "object",
              required: ["occurrences"],
              additionalProperties: false,
              properties: { occurrences: { type: "array", items: { type: "string", format: "date-time" }, maxItems: MAX_OCCURRENCES } },
            }),
            ...NOT_FOUND,
            ...API_ERRORS,
            "422": problem(
              "Validation failed; or (recurrence_too_complex) the dates need more computation than one request may do, which one " +
                "task's series never does.",
              ["validation_failed", "recurrence_too_complex"],
            ),
          },
        },
      },
      "/api/{user_id}/tasks/batch": {
        parameters: [USER_ID],
        post: {
          tags: ["sync"],
          operationId: "batch",
          summary: "Apply 1 to 100 operations in order, all or none",
          description:
            "Task operations: create (POST /tasks' rules), update (PATCH's), complete (toggles without completed), delete, move " +
            "(POST …/move's fields) and restore; list operations: list_create, list_update, list_move, list_delete (with " +
            "move_to) and list_restore, each with its route's rules. Every operation but create, restore, list_create and " +
            "list_restore takes an optional if_match (If-Match's rules). One transaction: the first operation that fails (404, " +
            "409, 412, 422) makes the batch change nothing, and the answer is that operation's problem with its index in " +
            "`operation` and paths prefixed operations/<index>/ (a create's or update's fields under task. or list., a move's " +
            "and a list_delete's as its own: operations/<index>/after_id, operations/<index>/move_to). Each operation applies " +
            "to what the ones before it left. Idempotency-Key works as on a create. The body may be up to 1 MiB. It counts as " +
            "one request for the rate limit.",
          parameters: [IDEMPOTENCY_KEY],
          requestBody: body({ $ref: "#/components/schemas/BatchRequest" }),
          responses: {
            "200": json("One result per operation, in order.", { $ref: "#/components/schemas/BatchResponse" }, "Idempotent-Replayed"),
            "404": problem(
              "An operation's task or list is not there for this user (for a restore: not in the trash); `operation` is its index.",
              ["task_not_found", "list_not_found"],
            ),
            "409": problem(
              "A request with this Idempotency-Key is still in flight (with Retry-After); or an operation (`operation`) deletes " +
                `the Inbox, or creates or restores a list past the ${MAX_LISTS} a user may have.`,
              ["idempotency_in_flight", "inbox_not_deletable", "list_limit_reached"],
              "RetryAfterInFlight",
            ),
            "412": problem("An operation's if_match does not match its task's or list's ETag; `operation` is its index.", [
              "precondition_failed",
            ]),
            ...API_ERRORS,
            ...BODY_ERRORS,
            "413": problem("The body is over 1 MiB.", ["body_too_large"]),
            "422": problem(
              "An operation breaks a rule (`operation` is its index); the Idempotency-Key was used with another body; or " +
                "(recurrence_too_complex) the next due dates of the recurring tasks the batch completes need more computation than " +
                "one request may do (`operation` is the first that did not fit): send them in smaller batches.",
              ["validation_failed", "idempotency_key_reused", "recurrence_too_complex"],
            ),
          },
        },
      },
      "/api/{user_id}/lists": {
        parameters: [USER_ID],
        get: {
          tags: ["lists"],
          operationId: "listLists",
          summary: "The user's lists, in their order",
          description:
            `Every list (at most ${MAX_LISTS}, so no pages), sorted by position: the order the user arranged (POST …/move). ` +
            `${LIST_ORDER_KEY} The Inbox, every user's default list, is created on first use: this read creates it if missing ` +
            "(a change like any write). Lists in the trash are not listed (GET /trash). No query parameters.",
          responses: {
            "200": json("Every list, by position.", { type: "array", items: LIST, maxItems: MAX_LISTS }),
            ...API_ERRORS,
          },
        },
        post: {
          tags: ["lists"],
          operationId: "createList",
          summary: "Create a list",
          description:
            "Last in the user's order. name is trimmed (1 to 100 characters); color is #rrggbb (returned in lowercase) or null. " +
            `A user has at most ${MAX_LISTS} lists, the Inbox included and the lists in the trash not counted: one more is a ` +
            "409 list_limit_reached. Idempotency-Key works as on POST /tasks (a key used for another route is another request: 422).",
          parameters: [IDEMPOTENCY_KEY],
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: schemaOf(ListInput), examples: { work: { value: { name: "Work", color: "#1a73e8" } } } },
            },
          },
          responses: {
            "201": listResponse("Created (or replayed for a repeated Idempotency-Key).", "Location", "Idempotent-Replayed"),
            "404": problem("A repeated Idempotency-Key whose list was since transferred to another user and left: not replayed.", [
              "list_not_found",
            ]),
            "409": problem(
              `A request with this Idempotency-Key is still in flight (with Retry-After); or the user has ${MAX_LISTS} lists already.`,
              ["idempotency_in_flight", "list_limit_reached"],
              "RetryAfterInFlight",
            ),
            ...API_ERRORS,
            "422": problem("Validation failed, or the Idempotency-Key was used with another body.", [
              "validation_failed",
              "idempotency_key_reused",
            ]),
            ...BODY_ERRORS,
          },
        },
      },
      "/api/{user_id}/lists/{list_id}": {
        parameters: [USER_ID, LIST_ID],
        get: {
          tags: ["lists"],
          operationId: "getList",
          summary: "Get a list",
          description: "Its tasks: GET /tasks?list_id=…&sort=position.",
          parameters: [IF_NONE_MATCH],
          responses: {
            "200": listResponse("The list."),
            "304": { description: "Not modified: the client's copy is current.", headers: headerRefs("ETag") },
            ...LIST_NOT_FOUND,
            ...API_ERRORS,
          },
        },
        put: {
          tags: ["lists"],
          operationId: "replaceList",
          summary: "Change a list: the fields sent are replaced, the rest kept (the same as PATCH)",
          description: `Any non-empty subset of name and color. ${LIST_READ_ONLY}`,
          parameters: [LIST_IF_MATCH],
          requestBody: body(schemaOf(ListPatch)),
          responses: {
            "200": listResponse("The list as written."),
            ...LIST_NOT_FOUND,
            ...LIST_STALE,
            ...API_ERRORS,
            ...BODY_ERRORS,
          },
        },
        patch: {
          tags: ["lists"],
          operationId: "patchList",
          summary: "Rename or recolor a list",
          description: `Any non-empty subset of name and color; null clears the color. ${LIST_READ_ONLY}`,
          parameters: [LIST_IF_MATCH],
          requestBody: body(schemaOf(ListPatch)),
          responses: {
            "200": listResponse("The list as written."),
            ...LIST_NOT_FOUND,
            ...LIST_STALE,
            ...API_ERRORS,
            ...BODY_ERRORS,
          },
        },
        delete: {
          tags: ["lists"],
          operationId: "deleteList",
          summary: "Move a list to the trash, with its tasks or after moving them",
          description:
            "DELETE moves the list and its tasks to the trash together, restorable for 30 days (POST …/restore brings them back " +
            "together), then purged for good. With move_to, the list's tasks first go to the end of that list, in their order, " +
            "subtasks with their parents, and only the empty list goes to the trash. The Inbox cannot be deleted (409 " +
            "inbox_not_deletable). /changes reports the list, and each task that went with it, as a delete.",
          parameters: [
            LIST_IF_MATCH,
            param(
              "move_to",
              "query",
              ID,
              "Another of the user's lists, to receive this list's tasks (422 naming move_to otherwise).",
              false,
            ),
          ],
          responses: {
            "204": { description: "In the trash.", headers: headerRefs() },
            ...LIST_NOT_FOUND,
            "409": problem("The Inbox cannot be deleted.", ["inbox_not_deletable"]),
            ...LIST_STALE,
            ...API_ERRORS,
          },
        },
      },
      "/api/{user_id}/lists/{list_id}/move": {
        parameters: [USER_ID, LIST_ID],
        post: {
          tags: ["lists"],
          operationId: "moveList",
          summary: "Move a list to another place in the user's order",
          description:
            "Right after after_id or right before before_id, another of the user's lists (at most one of the two; 422 naming it " +
            `otherwise), or first when neither is sent. The version goes up by one. ${LIST_ORDER_KEY}`,
          parameters: [LIST_IF_MATCH],
          requestBody: body(moveBody(ListMoveInput)),
          responses: {
            "200": listResponse("The list in its new place."),
            ...LIST_NOT_FOUND,
            ...LIST_STALE,
            ...API_ERRORS,
            ...BODY_ERRORS,
          },
        },
      },
      "/api/{user_id}/lists/{list_id}/restore": {
        parameters: [USER_ID, LIST_ID],
        post: {
          tags: ["trash"],
          operationId: "restoreList",
          summary: "Bring a list back from the trash, with the tasks that went with it",
          description:
            "At its old position (last if another list took it), its tasks back in their places. The version goes up by one. " +
            "404 when the list is not in the trash: never deleted, another user's, or purged after 30 days; 409 when the user " +
            `already has ${MAX_LISTS} lists.`,
          requestBody: NO_BODY,
          responses: {
            "200": listResponse("The list, restored."),
            "404": problem("No such list in this user's trash.", ["list_not_found"]),
            "409": problem(`The user already has ${MAX_LISTS} lists.`, ["list_limit_reached"]),
            ...API_ERRORS,
            ...BODY_ERRORS,
          },
        },
      },
      "/api/{user_id}/lists/{list_id}/invitations": {
        parameters: [USER_ID, LIST_ID],
        post: {
          tags: ["sharing"],
          operationId: "createInvitation",
          summary: "Invite someone to a list (the owner only)",
          description:
            `A single-use invitation with a role (editor: reads and writes the list's tasks; viewer: reads them), valid ${INVITATION_DAYS} ` +
            "days. The answer carries its token, 256 random bits, this once: only its SHA-256 is stored. Pass the token on by any " +
            "channel; whoever accepts it (POST /invitations/accept) joins the list. The Inbox cannot be shared (409 " +
            `inbox_not_shareable); a list has at most ${MAX_MEMBERS} pending invitations.`,
          requestBody: body(schemaOf(InvitationInput), false),
          responses: {
            "201": json("The invitation, with its token.", schemaOf(NewInvitation)),
            ...LIST_NOT_FOUND,
            "409": problem("The Inbox, or too many pending invitations.", ["inbox_not_shareable", "invitation_limit_reached"]),
            ...API_ERRORS,
            ...BODY_ERRORS,
          },
        },
        get: {
          tags: ["sharing"],
          operationId: "listInvitations",
          summary: "The list's pending invitations, newest first (the owner only)",
          description: `Neither accepted, revoked nor expired; at most ${MAX_MEMBERS}. Tokens are never shown again.`,
          responses: {
            "200": json("The pending invitations.", { type: "array", items: schemaOf(Invitation), maxItems: MAX_MEMBERS }),
            ...LIST_NOT_FOUND,
            ...API_ERRORS,
          },
        },
      },
      "/api/{user_id}/lists/{list_id}/invitations/{invitation_id}": {
        parameters: [USER_ID, LIST_ID, param("invitation_id", "path", ID, "The invitation id.")],
        delete: {
          tags: ["sharing"],
          operationId: "revokeInvitation",
          summary: "Revoke a pending invitation (the owner only)",
          description:
            "Accepting it is then a 410 invitation_revoked. 404 invitation_not_found when no pending invitation has this id. " +
            SHARING_KEY,
          parameters: [IDEMPOTENCY_KEY],
          responses: {
            "204": { description: "Revoked (or replayed for a repeated Idempotency-Key).", headers: headerRefs("Idempotent-Replayed") },
            "404": problem("No such list for this user, or no such pending invitation in it.", ["list_not_found", "invitation_not_found"]),
            ...IN_FLIGHT,
            ...API_ERRORS,
            ...KEY_REUSED,
          },
        },
      },
      "/api/{user_id}/invitations/accept": {
        parameters: [USER_ID],
        post: {
          tags: ["sharing"],
          operationId: "acceptInvitation",
          summary: "Join a list with an invitation token",
          description:
            "The caller becomes a member with the invitation's role; the invitation is used up. The list's tasks reach the new " +
            "member under their own /api/{user_id}/…: in GET /tasks, GET /lists (with their role) and /changes. 410 when the " +
            "invitation was used, has expired or was revoked (or its list deleted); 409 already_member for the owner or a member " +
            `(the invitation stays unused); 409 member_limit_reached past ${MAX_MEMBERS} members, list_limit_reached past ${MAX_LISTS} ` +
            "shared lists. " +
            SHARING_KEY,
          parameters: [IDEMPOTENCY_KEY],
          requestBody: body(schemaOf(AcceptInput)),
          responses: {
            "200": json("The list, as the new member sees it (or replayed for a repeated Idempotency-Key).", LIST, "Idempotent-Replayed"),
            "404": problem("No invitation has this token; or a repeated Idempotency-Key after the caller left the list.", [
              "invitation_not_found",
              "list_not_found",
            ]),
            "409": problem(
              "Already a member, or a limit reached; or the same Idempotency-Key still in flight (with Retry-After).",
              ["already_member", "member_limit_reached", "list_limit_reached", "idempotency_in_flight"],
              "RetryAfterInFlight",
            ),
            "410": problem("The invitation can no longer be accepted.", ["invitation_used", "invitation_expired", "invitation_revoked"]),
            ...API_ERRORS,
            ...KEY_REUSED,
            ...BODY_ERRORS,
          },
        },
      },
      "/api/{user_id}/lists/{list_id}/members": {
        parameters: [USER_ID, LIST_ID],
        get: {
          tags: ["sharing"],
          operationId: "listMembers",
          summary: "The members of a list, the owner first (any member may read them)",
          responses: {
            "200": json("The members.", { type: "array", items: schemaOf(Member), maxItems: MAX_MEMBERS + 1 }),
            ...LIST_NOT_FOUND,
            ...API_ERRORS,
          },
        },
      },
      "/api/{user_id}/lists/{list_id}/members/{member_id}": {
        parameters: [
          USER_ID,
          LIST_ID,
          param("member_id", "path", { type: "string", minLength: 1 }, "The member's user id (percent-encoded)."),
        ],
        patch: {
          tags: ["sharing"],
          operationId: "updateMember",
          summary: "Change a member's role, or transfer the list (the owner only)",
          description:
            "editor or viewer; owner transfers the list and every task in it to that member, and the former owner stays as an " +
            "editor. Every member's /changes reports what changed for them. The owner's own role changes only by a transfer (409 " +
            "owner_role_fixed). " +
            SHARING_KEY,
          parameters: [IDEMPOTENCY_KEY],
          requestBody: body(schemaOf(MemberPatch)),
          responses: {
            "200": json(
              "The member with the new role (or replayed for a repeated Idempotency-Key).",
              schemaOf(Member),
              "Idempotent-Replayed",
            ),
            "404": problem("No such list for this user, or no such member; or a repeated Idempotency-Key after the caller left the list.", [
              "list_not_found",
              "member_not_found",
            ]),
            "409": problem(
              "The owner's role, or the new owner has too many lists; or the same Idempotency-Key still in flight.",
              ["owner_role_fixed", "list_limit_reached", "idempotency_in_flight"],
              "RetryAfterInFlight",
            ),
            ...API_ERRORS,
            ...KEY_REUSED,
            ...BODY_ERRORS,
          },
        },
        delete: {
          tags: ["sharing"],
          operationId: "removeMember",
          summary: "Remove a member (the owner), or leave (a member, with their own id)",
          description:
            "The member's /changes then reports the list and each of its tasks as deleted, and their assignments in it are " +
            "cleared. The owner cannot leave (409 owner_cannot_leave): transfer the list first, or delete it. " +
            SHARING_KEY,
          parameters: [IDEMPOTENCY_KEY],
          responses: {
            "204": { description: "Removed (or replayed for a repeated Idempotency-Key).", headers: headerRefs("Idempotent-Replayed") },
            "404": problem("No such list for this user, or no such member.", ["list_not_found", "member_not_found"]),
            "409": problem(
              "The owner cannot leave; or the same Idempotency-Key still in flight (with Retry-After).",
              ["owner_cannot_leave", "idempotency_in_flight"],
              "RetryAfterInFlight",
            ),
            ...API_ERRORS,
            ...KEY_REUSED,
          },
        },
      },
      "/api/{user_id}/trash": {
        parameters: [USER_ID],
        get: {
          tags: ["trash"],
          operationId: "listTrash",
          summary: "What the user deleted in the last 30 days, newest first (keyset pagination)",
          description:
            "Tasks and lists deleted on their own, each with when it was deleted and when it goes for good (purge_at, 30 days " +
            "later); restore one with POST /tasks/{id}/restore or /lists/{list_id}/restore. Subtasks deleted with their parent, " +
            "and tasks deleted with their list, are not listed apart: they come back with it.",
          parameters: trashParameters(),
          responses: {
            "200": json(
              "One page of the trash, newest first; Link names the next page.",
              { type: "array", items: { $ref: "#/components/schemas/TrashEntry" }, maxItems: MAX_TRASH_LIMIT },
              "Link",
            ),
            ...API_ERRORS,
          },
        },
      },
      "/api/{user_id}/live": {
        parameters: [USER_ID],
        get: {
          tags: ["sync"],
          operationId: "live",
          summary: "A WebSocket that announces every change of the user's tasks and lists",
          description:
            "Upgrade with Upgrade: websocket. The token comes in Authorization, or (browsers cannot set headers on a " +
            "WebSocket) as the subprotocols `task-api.v1, bearer.<JWT>`, and then the answer selects task-api.v1; never in " +
            'the URL. Text frames from the server: {"type":"ready","cursor":…} once, {"type":"changed","cursor":…} after the ' +
            'user\'s writes commit, and {"type":"expired"} when the token\'s exp passes, followed by close code 4401. The ' +
            `client may send the text ${PING}; the server answers ${PONG}. Anything else closes the socket: with ` +
            `${CLOSE_MESSAGE_TOO_BIG} for a frame over ${MAX_CLIENT_MESSAGE_BYTES} bytes, else ${CLOSE_POLICY_VIOLATION}. ` +
            "After ready and after each changed, pull /changes since your cursor. At most 100 sockets per user.",
          parameters: [
            param("Upgrade", "header", { const: "websocket" }, "Required: this route only answers a WebSocket upgrade."),
            param(
              "Sec-WebSocket-Protocol",
              "header",
              { type: "string", examples: ["task-api.v1, bearer.eyJhbGciOi…"] },
              "task-api.v1, and bearer.<JWT> when no Authorization header is sent.",
            ),
          ],
          responses: {
            "101": { description: "Switching Protocols: the WebSocket is open.", headers: headerRefs() },
            "426": problem("Not a WebSocket upgrade.", ["upgrade_required"]),
            ...API_ERRORS,
            "429": problem(
              "The user's request budget is spent, or the user already holds 100 live sockets.",
              ["rate_limited", "too_many_connections"],
              "Retry-After",
            ),
          },
        },
      },
      "/api/{user_id}/changes": {
        parameters: [USER_ID],
        get: {
          tags: ["sync"],
          operationId: "listChanges",
          summary: "What changed since a cursor: upserts and deletes of tasks and lists, in commit order",
          description:
            "Without since: every current task (in changes) and list (in lists) as an upsert; the Inbox is created first if " +
            "missing, so a full sync always includes it. With since: every task and list created, changed or deleted after " +
            "that cursor was issued, each at most once, in its latest state, in commit order within each array. Tasks and " +
            "lists are one feed: the cursor covers both, and limit counts both together. A task or list moved to the trash is a " +
            "delete (so are the subtasks and tasks that went with it); restored, it is an upsert again. While has_more is " +
            "true, ask again with the returned cursor: a task may name a list that arrives on a later page of the same pull. " +
            "Deletions are kept at least 30 days; an older cursor is a 410 cursor_expired (sync again without since).",
          parameters: changesParameters(),
          responses: {
            "200": json("A page of task and list changes, and the cursor for the next pull.", { $ref: "#/components/schemas/ChangesPage" }),
            "410": problem("The cursor is older than the deletions kept: sync again without since.", ["cursor_expired"]),
            ...API_ERRORS,
          },
        },
      },
      "/mcp": {
        post: {
          tags: ["mcp"],
          operationId: "mcp",
          summary: "MCP (Model Context Protocol) over Streamable HTTP: the API as tools for AI agents",
          description:
            "One JSON-RPC message per request, stateless: no session, no server stream (GET and DELETE are 405). The tools " +
            "(tools/list) are this API's routes with their schemas, acting for the token's subject only; a tool's failure is a " +
            "tool result with isError and the problem's code. Clients of the 2026-07-28 protocol get a JSON answer; clients of " +
            "the 2025 revisions (initialize first) get it as one server-sent event. The token is checked before the message is " +
            "read (401 with a WWW-Authenticate naming the resource metadata), and each request counts once against the rate limit. " +
            "See docs/mcp.md in the repository.",
          requestBody: body(MCP_MESSAGE),
          responses: {
            "200": {
              description: "The JSON-RPC response (a result, or an error such as -32601 for an unknown method).",
              headers: headerRefs(),
              content: {
                "application/json": { schema: MCP_MESSAGE },
                "text/event-stream": { schema: { type: "string", description: "The response as one event (2025 protocol clients)." } },
              },
            },
            "202": { description: "A notification (a message without id), accepted.", headers: headerRefs() },
            "400": mcpError("A message that is not JSON (-32700) or not a JSON-RPC request (-32600)."),
            "401": problem(
              "Token missing, malformed, badly signed or expired. WWW-Authenticate also carries resource_metadata: the URL of " +
                "this API's OAuth 2.0 Protected Resource Metadata (RFC 9728).",
              ["token_missing", "token_invalid"],
              "WWW-Authenticate",
            ),
            "406": mcpError("An Accept header that allows neither application/json nor text/event-stream."),
            "413": mcpError(`A body over ${MAX_BATCH_BODY_BYTES / 1024 / 1024} MiB (a tool's own call has its route's limit).`),
            "415": mcpError("A Content-Type other than application/json."),
            "429": API_ERRORS["429"],
            "500": API_ERRORS["500"],
            "503": API_ERRORS["503"],
          },
        },
      },
      "/.well-known/oauth-protected-resource": {
        get: protectedResourceOperation("protectedResource", "this origin"),
      },
      "/.well-known/oauth-protected-resource/mcp": {
        get: protectedResourceOperation("mcpProtectedResource", "/mcp"),
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A Better Auth token; see docs/auth.md. exp is required, and a token may live at most JWT_MAX_TOKEN_LIFETIME " +
            `(${describeLifetime(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS)} unless the deployment sets it): exp at most that long ` +
            "after iat (when present) and after now, iat at most that long ago, each with 60 seconds of clock skew; else 401 " +
            "token_invalid.",
        },
      },
      schemas: {
        Task: schemaOf(Task),
        List: schemaOf(List),
        Problem: schemaOf(Problem),
        Health: schemaOf(Health),
        ServiceIndex: {
          type: "object",
          required: Object.keys(SERVICE_INDEX),
          additionalProperties: false,
          properties: Object.fromEntries(Object.entries(SERVICE_INDEX).map(([name, value]) => [name, { type: "string", const: value }])),
        },
        Change: changeOf("task", TASK),
        ListChange: changeOf("list", LIST),
        MemberChange: changeOf("member", schemaOf(Membership)),
        ChangesPage: {
          type: "object",
          required: ["changes", "lists", "members", "cursor", "has_more"],
          additionalProperties: false,
          properties: {
            changes: { type: "array", items: { $ref: "#/components/schemas/Change" }, description: "The task changes." },
            lists: { type: "array", items: { $ref: "#/components/schemas/ListChange" }, description: "The list changes." },
            members: {
              type: "array",
              items: { $ref: "#/components/schemas/MemberChange" },
              description:
                "The membership changes of shared lists (the caller's own, and those shared with them); a list's owner is its user_id.",
            },
            cursor: { type: "string", pattern: "^[A-Za-z0-9_-]+$", description: "Opaque; pass it as since on the next pull." },
            has_more: { type: "boolean" },
          },
        },
        TrashEntry: {
          oneOf: (["task", "list"] as const).map((type) => ({
            type: "object",
            required: ["type", "deleted_at", "purge_at", type],
            additionalProperties: false,
            properties: {
              type: { const: type },
              deleted_at: { type: "string", format: "date-time" },
              purge_at: { type: "string", format: "date-time", description: "When it is deleted for good: 30 days after deleted_at." },
              [type]: type === "task" ? TASK : LIST,
            },
          })),
        },
        BatchRequest: batchRequestSchema(),
        BatchResponse: {
          type: "object",
          required: ["results"],
          additionalProperties: false,
          properties: {
            results: {
              type: "array",
              items: {
                oneOf: [
                  {
                    type: "object",
                    required: ["status", "etag", "task"],
                    additionalProperties: false,
                    properties: { status: { enum: [200, 201] }, etag: { type: "string" }, task: TASK },
                  },
                  {
                    type: "object",
                    required: ["status", "etag", "list"],
                    additionalProperties: false,
                    description: "The result of a list operation that leaves a list (list_create, list_update, list_move, list_restore).",
                    properties: { status: { enum: [200, 201] }, etag: { type: "string" }, list: LIST },
                  },
                  {
                    type: "object",
                    required: ["status", "id"],
                    additionalProperties: false,
                    properties: { status: { const: 204 }, id: { type: "integer", minimum: 1 } },
                  },
                ],
              },
            },
          },
        },
      },
      headers: HEADERS,
    },
  };
}

let cached: string | undefined;

/** The document as JSON text, built once per isolate. */
export function openApiJson(): string {
  cached ??= JSON.stringify(buildDocument());
  return cached;
}

export const openApiDocument = (): Json => JSON.parse(openApiJson()) as Json;

// The OpenAPI 3.1 document of the API, generated from the same valibot schemas that validate
// requests (and the Task schema that describes responses), never kept by hand. Served at
// /openapi.json; /docs renders it; the tests validate it and check every response against it.
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { JWKS_ALGORITHMS } from "./auth/keys.ts";
import { ListQuery, MAX_LIMIT } from "./schemas/list.ts";
import { CompleteInput, Task, TaskInput, TaskPatch } from "./schemas/task.ts";

type Json = Record<string, unknown>;

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) of a valibot schema; custom checks are described by v.metadata. */
const schemaOf = (schema: v.GenericSchema): Json => {
  const { $schema: _, ...json } = toJsonSchema(schema, { target: "draft-2020-12", errorMode: "ignore" }) as Json;
  return json;
};

const Problem = v.object({
  type: v.string(),
  title: v.string(),
  status: v.pipe(v.number(), v.integer()),
  detail: v.string(),
  request_id: v.string(),
  errors: v.optional(v.array(v.strictObject({ path: v.string(), message: v.string() }))),
});

const Health = v.strictObject({ status: v.picklist(["ok", "degraded"]), database: v.picklist(["ok", "unreachable"]) });

const header = (description: string, schema: Json = { type: "string" }, required = true) => ({ description, required, schema });

const HEADERS = {
  "X-Request-Id": header("The client's X-Request-Id when it sent a sane one (up to 128 visible ASCII characters), else generated."),
  ETag: header('The task\'s version as a strong entity tag, e.g. "3".'),
  Location: header("The new task's absolute URL."),
  "Retry-After": header("Seconds to wait before retrying.", { type: "string", pattern: "^[0-9]+$" }),
  "WWW-Authenticate": header('Bearer challenge (RFC 6750), with error="invalid_token" when a token was sent.'),
  Link: header('The next page: <url>; rel="next" (RFC 8288). Absent on the last page.', { type: "string" }, false),
  "Idempotent-Replayed": header('"true" when this 201 replays an earlier request with the same Idempotency-Key.', { const: "true" }, false),
} as const;

type HeaderName = keyof typeof HEADERS;

const headerRefs = (...names: HeaderName[]) =>
  Object.fromEntries(["X-Request-Id" as HeaderName, ...names].map((name) => [name, { $ref: `#/components/headers/${name}` }]));

const problem = (description: string, ...headers: HeaderName[]) => ({
  description,
  headers: headerRefs(...headers),
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

const json = (description: string, schema: Json, ...headers: HeaderName[]) => ({
  description,
  headers: headerRefs(...headers),
  content: { "application/json": { schema } },
});

const TASK = { $ref: "#/components/schemas/Task" };

/** Responses every /api operation can give. */
const API_ERRORS = {
  "401": problem(
    "Token missing, malformed, badly signed, expired, not yet valid, or with the wrong issuer or audience.",
    "WWW-Authenticate",
  ),
  "403": problem("A valid token, but {user_id} is not its subject."),
  "429": problem("This user sent more requests than the per-user rate limit allows; retry after Retry-After seconds.", "Retry-After"),
  "422": problem("Validation failed: body fields, query parameters, the task id, or the Idempotency-Key."),
  "500": problem("Something unexpected, or a missing setting (named in detail)."),
  "503": problem(
    "The database (or the token's signing keys) could not be reached in time; the request had no effect and is safe to retry.",
    "Retry-After",
  ),
};
const BODY_ERRORS = {
  "400": problem("The body is not valid JSON, or not a JSON object."),
  "413": problem("The body is over 64 KiB."),
  "415": problem("A body with a Content-Type other than application/json."),
};
const NOT_FOUND = { "404": problem("No such task for this user (another user's task looks the same).") };
const STALE = { "412": problem("If-Match does not match the task's current ETag; nothing was changed.") };

const param = (name: string, location: "path" | "header" | "query", schema: Json, description: string, required = location === "path") => ({
  name,
  in: location,
  required,
  description,
  schema,
});

const USER_ID = param("user_id", "path", { type: "string", minLength: 1 }, "The user; must be the token's `sub` (percent-encoded).");
const TASK_ID = param("id", "path", { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER }, "The task id.");
const IF_MATCH = param(
  "If-Match",
  "header",
  { type: "string" },
  'Apply the write only if the task\'s ETag is one of these (strong comparison), or "*" for any existing task; else 412.',
);
const IF_NONE_MATCH = param(
  "If-None-Match",
  "header",
  { type: "string" },
  "304 with no body when one of these tags (weak comparison) or * matches.",
);
const IDEMPOTENCY_KEY = param(
  "Idempotency-Key",
  "header",
  { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x20-\\x7E]+$" },
  "A retry with the same key and body within 24 hours returns the original 201 and creates nothing; another body is a 422; a retry while the first is in flight is a 409. Keys are per user.",
);

const LIST_DESCRIPTIONS: Record<string, string> = {
  status: "all, pending (not completed) or completed.",
  priority: "Only tasks of this priority.",
  tag: "Only tasks carrying this tag.",
  q: "Case-insensitive substring of the title or description.",
  due_before: "Only tasks due before this instant (tasks without a due date are excluded).",
  due_after: "Only tasks due after this instant (tasks without a due date are excluded).",
  sort: "Sort key, descending with a leading '-'. Tasks without a due date sort last both ways; priority sorts high > medium > low.",
  limit: `Page size, 1 to ${MAX_LIMIT}.`,
  cursor: "Opaque; from the Link header of the previous page, for the same sort.",
};

function listParameters(): Json[] {
  return Object.entries(ListQuery.entries).map(([name, schema]) => {
    const converted = schemaOf(schema as v.GenericSchema);
    if (name === "limit") Object.assign(converted, { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: 100, pattern: undefined });
    return param(name, "query", JSON.parse(JSON.stringify(converted)) as Json, LIST_DESCRIPTIONS[name] ?? "");
  });
}

const body = (schema: Json, required = true) => ({ required, content: { "application/json": { schema } } });

function buildDocument(): Json {
  const taskResponse = (description: string, ...headers: HeaderName[]) => json(description, TASK, "ETag", ...headers);
  return {
    openapi: "3.1.0",
    info: {
      title: "Task API",
      version: "1.0.0",
      description:
        "A multi-user todo API. Every /api request needs a Bearer JWT issued by Better Auth (HS256 with the shared secret, or " +
        `${JWKS_ALGORITHMS.join(", ")} from its JWKS); its sub must be the {user_id} of the path. Errors are RFC 9457 problem+json. ` +
        "A known path with another method is a 405 with Allow; OPTIONS answers 204 with Allow (and CORS preflight for allowed origins).",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    tags: [{ name: "tasks" }, { name: "service" }],
    paths: {
      "/health": {
        get: {
          tags: ["service"],
          operationId: "health",
          summary: "Liveness and database reachability",
          security: [],
          responses: {
            "200": json("The database answered.", { $ref: "#/components/schemas/Health" }),
            "503": json("The database did not answer.", { $ref: "#/components/schemas/Health" }, "Retry-After"),
            "500": problem("A missing setting (named in detail)."),
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
      "/api/{user_id}/tasks": {
        parameters: [USER_ID],
        get: {
          tags: ["tasks"],
          operationId: "listTasks",
          summary: "List the user's tasks (filters, sort, keyset pagination)",
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
          parameters: [IDEMPOTENCY_KEY],
          requestBody: body(schemaOf(TaskInput)),
          responses: {
            "201": taskResponse("Created (or replayed for a repeated Idempotency-Key).", "Location", "Idempotent-Replayed"),
            "409": problem("A request with this Idempotency-Key is still in flight.", "Retry-After"),
            ...API_ERRORS,
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
          summary: "Replace a task's writable fields (omitted ones take their defaults)",
          parameters: [IF_MATCH],
          requestBody: body(schemaOf(TaskInput)),
          responses: { "200": taskResponse("The task as written."), ...NOT_FOUND, ...STALE, ...API_ERRORS, ...BODY_ERRORS },
        },
        patch: {
          tags: ["tasks"],
          operationId: "patchTask",
          summary: "Change some of a task's fields",
          parameters: [IF_MATCH],
          requestBody: body(schemaOf(TaskPatch)),
          responses: { "200": taskResponse("The task as written."), ...NOT_FOUND, ...STALE, ...API_ERRORS, ...BODY_ERRORS },
        },
        delete: {
          tags: ["tasks"],
          operationId: "deleteTask",
          summary: "Delete a task",
          parameters: [IF_MATCH],
          responses: {
            "204": { description: "Deleted.", headers: headerRefs() },
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
          responses: { "200": taskResponse("The task as written."), ...NOT_FOUND, ...STALE, ...API_ERRORS, ...BODY_ERRORS },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A Better Auth token; see the README." },
      },
      schemas: { Task: schemaOf(Task), Problem: schemaOf(Problem), Health: schemaOf(Health) },
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

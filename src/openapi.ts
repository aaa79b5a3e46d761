// The OpenAPI 3.1 document of the API, generated from the same valibot schemas that validate
// requests (and the Task schema that describes responses), never kept by hand. Served at
// /openapi.json; /docs renders it; the tests validate it and check every response against it.
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { JWKS_ALGORITHMS } from "./auth/keys.ts";
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, describeLifetime } from "./auth/lifetime.ts";
import { MAX_ERRORS } from "./http/problem.ts";
import { CLOSE_MESSAGE_TOO_BIG, CLOSE_POLICY_VIOLATION, MAX_CLIENT_MESSAGE_BYTES, PING, PONG } from "./live/protocol.ts";
import { PROBLEM_CODES, type ProblemCode } from "./problems.ts";
import { SERVICE_INDEX } from "./routes/home.ts";
import { MAX_OPERATIONS } from "./schemas/batch.ts";
import { ChangesQuery, DEFAULT_CHANGES_LIMIT, MAX_CHANGES_LIMIT } from "./schemas/changes.ts";
import { ListQuery, MAX_LIMIT } from "./schemas/listing.ts";
import { MAX_OCCURRENCES } from "./schemas/occurrences.ts";
import { CompleteInput, Task, TaskInput, TaskPatch } from "./schemas/task.ts";

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

const HEADERS = {
  "X-Request-Id": header("The client's X-Request-Id when it sent a sane one (up to 128 visible ASCII characters), else generated."),
  ETag: header('The task\'s version as a strong entity tag, e.g. "3".'),
  Location: header(
    "The new task's URL: absolute on the API's public origin when the deployment sets PUBLIC_URL, else a relative reference " +
      "(/api/{user_id}/tasks/{id}, RFC 9110 §10.2.2): resolve it against the request URL.",
  ),
  "Retry-After": header("Seconds to wait before retrying.", { type: "string", pattern: "^[0-9]+$" }),
  "WWW-Authenticate": header('Bearer challenge (RFC 6750), with error="invalid_token" when a token was sent.'),
  Link: header(
    'The next page: <url>; rel="next" (RFC 8288). The URL is absolute on the public origin when the deployment sets PUBLIC_URL, ' +
      "else a relative reference (/api/{user_id}/tasks?…&cursor=…): resolve it against the request URL. Absent on the last page.",
    { type: "string" },
    false,
  ),
  "Idempotent-Replayed": header('"true" when this 201 replays an earlier request with the same Idempotency-Key.', { const: "true" }, false),
} as const;

type HeaderName = keyof typeof HEADERS;

const headerRefs = (...names: HeaderName[]) =>
  Object.fromEntries(["X-Request-Id" as HeaderName, ...names].map((name) => [name, { $ref: `#/components/headers/${name}` }]));

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

/** Responses every /api operation can give. */
const API_ERRORS = {
  "401": problem(
    "Token missing, malformed, badly signed, expired, not yet valid, or with the wrong issuer, audience or subject.",
    ["token_missing", "token_invalid"],
    "WWW-Authenticate",
  ),
  "403": problem("A valid token, but {user_id} is not its subject.", ["forbidden"]),
  "429": problem(
    "This user sent more requests than the per-user rate limit allows; retry after Retry-After seconds.",
    ["rate_limited"],
    "Retry-After",
  ),
  "422": problem("Validation failed: body fields, query parameters, the task id, or the Idempotency-Key.", ["validation_failed"]),
  "500": problem("Something unexpected, or a missing setting (named in detail).", ["internal_error", "configuration_error"]),
  "503": problem(
    "The database (or the token's signing keys) could not be reached in time; the request had no effect and is safe to retry.",
    ["database_unavailable", "keys_unavailable"],
    "Retry-After",
  ),
};
const BODY_ERRORS = {
  "400": problem("The body is not valid JSON, or not a JSON object.", ["malformed_json"]),
  "413": problem("The body is over 64 KiB.", ["body_too_large"]),
  "415": problem("A body with a Content-Type other than application/json.", ["unsupported_media_type"]),
};
const NOT_FOUND = { "404": problem("No such task for this user (another user's task looks the same).", ["task_not_found"]) };
const STALE = { "412": problem("If-Match does not match the task's current ETag; nothing was changed.", ["precondition_failed"]) };
/** A write that may complete a recurring task: its next due date is computed within the request's budget. */
const RECURRING_WRITE = {
  "422": problem(
    "Validation failed; or (recurrence_too_complex) the next due date of the recurring task completed needs more computation than " +
      "one request may do, which one task's series never does alone. Nothing was changed.",
    ["validation_failed", "recurrence_too_complex"],
  ),
};

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

/** The batch body: each operation with the schema of its single-task route. */
function batchRequestSchema(): Json {
  const ID = { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER };
  const IF_MATCH_FIELD = { type: "string", description: 'An ETag (e.g. "\\"3\\""), with If-Match\'s rules.' };
  const operation = (op: string, properties: Json, required: string[]) => ({
    type: "object",
    required: ["op", ...required],
    additionalProperties: false,
    properties: { op: { const: op }, ...properties },
  });
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
          ],
        },
      },
    },
  };
}

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
    tags: [{ name: "tasks" }, { name: "sync" }, { name: "service" }],
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
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: schemaOf(TaskInput),
                examples: {
                  simple: { value: { title: "Buy milk", tags: ["home"], due_date: "2026-12-01T17:00:00Z" } },
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
            "(read-only fields are ignored). null clears a nullable field.",
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
            "create, update (PATCH's rules), complete (toggles without completed) and delete, each with an optional if_match " +
            "(If-Match's rules). One transaction: the first operation that fails (404, 412, 422) makes the batch change " +
            "nothing, and the answer is that operation's problem with its index in `operation` and paths prefixed " +
            "operations/<index>/. Idempotency-Key works as on a create. The body may be up to 1 MiB. It counts as one request " +
            "for the rate limit.",
          parameters: [IDEMPOTENCY_KEY],
          requestBody: body({ $ref: "#/components/schemas/BatchRequest" }),
          responses: {
            "200": json("One result per operation, in order.", { $ref: "#/components/schemas/BatchResponse" }, "Idempotent-Replayed"),
            "404": problem("An operation's task is not there for this user; `operation` is its index.", ["task_not_found"]),
            "409": problem("A request with this Idempotency-Key is still in flight.", ["idempotency_in_flight"], "Retry-After"),
            "412": problem("An operation's if_match does not match its task's ETag; `operation` is its index.", ["precondition_failed"]),
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
      "/api/{user_id}/live": {
        parameters: [USER_ID],
        get: {
          tags: ["sync"],
          operationId: "live",
          summary: "A WebSocket that announces every change of the user's tasks",
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
          summary: "What changed since a cursor: upserts and deletes in commit order",
          description:
            "Without since: every current task as an upsert. With since: every task created, changed or deleted after that " +
            "cursor was issued, each at most once, in its latest state, in commit order. While has_more is true, ask again " +
            "with the returned cursor. Deletions are kept at least 30 days; an older cursor is a 410 cursor_expired (sync " +
            "again without since).",
          parameters: changesParameters(),
          responses: {
            "200": json("A page of changes and the cursor for the next pull.", { $ref: "#/components/schemas/ChangesPage" }),
            "410": problem("The cursor is older than the deletions kept: sync again without since.", ["cursor_expired"]),
            ...API_ERRORS,
          },
        },
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
        Problem: schemaOf(Problem),
        Health: schemaOf(Health),
        ServiceIndex: {
          type: "object",
          required: Object.keys(SERVICE_INDEX),
          additionalProperties: false,
          properties: Object.fromEntries(Object.entries(SERVICE_INDEX).map(([name, value]) => [name, { type: "string", const: value }])),
        },
        Change: {
          oneOf: [
            { type: "object", required: ["op", "task"], additionalProperties: false, properties: { op: { const: "upsert" }, task: TASK } },
            {
              type: "object",
              required: ["op", "id"],
              additionalProperties: false,
              properties: { op: { const: "delete" }, id: { type: "integer", minimum: 1 } },
            },
          ],
        },
        ChangesPage: {
          type: "object",
          required: ["changes", "cursor", "has_more"],
          additionalProperties: false,
          properties: {
            changes: { type: "array", items: { $ref: "#/components/schemas/Change" } },
            cursor: { type: "string", pattern: "^[A-Za-z0-9_-]+$", description: "Opaque; pass it as since on the next pull." },
            has_more: { type: "boolean" },
          },
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

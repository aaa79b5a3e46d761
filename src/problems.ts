// The problem catalogue of API.md "Errors" and the one error type every layer throws. A
// problem's `code` is its stable identity for programs; `detail` is a sentence for people.
// This module is a leaf: db/, auth/, config.ts and http/ all import it, it imports nothing.

export const PROBLEMS = {
  malformed_json: { status: 400, title: "Bad Request", about: "The body is not valid JSON, or not a JSON object." },
  token_missing: { status: 401, title: "Unauthorized", about: "No bearer token was sent in the Authorization header." },
  token_invalid: {
    status: 401,
    title: "Unauthorized",
    about: "The token is malformed, badly signed, expired, not yet valid, or has the wrong issuer, audience or subject.",
  },
  forbidden: { status: 403, title: "Forbidden", about: "The token is valid, but the user in the path is not its subject." },
  list_read_only: {
    status: 403,
    title: "Forbidden",
    about: "The list is shared with the caller as a viewer: its tasks can be read, not written.",
  },
  list_owner_only: {
    status: 403,
    title: "Forbidden",
    about: "Only the list's owner may change the list itself, its members and its invitations (a member may leave).",
  },
  route_not_found: { status: 404, title: "Not Found", about: "No route has this path." },
  invitation_not_found: {
    status: 404,
    title: "Not Found",
    about: "No invitation has this token (or, for a revoke, no pending invitation has this id in this list).",
  },
  member_not_found: { status: 404, title: "Not Found", about: "The user is not a member of this list." },
  task_not_found: {
    status: 404,
    title: "Not Found",
    about: "The task does not exist, belongs to another user, or is in the trash (for a restore: is not in the trash).",
  },
  list_not_found: {
    status: 404,
    title: "Not Found",
    about: "The list does not exist, belongs to another user, or is in the trash (for a restore: is not in the trash).",
  },
  method_not_allowed: { status: 405, title: "Method Not Allowed", about: "The path exists, but not with this method; see Allow." },
  idempotency_in_flight: {
    status: 409,
    title: "Conflict",
    about: "The first request with this Idempotency-Key is still in flight; retry after Retry-After.",
  },
  inbox_not_deletable: { status: 409, title: "Conflict", about: "The Inbox is every user's default list; it cannot be deleted." },
  list_limit_reached: {
    status: 409,
    title: "Conflict",
    about: "The user already has the most lists allowed (500, the Inbox included); delete one first.",
  },
  inbox_not_shareable: { status: 409, title: "Conflict", about: "The Inbox is private; share another list." },
  already_member: { status: 409, title: "Conflict", about: "The caller is already a member of the list; the invitation stays unused." },
  owner_cannot_leave: {
    status: 409,
    title: "Conflict",
    about: "The owner cannot leave or be removed from their list; transfer ownership to a member first (or delete the list).",
  },
  owner_role_fixed: {
    status: 409,
    title: "Conflict",
    about: "The owner's role changes only by transferring ownership: give another member the role owner.",
  },
  member_limit_reached: { status: 409, title: "Conflict", about: "The list already has the most members allowed (100 besides its owner)." },
  invitation_limit_reached: {
    status: 409,
    title: "Conflict",
    about: "The list already has the most pending invitations allowed (100); revoke one or wait for them to expire.",
  },
  invitation_used: { status: 410, title: "Gone", about: "The invitation was accepted already; an invitation is single use." },
  invitation_expired: { status: 410, title: "Gone", about: "The invitation expired (7 days after it was made); ask for a new one." },
  invitation_revoked: { status: 410, title: "Gone", about: "The owner revoked the invitation, or deleted the list." },
  cursor_expired: {
    status: 410,
    title: "Gone",
    about: "The changes cursor is older than the retention window; sync again from the start, without since.",
  },
  precondition_failed: {
    status: 412,
    title: "Precondition Failed",
    about: "If-Match does not match the current ETag of the task (or list); nothing was changed.",
  },
  body_too_large: { status: 413, title: "Content Too Large", about: "The body is over 64 KiB (1 MiB for a batch)." },
  unsupported_media_type: { status: 415, title: "Unsupported Media Type", about: "A body must be sent as application/json." },
  validation_failed: {
    status: 422,
    title: "Unprocessable Content",
    about: "Body fields, query parameters or an id in the path break the rules; errors lists at most 20 of them.",
  },
  idempotency_key_reused: { status: 422, title: "Unprocessable Content", about: "The Idempotency-Key was used with a different body." },
  recurrence_too_complex: {
    status: 422,
    title: "Unprocessable Content",
    about:
      "The next due dates of the recurring tasks this request completes need more computation than one request may do; nothing was changed. Complete them in smaller batches.",
  },
  upgrade_required: { status: 426, title: "Upgrade Required", about: "This route only answers a WebSocket upgrade." },
  rate_limited: { status: 429, title: "Too Many Requests", about: "The user's request budget is spent; retry after Retry-After." },
  too_many_connections: { status: 429, title: "Too Many Requests", about: "The user already holds the most live sockets allowed." },
  internal_error: {
    status: 500,
    title: "Internal Server Error",
    about: "Something unexpected happened; quote the request_id when reporting it.",
  },
  configuration_error: { status: 500, title: "Internal Server Error", about: "A setting is missing or unusable; the detail names it." },
  write_conflict: {
    status: 503,
    title: "Service Unavailable",
    about: "Two writes to shared lists waited for each other and this one gave way; nothing was changed, retry after Retry-After.",
  },
  database_unavailable: {
    status: 503,
    title: "Service Unavailable",
    about: "The database is unreachable or too slow; the request had no effect or is safe to retry.",
  },
  keys_unavailable: {
    status: 503,
    title: "Service Unavailable",
    about: "The token's signing keys could not be fetched; retry after Retry-After.",
  },
} as const satisfies Record<string, { status: number; title: string; about: string }>;

export type ProblemCode = keyof typeof PROBLEMS;
export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[];

/** The problem's `type`: a URI naming the code, which serves a short description of it. */
export const problemType = (code: ProblemCode): string => `/problems/${code}`;

export interface FieldError {
  path: string;
  message: string;
}

interface Options {
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extension members of the problem body (RFC 9457 §3.2), e.g. a batch's `operation`. */
  members?: Record<string, unknown>;
  /** What went wrong underneath (a driver error, a failed fetch): logged, never sent. */
  cause?: unknown;
}

/** An error with a problem code; toProblem (http/problem.ts) turns it into the response. */
export class HttpError extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly members: Record<string, unknown>;

  constructor(code: ProblemCode, detail: string, options: Options = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HttpError";
    this.code = code;
    this.status = PROBLEMS[code].status;
    this.detail = detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.members = options.members ?? {};
  }
}

// The factories: one per problem, so the wording of each lives in one place.

export const malformedJson = (detail: string) => new HttpError("malformed_json", detail);

export const tokenMissing = (detail = "the Authorization header is missing") =>
  new HttpError("token_missing", detail, { headers: { "WWW-Authenticate": 'Bearer realm="tasks"' } });

/** `reason` completes "the token is invalid: …". No token value ever reaches a header. */
export const tokenInvalid = (reason: string) =>
  new HttpError("token_invalid", `the token is invalid: ${reason}`, {
    headers: { "WWW-Authenticate": 'Bearer realm="tasks", error="invalid_token"' },
  });

export const forbidden = () => new HttpError("forbidden", "the token does not give access to this user's tasks");
export const routeNotFound = () => new HttpError("route_not_found", "route not found");
export const taskNotFound = (detail = "task not found") => new HttpError("task_not_found", detail);
export const listNotFound = (detail = "list not found") => new HttpError("list_not_found", detail);
export const inboxNotDeletable = () => new HttpError("inbox_not_deletable", "the Inbox cannot be deleted; it is where tasks go by default");
export const listLimitReached = (limit: number) =>
  new HttpError("list_limit_reached", `a user may have at most ${limit} lists, the Inbox included; delete one first`);

export const methodNotAllowed = (allow: string) =>
  new HttpError("method_not_allowed", "this method is not allowed on this path; Allow lists the ones that are", {
    headers: { Allow: allow },
  });

export const idempotencyInFlight = () =>
  new HttpError("idempotency_in_flight", "a request with this Idempotency-Key is still in progress; retry it in a moment", {
    headers: { "Retry-After": "1" },
  });

export const cursorExpired = () =>
  new HttpError("cursor_expired", "the cursor is older than the changes kept; sync again from the start without since");

export const preconditionFailed = () =>
  new HttpError("precondition_failed", "it has changed since the ETag in If-Match; fetch it again and retry");

export const bodyTooLarge = (limitBytes: number) =>
  new HttpError(
    "body_too_large",
    `the request body is too large: at most ${limitBytes >= 1024 * 1024 ? `${limitBytes / 1024 / 1024} MiB` : `${limitBytes / 1024} KiB`} is accepted`,
  );

export const unsupportedMediaType = () =>
  new HttpError("unsupported_media_type", "the request body must be sent with Content-Type: application/json");

/** A 422 for one or more fields; the detail is the first error as a sentence. */
export function validationFailed(errors: FieldError[], members?: Record<string, unknown>): HttpError {
  const [first] = errors;
  const detail = first === undefined ? "the request is invalid" : first.path === "" ? first.message : `${first.path} ${first.message}`;
  return new HttpError("validation_failed", detail, { errors, ...(members === undefined ? {} : { members }) });
}

export const invalid = (path: string, message: string) => validationFailed([{ path, message }]);

export const idempotencyKeyReused = () =>
  new HttpError("idempotency_key_reused", "the Idempotency-Key was already used with a different request body", {
    errors: [{ path: "Idempotency-Key", message: "was already used with a different request body" }],
  });

/** A request's occurrence math ran out of its budget (src/recurrence/budget.ts); nothing was written. */
export const recurrenceTooComplex = () =>
  new HttpError(
    "recurrence_too_complex",
    "the next due dates of the recurring tasks completed here need more computation than one request may do; complete them in smaller batches",
  );

// No `Upgrade: websocket` header on the 426: it is hop-by-hop, and workerd drops it from every
// response but a 101. The detail says it instead.
export const upgradeRequired = () =>
  new HttpError("upgrade_required", "this route only answers a WebSocket upgrade: send Upgrade: websocket");

export const rateLimited = (retryAfterSeconds: number) =>
  new HttpError("rate_limited", "too many requests for this user; retry later", {
    headers: { "Retry-After": String(retryAfterSeconds) },
  });

export const tooManyConnections = (limit: number) =>
  new HttpError("too_many_connections", `this user already has ${limit} live connections; close one and retry`, {
    // A closed socket frees its place within seconds.
    headers: { "Retry-After": "5" },
  });

export const internalError = (cause?: unknown) =>
  new HttpError("internal_error", "an unexpected error occurred; quote the request_id when reporting it", { cause });

/** A setting is missing or unusable: the detail names it (never its value). */
export const configurationError = (setting: string, reason: string) =>
  new HttpError("configuration_error", `the server is misconfigured: ${setting} ${reason}`);

export const databaseUnavailable = (retryAfterSeconds: number, cause: unknown) =>
  new HttpError("database_unavailable", "the database is unreachable or too slow; the request had no effect, retry it later", {
    headers: { "Retry-After": String(retryAfterSeconds) },
    cause,
  });

export const keysUnavailable = (retryAfterSeconds: number, cause: unknown) =>
  new HttpError("keys_unavailable", "the token's signing keys could not be fetched; retry later", {
    headers: { "Retry-After": String(retryAfterSeconds) },
    cause,
  });

export const listReadOnly = () => new HttpError("list_read_only", "you are a viewer of this list: its tasks can be read, not written");
export const listOwnerOnly = () =>
  new HttpError("list_owner_only", "only the list's owner may do this (a member may leave: DELETE your own membership)");
export const invitationNotFound = () => new HttpError("invitation_not_found", "no invitation has this token");
export const memberNotFound = () => new HttpError("member_not_found", "the user is not a member of this list");
export const inboxNotShareable = () => new HttpError("inbox_not_shareable", "the Inbox is private; share another list");
export const alreadyMember = () => new HttpError("already_member", "you are already a member of this list; the invitation stays unused");
export const ownerCannotLeave = () =>
  new HttpError("owner_cannot_leave", "the owner cannot leave the list; transfer ownership to a member first, or delete the list");
export const ownerRoleFixed = () =>
  new HttpError("owner_role_fixed", "the owner's role changes only by a transfer: give another member the role owner");
export const memberLimitReached = (limit: number) =>
  new HttpError("member_limit_reached", `a list may have at most ${limit} members besides its owner`);
export const invitationLimitReached = (limit: number) =>
  new HttpError("invitation_limit_reached", `a list may have at most ${limit} pending invitations; revoke one first`);
export const invitationUsed = () => new HttpError("invitation_used", "this invitation was accepted already");
export const invitationExpired = () => new HttpError("invitation_expired", "this invitation expired; ask the list's owner for a new one");
export const invitationRevoked = () => new HttpError("invitation_revoked", "this invitation was revoked (or its list deleted)");
export const writeConflict = () =>
  new HttpError("write_conflict", "another write to a shared list got in the way; nothing was changed, retry it", {
    headers: { "Retry-After": "1" },
  });

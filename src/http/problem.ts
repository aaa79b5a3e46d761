// The one place an error becomes an RFC 9457 application/problem+json response. Anything that
// is not an HttpError is a 500 whose body carries only the request id; its stack goes to the log.
import { describeError, log } from "../log.ts";
import { type FieldError, HttpError, internalError, PROBLEMS, problemType } from "../problems.ts";

/** A 422 lists at most this many errors, so no input can make the answer grow without bound. */
export const MAX_ERRORS = 20;
/** Paths name client-chosen keys (an unknown field, say): shown up to this many characters. */
const MAX_PATH_CHARS = 100;

function bounded(error: FieldError): FieldError {
  const chars = [...error.path];
  return chars.length <= MAX_PATH_CHARS ? error : { path: `${chars.slice(0, MAX_PATH_CHARS).join("")}…`, message: error.message };
}

function describe(error: HttpError): { detail: string; errors?: FieldError[] } {
  if (error.errors === undefined) return { detail: error.detail };
  const errors = error.errors.slice(0, MAX_ERRORS).map(bounded);
  const [first] = errors;
  let detail = first === undefined ? error.detail : first.path === "" ? first.message : `${first.path} ${first.message}`;
  const more = error.errors.length - 1;
  if (more > 0)
    detail += ` (and ${more} more ${more === 1 ? "error" : "errors"}${error.errors.length > MAX_ERRORS ? `, ${MAX_ERRORS} listed` : ""})`;
  return { detail, errors };
}

export function toProblem(thrown: unknown, requestId: string): Response {
  const error = thrown instanceof HttpError ? thrown : internalError(thrown);
  if (error.status >= 500 || error.cause !== undefined) {
    // Server-side only: the client gets the code and the request id, never the stack or the SQL.
    log(error.status >= 500 ? "error" : "warn", error.code === "internal_error" ? "unhandled error" : error.code, {
      request_id: requestId,
      status: error.status,
      detail: error.detail,
      ...(error.cause === undefined ? {} : { cause: describeError(error.cause) }),
    });
  }
  const body = {
    type: problemType(error.code),
    code: error.code,
    title: PROBLEMS[error.code].title,
    status: error.status,
    ...describe(error),
    ...error.members,
    request_id: requestId,
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { ...error.headers, "Content-Type": "application/problem+json; charset=utf-8" },
  });
}

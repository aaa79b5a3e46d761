// The one error model: HttpError is thrown by any layer and turned into RFC 9457
// application/problem+json in exactly one place (toProblem).

export interface FieldError {
  path: string;
  message: string;
}

interface HttpErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  readonly status: number;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, detail: string, options: HttpErrorOptions = {}) {
    super(detail);
    this.name = "HttpError";
    this.status = status;
    this.detail = detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Turns anything thrown while handling a request into a problem+json response. */
export function toProblem(error: unknown, requestId: string): Response {
  const known =
    error instanceof HttpError ? error : new HttpError(500, "an unexpected error occurred; quote the request_id when reporting it");
  if (!(error instanceof HttpError)) {
    // Server-side only: the client gets the request id, never the stack or the SQL.
    console.error(
      JSON.stringify({
        level: "error",
        message: "unhandled error",
        request_id: requestId,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
    );
  }
  const body = {
    type: "about:blank",
    title: TITLES[known.status] ?? "Error",
    status: known.status,
    detail: known.detail,
    ...(known.errors ? { errors: known.errors } : {}),
    request_id: requestId,
  };
  return new Response(JSON.stringify(body), {
    status: known.status,
    headers: { ...known.headers, "Content-Type": "application/problem+json; charset=utf-8" },
  });
}

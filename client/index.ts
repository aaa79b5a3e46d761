// A typed client for the Task API, for web and mobile frontends: the types are generated from the
// API's OpenAPI document (schema.d.ts, `npm run client`), the calls are made by openapi-fetch, so a
// frontend gets compile errors when the contract changes. Copy this folder, or import it.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.d.ts";

export type Task = components["schemas"]["Task"];
export type Change = components["schemas"]["Change"];
export type Problem = components["schemas"]["Problem"];
export type TaskClient = Client<paths>;

/** A client that sends `Authorization: Bearer <token>` on every call (token() is asked each time, so it can refresh). */
export function createTaskClient(options: { baseUrl: string; token: () => string | Promise<string>; fetch?: typeof fetch }): TaskClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
  client.use({
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await options.token()}`);
      return request;
    },
  });
  return client;
}

/** Thrown with the API's problem: branch on `code`, show `detail`. */
export class TaskApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail);
    this.problem = problem;
  }
}

/**
 * Brings a local copy up to date (API.md "Changes"): pulls /changes from `cursor` until nothing
 * more follows, hands each change to `apply`, and returns the cursor to keep for next time. Without
 * a cursor it is a full sync (clear the local copy first). A 410 `cursor_expired` means: clear the
 * local copy and call it again without a cursor.
 */
export async function pullChanges(
  client: TaskClient,
  userId: string,
  cursor: string | undefined,
  apply: (change: Change) => void,
): Promise<string> {
  let since = cursor;
  for (;;) {
    const { data, error } = await client.GET("/api/{user_id}/changes", {
      params: { path: { user_id: userId }, query: since === undefined ? {} : { since } },
    });
    if (error !== undefined) throw new TaskApiError(error);
    for (const change of data.changes) apply(change);
    since = data.cursor;
    if (!data.has_more) return since;
  }
}

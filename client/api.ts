// The typed client itself: openapi-fetch over the types generated from the API's OpenAPI document
// (schema.d.ts, `npm run client`), with the bearer token on every call, the API's problems thrown
// as one error class, and the next page of a list read from its Link header.
import createClient, { type Client } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

type JsonBody<Operation> = Operation extends { requestBody?: { content: { "application/json": infer Body } } } ? Body : never;

export type Task = components["schemas"]["Task"];
/** The body of a create (POST /tasks): `title`, and any other writable field. */
export type NewTask = JsonBody<operations["createTask"]>;
/** The body of an update (PATCH or PUT /tasks/{id}): any non-empty subset of the writable fields. */
export type TaskUpdate = JsonBody<operations["patchTask"]>;
/** A task's change in /changes: `{op: "upsert", task}` or `{op: "delete", id}` (a delete also when it went to the trash). */
export type Change = components["schemas"]["Change"];
export type List = components["schemas"]["List"];
/** The body of a create (POST /lists): `name`, and `color` (#rrggbb or null) if you like. */
export type NewList = JsonBody<operations["createList"]>;
/** The body of an update (PATCH or PUT /lists/{list_id}): `name`, `color` or both. */
export type ListUpdate = JsonBody<operations["patchList"]>;
/** A list's change in /changes (its `lists` array): `{op: "upsert", list}` or `{op: "delete", id}`. */
export type ListChange = components["schemas"]["ListChange"];
/** A membership of a shared list in /changes (its `members` array): `{op: "upsert", member}` or `{op: "delete", id}`. */
export type MemberChange = components["schemas"]["MemberChange"];
/** A member of a list (GET /lists/{list_id}/members): the owner (id null) or another, with their role. */
export type Member = operations["listMembers"]["responses"]["200"]["content"]["application/json"][number];
/** A list's role for a member: `owner`, `editor` (writes its tasks) or `viewer` (reads them). */
export type Role = List["role"];
/** A new invitation (POST /lists/{list_id}/invitations), with its token, shown this once. */
export type NewInvitation = operations["createInvitation"]["responses"]["201"]["content"]["application/json"];
/** An entry of GET /trash: `{type: "task", task, deleted_at, purge_at}` or `{type: "list", list, …}`. */
export type TrashEntry = components["schemas"]["TrashEntry"];
export type Problem = components["schemas"]["Problem"];
/** The stable identity of a problem (`task_not_found`, `validation_failed`, …): branch on it. */
export type ProblemCode = Problem["code"];
export type TaskClient = Client<paths>;

export interface TaskClientOptions {
  /** Where the Worker answers, without /api: `https://tasks.example.workers.dev`, `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** The bearer token (a Better Auth JWT), asked before every call, so it can refresh. */
  token: () => string | Promise<string>;
  fetch?: typeof fetch | undefined;
}

/** A client that sends `Authorization: Bearer <token>` on every call. */
export function createTaskClient(options: TaskClientOptions): TaskClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });
  client.use({
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await options.token()}`);
      return request;
    },
  });
  return client;
}

/** Thrown with the API's problem: branch on `code`, show `message` (the problem's `detail`). */
export class TaskApiError extends Error {
  readonly problem: Problem;
  readonly code: ProblemCode;
  readonly status: number;
  constructor(problem: Problem) {
    super(problem.detail);
    this.name = "TaskApiError";
    this.problem = problem;
    this.code = problem.code;
    this.status = problem.status;
  }
}

/** The data of a call's result, or its problem thrown as a TaskApiError (a 204 gives undefined). */
export function unwrap<Result extends { data?: unknown; error?: Problem }>(result: Result): Success<Result> {
  if (result.error !== undefined) throw new TaskApiError(result.error);
  return result.data as Success<Result>;
}

/** The data of openapi-fetch's success case (the member of its result without an error). */
type Success<Result extends { data?: unknown }> = Extract<Result, { error?: undefined }>["data"];

/**
 * The `cursor` of the next page of GET /tasks (or GET /trash), from the response's `Link: <…>; rel="next"`, or
 * undefined on the last page. The link may be relative (an API without PUBLIC_URL sends it so):
 * it is resolved against the response's URL.
 */
export function nextCursor(response: Response): string | undefined {
  for (const [, target, params] of (response.headers.get("Link") ?? "").matchAll(/<([^>]*)>([^<]*)/g)) {
    if (target !== undefined && /;\s*rel="?next"?\s*(;|,|$)/i.test(params ?? "")) {
      return new URL(target, response.url).searchParams.get("cursor") ?? undefined;
    }
  }
  return undefined;
}

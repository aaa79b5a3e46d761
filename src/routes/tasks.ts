// The task routes: validate input → one SQL statement → shape the response.
import { required } from "../config.ts";
import { query, type Statement } from "../db/client.ts";
import type { CreatedRow, OneTaskRow, TaskRow } from "../db/tasks.ts";
import * as sql from "../db/tasks.ts";
import type { Env } from "../env.ts";
import { readJsonObject, requireJsonObject } from "../http/body.ts";
import { etag, ifMatchVersions, notModified, preconditionFailed } from "../http/conditional.ts";
import type { AppRequest } from "../http/context.ts";
import { idempotencyKey, requestHash } from "../http/idempotency.ts";
import { jsonText } from "../http/json.ts";
import { HttpError } from "../http/problem.ts";
import { validate } from "../http/validate.ts";
import { decodeCursor, encodeCursor } from "../schemas/cursor.ts";
import { parseListQuery } from "../schemas/list.ts";
import { CompleteInput, TaskInput, TaskPatch, withoutReadOnly } from "../schemas/task.ts";

function run<Row extends object = TaskRow>(request: AppRequest, ctx: ExecutionContext, statement: Statement): Promise<Row[]> {
  return query<Row>(required(request.config.database), ctx, statement);
}

const notFound = () => new HttpError(404, "no such task");

/** The {id} of the path: a positive integer, else 422. */
function taskId(request: AppRequest): number {
  const text = request.params.id ?? "";
  const id = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id)) {
    const message = `must be a positive integer up to ${Number.MAX_SAFE_INTEGER}`;
    throw new HttpError(422, `id ${message}`, { errors: [{ path: "id", message }] });
  }
  return id;
}

/** The task row as a response with its ETag: 404 when absent, 412 when If-Match failed. */
function taskResponse(row: OneTaskRow | undefined, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  if (row === undefined) throw notFound();
  if (row.json === null || row.version === null) throw preconditionFailed();
  return jsonText(row.json, { status: init.status ?? 200, headers: { ...init.headers, ETag: etag(row.version) } });
}

/** A write of one task, under the request's If-Match. */
async function write(request: AppRequest, ctx: ExecutionContext, statement: Statement): Promise<Response> {
  const [row] = await run<OneTaskRow>(request, ctx, statement);
  return taskResponse(row);
}

export async function listTasks(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  const params = parseListQuery(url.searchParams);
  const cursor = params.cursor === undefined ? undefined : decodeCursor(params.cursor, params.sort);
  const rows = await run(request, ctx, sql.listTasks(request.userId, params, cursor));
  const page = rows.slice(0, params.limit);
  const last = page.at(-1);
  const headers: Record<string, string> = {};
  if (rows.length > params.limit && last !== undefined) {
    url.searchParams.set("cursor", encodeCursor({ sort: params.sort, value: last.cursor_value ?? null, id: Number(last.id) }));
    headers.Link = `<${url.href}>; rel="next"`;
  }
  return jsonText(`[${page.map((row) => row.json).join(",")}]`, { headers });
}

export async function createTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const key = idempotencyKey(request);
  const input = validate(TaskInput, withoutReadOnly(await requireJsonObject(request)));
  const url = new URL(request.url);
  const location = (id: string) => `${url.origin}${url.pathname.replace(/\/+$/, "")}/${id}`;
  if (key === undefined) {
    const [row] = await run<OneTaskRow>(request, ctx, sql.insertTask(request.userId, input));
    if (row === undefined) throw new Error("INSERT … RETURNING returned no row");
    return taskResponse(row, { status: 201, headers: { Location: location(row.id) } });
  }
  const hash = await requestHash(input);
  const [row] = await run<CreatedRow>(request, ctx, sql.insertTaskIdempotent(request.userId, input, key, hash));
  if (row === undefined) {
    throw new HttpError(409, "a request with this Idempotency-Key is still in progress; retry it in a moment", {
      headers: { "Retry-After": "1" },
    });
  }
  if (row.replay_hash !== null && row.replay_hash !== hash) {
    const message = "was already used with a different request body";
    throw new HttpError(422, `Idempotency-Key ${message}`, { errors: [{ path: "Idempotency-Key", message }] });
  }
  const headers: Record<string, string> = { Location: location(row.id) };
  if (row.replay_hash !== null) headers["Idempotent-Replayed"] = "true";
  return taskResponse(row, { status: 201, headers });
}

export async function getTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const [row] = await run<OneTaskRow>(request, ctx, sql.selectTask(request.userId, taskId(request)));
  if (row?.version != null && notModified(request, row.version)) {
    return new Response(null, { status: 304, headers: { ETag: etag(row.version) } });
  }
  return taskResponse(row);
}

export async function replaceTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const input = validate(TaskInput, withoutReadOnly(await requireJsonObject(request)));
  return write(request, ctx, sql.updateTask(request.userId, id, input, ifMatchVersions(request)));
}

export async function patchTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const patch = validate(TaskPatch, withoutReadOnly(await requireJsonObject(request)));
  return write(request, ctx, sql.updateTask(request.userId, id, patch, ifMatchVersions(request)));
}

export async function completeTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const body = await readJsonObject(request);
  const completed = body === undefined ? undefined : validate(CompleteInput, withoutReadOnly(body)).completed;
  return write(request, ctx, sql.completeTask(request.userId, id, completed, ifMatchVersions(request)));
}

export async function deleteTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const [row] = await run<{ id: string | null }>(request, ctx, sql.deleteTask(request.userId, taskId(request), ifMatchVersions(request)));
  if (row === undefined) throw notFound();
  if (row.id === null) throw preconditionFailed();
  return new Response(null, { status: 204 });
}

// The task routes: validate input → one SQL statement → shape the response.
import { required } from "../config.ts";
import { query, type Statement } from "../db/client.ts";
import type { TaskRow } from "../db/tasks.ts";
import * as sql from "../db/tasks.ts";
import type { Env } from "../env.ts";
import { readJsonObject, requireJsonObject } from "../http/body.ts";
import type { AppRequest } from "../http/context.ts";
import { jsonText } from "../http/json.ts";
import { HttpError } from "../http/problem.ts";
import { validate } from "../http/validate.ts";
import { decodeCursor, encodeCursor } from "../schemas/cursor.ts";
import { parseListQuery } from "../schemas/list.ts";
import { CompleteInput, TaskInput, TaskPatch, withoutReadOnly } from "../schemas/task.ts";

function run(request: AppRequest, ctx: ExecutionContext, statement: Statement): Promise<TaskRow[]> {
  return query<TaskRow>(required(request.config.database), ctx, statement);
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

/** One task, or 404: absent and someone else's look the same. */
async function one(request: AppRequest, ctx: ExecutionContext, statement: Statement): Promise<Response> {
  const [row] = await run(request, ctx, statement);
  if (row === undefined) throw notFound();
  return jsonText(row.json);
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
  const input = validate(TaskInput, withoutReadOnly(await requireJsonObject(request)));
  const [row] = await run(request, ctx, sql.insertTask(request.userId, input));
  if (row === undefined) throw new Error("INSERT … RETURNING returned no row");
  const url = new URL(request.url);
  const location = `${url.origin}${url.pathname.replace(/\/+$/, "")}/${row.id}`;
  return jsonText(row.json, { status: 201, headers: { Location: location } });
}

export async function getTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  return one(request, ctx, sql.selectTask(request.userId, taskId(request)));
}

export async function replaceTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const input = validate(TaskInput, withoutReadOnly(await requireJsonObject(request)));
  return one(request, ctx, sql.updateTask(request.userId, id, input));
}

export async function patchTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const patch = validate(TaskPatch, withoutReadOnly(await requireJsonObject(request)));
  return one(request, ctx, sql.updateTask(request.userId, id, patch));
}

export async function completeTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const body = await readJsonObject(request);
  const completed = body === undefined ? undefined : validate(CompleteInput, withoutReadOnly(body)).completed;
  return one(request, ctx, sql.completeTask(request.userId, id, completed));
}

export async function deleteTask(request: AppRequest, _env: Env, ctx: ExecutionContext): Promise<Response> {
  const [row] = await run(request, ctx, sql.deleteTask(request.userId, taskId(request)));
  if (row === undefined) throw notFound();
  return new Response(null, { status: 204 });
}

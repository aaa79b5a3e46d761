// The task routes: validate input → one repository call → shape the response from its outcome.
import { required } from "../config.ts";
import * as tasks from "../db/tasks.ts";
import type { Env } from "../env.ts";
import { readJsonObject, requireJsonObject } from "../http/body.ts";
import { etag, ifMatchVersions, notModified } from "../http/conditional.ts";
import type { AuthedRequest } from "../http/context.ts";
import { idempotencyKey } from "../http/idempotency.ts";
import { jsonText } from "../http/json.ts";
import { validate } from "../http/validate.ts";
import { invalid, taskNotFound } from "../problems.ts";
import { decodeCursor, encodeCursor } from "../schemas/cursor.ts";
import { parseListQuery } from "../schemas/listing.ts";
import { CompleteInput, MoveInput, RestoreInput, TaskInput, TaskPatch, withoutReadOnly } from "../schemas/task.ts";
import { dbFor, writeTasks } from "./database.ts";
import { failureProblem } from "./outcomes.ts";

/** The {id} of the path: a positive integer, else 422. */
export function taskId(request: AuthedRequest): number {
  const text = request.params.id ?? "";
  const id = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw invalid("id", `must be a positive integer up to ${Number.MAX_SAFE_INTEGER}`);
  return id;
}

/** A task as a response with its ETag. */
function taskResponse(task: tasks.StoredTask, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return jsonText(task.json, { status: init.status ?? 200, headers: { ...init.headers, ETag: etag(task.version) } });
}

/** The response to a write of one existing task. */
function writtenResponse(outcome: tasks.Written): Response {
  switch (outcome.kind) {
    case "written":
      return taskResponse(outcome.task);
    case "deleted":
      return new Response(null, { status: 204 });
    case "invalid":
      throw failureProblem("invalid", outcome.path, { list: false, prefix: "" });
    default:
      throw failureProblem(outcome.kind, undefined, { list: false, prefix: "" });
  }
}

/** One operation on an existing task, announced on /live once written. */
async function writeOne(request: AuthedRequest, env: Env, ctx: ExecutionContext, operation: Exclude<tasks.Operation, { op: "create" }>) {
  return tasks.single(await writeTasks(request, env, ctx, [operation]));
}

/** If-Match as task_write takes it: null without a condition. */
const ifMatch = (request: AuthedRequest) => ifMatchVersions(request) ?? null;

/**
 * Where the user's tasks are, for Location and Link: on PUBLIC_URL when it is set, else a relative
 * reference (RFC 9110 §10.2.2, RFC 8288 §3.1). Never from the request's URL, whose host is the
 * client's Host header. Checked before any work, so a create with an unusable PUBLIC_URL writes nothing.
 */
const tasksUrl = (request: AuthedRequest) => `${required(request.config.publicOrigin)}/api/${encodeURIComponent(request.userId)}/tasks`;

export async function listTasks(request: AuthedRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  const query = parseListQuery(url.searchParams);
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, query.sort);
  const base = tasksUrl(request);
  const page = await tasks.listTasks(dbFor(request, ctx), request.userId, query, cursor);
  const headers: Record<string, string> = {};
  if (page.next !== undefined) {
    // The same (validated) query parameters, with the next page's cursor; the form encoding
    // escapes "<", ">", ";" and ",", so the header cannot be split.
    const search = new URLSearchParams(url.searchParams);
    search.set("cursor", encodeCursor({ sort: query.sort, ...page.next }));
    headers.Link = `<${base}?${search}>; rel="next"`;
  }
  return jsonText(`[${page.tasks.join(",")}]`, { headers });
}

export async function createTask(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const key = idempotencyKey(request);
  const base = tasksUrl(request);
  const task = validate(TaskInput, withoutReadOnly(await requireJsonObject(request)));
  const outcome = await writeTasks(request, env, ctx, [{ op: "create", task }], { key, body: task });
  switch (outcome.kind) {
    case "failed":
      // A list_id or parent_id that is not there.
      throw failureProblem(outcome.reason, outcome.path, { list: false, prefix: "" });
    case "written": {
      const [created] = outcome.results;
      if (created === undefined || created.status === 204) throw new Error("task_write created nothing");
      const headers: Record<string, string> = { Location: `${base}/${created.task.id}` };
      if (outcome.replayed) headers["Idempotent-Replayed"] = "true";
      return taskResponse(created.task, { status: 201, headers });
    }
  }
}

export async function getTask(request: AuthedRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const task = await tasks.findTask(dbFor(request, ctx), request.userId, taskId(request));
  if (task === undefined) throw taskNotFound();
  if (notModified(request, task.version)) return new Response(null, { status: 304, headers: { ETag: etag(task.version) } });
  return taskResponse(task);
}

/** PATCH, and PUT alike (API.md): the fields sent are replaced, the rest kept. */
export async function updateTask(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const task = validate(TaskPatch, withoutReadOnly(await requireJsonObject(request)));
  return writtenResponse(await writeOne(request, env, ctx, { op: "update", id, task, if_match: ifMatch(request) }));
}

export async function completeTask(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const body = await readJsonObject(request);
  const completed = body === undefined ? null : validate(CompleteInput, withoutReadOnly(body)).completed;
  return writtenResponse(await writeOne(request, env, ctx, { op: "complete", id, completed, if_match: ifMatch(request) }));
}

/** Into the trash, its subtasks with it: restorable for 30 days (…/restore). */
export async function deleteTask(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  return writtenResponse(await writeOne(request, env, ctx, { op: "delete", id, if_match: ifMatch(request) }));
}

/** POST …/move (Google Tasks' move): another list, parent or place among its siblings; the id stays. */
export async function moveTask(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const move = validate(MoveInput, await requireJsonObject(request));
  return writtenResponse(
    await writeOne(request, env, ctx, {
      op: "move",
      id,
      list_id: move.list_id ?? null,
      parent_id: move.parent_id ?? null,
      after_id: move.after_id ?? null,
      before_id: move.before_id ?? null,
      if_match: ifMatch(request),
    }),
  );
}

/** POST …/restore: out of the trash, with the subtasks that went with it; 404 when not in the trash. */
export async function restoreTask(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  validate(RestoreInput, (await readJsonObject(request)) ?? {});
  const outcome = await writeOne(request, env, ctx, { op: "restore", id });
  if (outcome.kind === "missing") throw taskNotFound("task not found in the trash");
  return writtenResponse(outcome);
}

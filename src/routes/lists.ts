// The list routes: GET/POST /lists, GET/PATCH/PUT/DELETE /lists/{list_id}, and …/move, …/restore.
// Reads are one statement each (src/db/lists.ts); every write is an operation of task_write,
// announced on /live like a task write.
import { required } from "../config.ts";
import * as lists from "../db/lists.ts";
import * as tasks from "../db/tasks.ts";
import type { Env } from "../env.ts";
import { readJsonObject, requireJsonObject } from "../http/body.ts";
import { etag, ifMatchVersions, notModified } from "../http/conditional.ts";
import type { AuthedRequest } from "../http/context.ts";
import { idempotencyKey } from "../http/idempotency.ts";
import { jsonText } from "../http/json.ts";
import { validate } from "../http/validate.ts";
import { invalid, listNotFound } from "../problems.ts";
import { queryObject } from "../schemas/listing.ts";
import { ListDeleteQuery, ListInput, ListMoveInput, ListPatch, listWithoutReadOnly } from "../schemas/lists.ts";
import { RestoreInput } from "../schemas/task.ts";
import { dbFor, writeTasks } from "./database.ts";
import { failureProblem } from "./outcomes.ts";

/** The {list_id} of the path: a positive integer, else 422. */
export function listId(request: AuthedRequest): number {
  const text = request.params.list_id ?? "";
  const id = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw invalid("list_id", `must be a positive integer up to ${Number.MAX_SAFE_INTEGER}`);
  return id;
}

function listResponse(list: tasks.StoredList, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return jsonText(list.json, { status: init.status ?? 200, headers: { ...init.headers, ETag: etag(list.version) } });
}

/** The response to a write of one existing list. */
function writtenResponse(outcome: tasks.Written): Response {
  switch (outcome.kind) {
    case "written":
      return listResponse(outcome.task);
    case "deleted":
      return new Response(null, { status: 204 });
    case "invalid":
      throw failureProblem("invalid", outcome.path, { list: true, prefix: "" });
    default:
      throw failureProblem(outcome.kind, undefined, { list: true, prefix: "" });
  }
}

async function writeOne(request: AuthedRequest, env: Env, ctx: ExecutionContext, operation: tasks.Operation): Promise<tasks.Written> {
  return tasks.single(await writeTasks(request, env, ctx, [operation]));
}

const ifMatch = (request: AuthedRequest) => ifMatchVersions(request) ?? null;

/** Where the user's lists are, for Location: on PUBLIC_URL when set, else relative (see tasks.ts). */
const listsUrl = (request: AuthedRequest) => `${required(request.config.publicOrigin)}/api/${encodeURIComponent(request.userId)}/lists`;

/** GET /lists: every list of the user (at most 500), in their order; the Inbox first made sure of. */
export async function listLists(request: AuthedRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const query = queryObject(new URL(request.url).searchParams);
  const [unknown] = Object.keys(query);
  if (unknown !== undefined) throw invalid(unknown, "is not a known query parameter");
  const found = await lists.readLists(dbFor(request, ctx), request.userId);
  return jsonText(`[${found.map((list) => list.json).join(",")}]`);
}

export async function createList(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const key = idempotencyKey(request);
  const base = listsUrl(request);
  const list = validate(ListInput, listWithoutReadOnly(await requireJsonObject(request)));
  // The key's request hash covers the route too: a key first used to create a task is "another request" here.
  const outcome = await writeTasks(request, env, ctx, [{ op: "list_create", list }], { key, body: { list } });
  switch (outcome.kind) {
    case "failed":
      throw failureProblem(outcome.reason, outcome.path, { list: true, prefix: "" });
    case "written": {
      const [created] = outcome.results;
      if (created === undefined || created.status === 204) throw new Error("task_write created no list");
      const headers: Record<string, string> = { Location: `${base}/${created.task.id}` };
      if (outcome.replayed) headers["Idempotent-Replayed"] = "true";
      return listResponse(created.task, { status: 201, headers });
    }
  }
}

export async function getList(request: AuthedRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const list = await lists.findList(dbFor(request, ctx), request.userId, listId(request));
  if (list === undefined) throw listNotFound();
  if (notModified(request, list.version)) return new Response(null, { status: 304, headers: { ETag: etag(list.version) } });
  return listResponse(list);
}

/** PATCH, and PUT alike: the fields sent are replaced, the rest kept. */
export async function updateList(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = listId(request);
  const list = validate(ListPatch, listWithoutReadOnly(await requireJsonObject(request)));
  return writtenResponse(await writeOne(request, env, ctx, { op: "list_update", id, list, if_match: ifMatch(request) }));
}

/** Into the trash with its tasks (restorable for 30 days), or, with ?move_to=, after moving its tasks there. */
export async function deleteList(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = listId(request);
  const query = validate(ListDeleteQuery, queryObject(new URL(request.url).searchParams));
  return writtenResponse(
    await writeOne(request, env, ctx, { op: "list_delete", id, move_to: query.move_to ?? null, if_match: ifMatch(request) }),
  );
}

/** POST …/move: right after or before another list, or first. */
export async function moveList(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = listId(request);
  const move = validate(ListMoveInput, await requireJsonObject(request));
  return writtenResponse(
    await writeOne(request, env, ctx, {
      op: "list_move",
      id,
      after_id: move.after_id ?? null,
      before_id: move.before_id ?? null,
      if_match: ifMatch(request),
    }),
  );
}

/** POST …/restore: out of the trash with the tasks that went with it; 404 when not in the trash. */
export async function restoreList(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const id = listId(request);
  validate(RestoreInput, (await readJsonObject(request)) ?? {});
  const outcome = await writeOne(request, env, ctx, { op: "list_restore", id });
  if (outcome.kind === "list_missing") throw listNotFound("list not found in the trash");
  return writtenResponse(outcome);
}

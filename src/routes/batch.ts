// POST /api/{user_id}/tasks/batch: 1 to 100 operations on tasks and lists in one statement, all or
// none (docs/api.md "Batch"); per-operation results, or the first failing operation's problem
// with `operation`.
import * as tasks from "../db/tasks.ts";
import type { Env } from "../env.ts";
import { MAX_BATCH_BODY_BYTES, requireJsonObject } from "../http/body.ts";
import { etag, matchingVersions } from "../http/conditional.ts";
import type { AuthedRequest } from "../http/context.ts";
import { idempotencyKey } from "../http/idempotency.ts";
import { jsonText } from "../http/json.ts";
import { HttpError } from "../problems.ts";
import { type Operation, parseBatch } from "../schemas/batch.ts";
import { writeTasks } from "./database.ts";
import { failureProblem } from "./outcomes.ts";

/** A batch operation as task_write takes it: If-Match as versions (null without a condition). */
function toWrite(operation: Operation): tasks.Operation {
  const ifMatch = "if_match" in operation && operation.if_match !== undefined ? (matchingVersions(operation.if_match) ?? null) : null;
  switch (operation.op) {
    case "create":
    case "restore":
    case "list_create":
    case "list_restore":
      return operation;
    case "update":
      return { op: "update", id: operation.id, task: operation.task, if_match: ifMatch };
    case "complete":
      return { op: "complete", id: operation.id, completed: operation.completed ?? null, if_match: ifMatch };
    case "delete":
      return { op: "delete", id: operation.id, if_match: ifMatch };
    case "move":
      return {
        op: "move",
        id: operation.id,
        list_id: operation.list_id ?? null,
        parent_id: operation.parent_id ?? null,
        after_id: operation.after_id ?? null,
        before_id: operation.before_id ?? null,
        if_match: ifMatch,
      };
    case "list_update":
      return { op: "list_update", id: operation.id, list: operation.list, if_match: ifMatch };
    case "list_move":
      return {
        op: "list_move",
        id: operation.id,
        after_id: operation.after_id ?? null,
        before_id: operation.before_id ?? null,
        if_match: ifMatch,
      };
    case "list_delete":
      return { op: "list_delete", id: operation.id, move_to: operation.move_to ?? null, if_match: ifMatch };
  }
}

function resultJson(result: tasks.OperationResult, list: boolean): string {
  if (result.status === 204) return `{"status":204,"id":${result.id}}`;
  return `{"status":${result.status},"etag":${JSON.stringify(etag(result.task.version))},"${list ? "list" : "task"}":${result.task.json}}`;
}

/** The failing operation's problem, with its index as the `operation` member. */
function failedAt(operation: number, problem: HttpError): HttpError {
  return new HttpError(problem.code, `operation ${operation}: ${problem.detail}`, { headers: problem.headers, members: { operation } });
}

export async function batch(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const key = idempotencyKey(request);
  const operations = parseBatch(await requireJsonObject(request, MAX_BATCH_BODY_BYTES));
  const outcome = await writeTasks(request, env, ctx, operations.map(toWrite), { key, body: { operations } });
  const writes = operations.map(toWrite);
  switch (outcome.kind) {
    case "failed": {
      const failed = writes[outcome.operation];
      const list = failed !== undefined && tasks.isListOperation(failed);
      // A create's or an update's fields are under task.; a move's and a list delete's are the operation's own.
      const inTask = failed?.op === "create" || failed?.op === "update" || outcome.path === "due_date";
      const prefix = `operations/${outcome.operation}/${inTask ? "task." : ""}`;
      const problem = failureProblem(outcome.reason, outcome.path, { list, prefix, operation: outcome.operation });
      throw outcome.reason === "invalid" ? problem : failedAt(outcome.operation, problem);
    }
    case "written":
      return jsonText(
        `{"results":[${outcome.results.map((result, index) => resultJson(result, tasks.isListOperation(writes[index] ?? { op: "restore", id: 0 }))).join(",")}]}`,
        {
          headers: outcome.replayed ? { "Idempotent-Replayed": "true" } : {},
        },
      );
  }
}

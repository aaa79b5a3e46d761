// POST /api/{user_id}/tasks/batch: 1 to 100 operations in one statement, all or none (API.md
// "Batch"); per-operation results, or the first failing operation's problem with `operation`.
import type * as tasks from "../db/tasks.ts";
import type { Env } from "../env.ts";
import { MAX_BATCH_BODY_BYTES, requireJsonObject } from "../http/body.ts";
import { etag, matchingVersions } from "../http/conditional.ts";
import type { AuthedRequest } from "../http/context.ts";
import { idempotencyKey } from "../http/idempotency.ts";
import { jsonText } from "../http/json.ts";
import { HttpError, preconditionFailed, recurrenceTooComplex, taskNotFound, validationFailed } from "../problems.ts";
import { type Operation, parseBatch } from "../schemas/batch.ts";
import { RECURRENCE_WITHOUT_DUE } from "../schemas/task.ts";
import { writeTasks } from "./database.ts";

/** A batch operation as task_write takes it: If-Match as versions (null without a condition). */
function toWrite(operation: Operation): tasks.Operation {
  const ifMatch = operation.op === "create" || operation.if_match === undefined ? null : (matchingVersions(operation.if_match) ?? null);
  switch (operation.op) {
    case "create":
      return operation;
    case "update":
      return { op: "update", id: operation.id, task: operation.task, if_match: ifMatch };
    case "complete":
      return { op: "complete", id: operation.id, completed: operation.completed ?? null, if_match: ifMatch };
    case "delete":
      return { op: "delete", id: operation.id, if_match: ifMatch };
  }
}

function resultJson(result: tasks.OperationResult): string {
  if (result.status === 204) return `{"status":204,"id":${result.id}}`;
  return `{"status":${result.status},"etag":${JSON.stringify(etag(result.task.version))},"task":${result.task.json}}`;
}

/** The failing operation's problem, with its index as the `operation` member. */
function failedAt(operation: number, problem: HttpError): HttpError {
  return new HttpError(problem.code, `operation ${operation}: ${problem.detail}`, { headers: problem.headers, members: { operation } });
}

export async function batch(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const key = idempotencyKey(request);
  const operations = parseBatch(await requireJsonObject(request, MAX_BATCH_BODY_BYTES));
  const outcome = await writeTasks(request, env, ctx, operations.map(toWrite), { key, body: { operations } });
  switch (outcome.kind) {
    case "failed":
      if (outcome.reason === "invalid") {
        const path = `operations/${outcome.operation}/task.${outcome.path ?? "due_date"}`;
        throw validationFailed([{ path, message: RECURRENCE_WITHOUT_DUE }], { operation: outcome.operation });
      }
      if (outcome.reason === "too_complex") throw failedAt(outcome.operation, recurrenceTooComplex());
      throw failedAt(outcome.operation, outcome.reason === "stale" ? preconditionFailed() : taskNotFound());
    case "written":
      return jsonText(`{"results":[${outcome.results.map(resultJson).join(",")}]}`, {
        headers: outcome.replayed ? { "Idempotent-Replayed": "true" } : {},
      });
  }
}

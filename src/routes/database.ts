// What every route does with the database: the statements go to this deployment's database
// (config.ts) over a connection of this request (db/client.ts), and a write is announced on /live.
import { required } from "../config.ts";
import { connectTo, type Db } from "../db/client.ts";
import * as tasks from "../db/tasks.ts";
import type { Env } from "../env.ts";
import type { AuthedRequest } from "../http/context.ts";
import { requestHash } from "../http/idempotency.ts";
import { announce } from "../live/notify.ts";
import { idempotencyInFlight, idempotencyKeyReused } from "../problems.ts";

export const dbFor = (request: AuthedRequest, ctx: ExecutionContext): Db => connectTo(required(request.config.database), ctx);

/**
 * Writes `operations` for the request's user (one task_write statement) and announces the write
 * on /live. With an Idempotency-Key, `idempotent.body` is what the key's request hash covers; a
 * key whose first request is still in flight (409) or that came with another body (422) is thrown
 * as its problem.
 */
export async function writeTasks(
  request: AuthedRequest,
  env: Env,
  ctx: ExecutionContext,
  operations: tasks.Operation[],
  idempotent?: { key: string | undefined; body: unknown },
): Promise<tasks.Settled> {
  const key = idempotent?.key;
  const idempotency = key === undefined ? undefined : { key, requestHash: await requestHash(idempotent?.body) };
  const outcome = await tasks.write(dbFor(request, ctx), request.userId, operations, idempotency);
  announce(env, ctx, request.userId, outcome);
  if (outcome.kind === "in_flight") throw idempotencyInFlight();
  if (outcome.kind === "key_reused") throw idempotencyKeyReused();
  return outcome;
}

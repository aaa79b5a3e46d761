// After a write commits: tell the user's Durable Object the new position, in ctx.waitUntil, so
// the response is never delayed. Only when someone may be listening (task_write reports whether
// a /live socket was opened for the user within its token's lifetime): a write of a user with no
// listener costs nothing more than reading one flag in the statement it ran anyway.
import type { WriteOutcome } from "../db/tasks.ts";
import type { Env } from "../env.ts";
import { describeError, log } from "../log.ts";

export function announce(env: Env, ctx: ExecutionContext, userId: string, outcome: WriteOutcome): void {
  if (outcome.kind !== "written" || !outcome.live || outcome.head === null) return;
  const binding = env.LIVE;
  if (binding === undefined) return;
  const position = outcome.head;
  ctx.waitUntil(
    binding
      .get(binding.idFromName(userId))
      .notify(position)
      .catch((error: unknown) => log("warn", "live notify failed", { cause: describeError(error) })),
  );
}

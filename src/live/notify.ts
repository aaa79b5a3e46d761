// After a write commits: tell the Durable Object of every user whose feed it advanced the new
// position, in ctx.waitUntil, so the response is never delayed. Only when someone may be
// listening (task_write reports whether a /live socket was opened for the writer within its
// token's lifetime, and which other members of shared lists the write reached and may be
// listening): a write of a user with no listener costs nothing more than reading one flag in the
// statement it ran anyway. A write to a shared list fans out to each member's own object, so
// each member's sockets stay in one place (docs/sync.md "Shared lists").
import type { WriteOutcome } from "../db/tasks.ts";
import type { Env } from "../env.ts";
import { describeError, log } from "../log.ts";

export function announce(env: Env, ctx: ExecutionContext, userId: string, outcome: WriteOutcome): void {
  if (outcome.kind !== "written") return;
  const binding = env.LIVE;
  if (binding === undefined) return;
  const notes = [...(outcome.live && outcome.head !== null ? [{ userId, position: outcome.head }] : []), ...outcome.others];
  for (const { userId: listener, position } of notes) {
    ctx.waitUntil(
      binding
        .get(binding.idFromName(listener))
        .notify(position)
        .catch((error: unknown) => log("warn", "live notify failed", { cause: describeError(error) })),
    );
  }
}

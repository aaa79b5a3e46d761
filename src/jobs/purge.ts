// The Cron Trigger's job: delete Idempotency-Keys older than their 24-hour window, in one
// statement, with one log line. A failure is logged and thrown, so the run shows as failed in
// Cloudflare's Cron Events; the next run catches up.
import { configFrom, required } from "../config.ts";
import { type Background, query } from "../db/client.ts";
import { purgeIdempotencyKeys } from "../db/tasks.ts";
import type { Env } from "../env.ts";

export async function purgeExpiredKeys(env: Env, ctx: Background): Promise<void> {
  const startedAt = Date.now();
  try {
    const [row] = await query<{ purged: number }>(required(configFrom(env).database), ctx, purgeIdempotencyKeys());
    console.log(
      JSON.stringify({ level: "info", message: "purged idempotency keys", purged: row?.purged ?? 0, ms: Date.now() - startedAt }),
    );
  } catch (error) {
    console.error(JSON.stringify({ level: "error", message: "purging idempotency keys failed", error: String(error) }));
    throw error;
  }
}

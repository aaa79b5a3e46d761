// The Cron Trigger's job (hourly, wrangler.toml [triggers]): delete Idempotency-Keys past their
// 24 hours and tombstones past their 30 days, in one statement, with one log line. A failure is
// logged and thrown, so the run shows as failed in Cloudflare's Cron Events; the next run
// catches up.
import { configFrom, required } from "../config.ts";
import { type Background, connectTo } from "../db/client.ts";
import { purgeExpired } from "../db/purge.ts";
import type { Env } from "../env.ts";
import { describeError, log } from "../log.ts";

export async function purge(env: Env, ctx: Background): Promise<void> {
  const startedAt = Date.now();
  try {
    const purged = await purgeExpired(connectTo(required(configFrom(env).database), ctx));
    log("info", "purged", { ...purged, ms: Date.now() - startedAt });
  } catch (error) {
    log("error", "purge failed", { cause: describeError(error) });
    throw error;
  }
}

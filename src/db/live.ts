// The one statement of GET /live: marks the user as listening until the token's exp (so that
// writes know to tell the user's Durable Object, src/live/notify.ts) and reads the user's change
// position, which the socket's `ready` carries. Read after the mark, under the counter's lock: a
// write that commits later sees the mark and announces itself; one that committed before is
// behind the position. Either way the client misses nothing.
import type { Db } from "./client.ts";
import { sql } from "./sql.ts";

export async function openLive(db: Db, userId: string, tokenExpires: number): Promise<number> {
  const [row] = await db.query<{ position: string }>(sql`
    INSERT INTO sync_state AS s (user_id, live_until) VALUES (${userId}, to_timestamp(${tokenExpires}::double precision))
    ON CONFLICT (user_id) DO UPDATE SET live_until = GREATEST(s.live_until, EXCLUDED.live_until)
    RETURNING s.position`);
  return Number(row?.position ?? 0);
}

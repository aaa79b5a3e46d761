-- Up Migration

-- Live updates (API.md "Live updates"): GET /live marks the user as listening until its token's
-- exp, so that a write tells the user's Durable Object only when someone may be listening; a
-- write of a user who never opened /live costs no call to it.
ALTER TABLE sync_state ADD COLUMN live_until timestamptz;

-- Down Migration

ALTER TABLE sync_state DROP COLUMN live_until;

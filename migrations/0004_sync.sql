-- Up Migration

-- Numbering the existing tasks reads all of them: longer than the role's 5-second statement
-- timeout allows on a large table.
SET LOCAL statement_timeout = 0;

-- The change feed (API.md "Changes"). Every write of a user takes the next number of that user's
-- counter, its position, and stores it on the task it changed (or on the tombstone of the task
-- it deleted). The counter row is locked by the writing transaction until it commits, so a
-- user's positions are handed out in commit order: src/db/functions.sql explains why that makes
-- `position > cursor` exact, and applies every write.
CREATE TABLE sync_state (
  user_id  text PRIMARY KEY,
  -- The last position handed out: the head of the user's feed.
  position bigint NOT NULL DEFAULT 0 CHECK (position >= 0),
  -- Tombstones at or below this position may have been purged: an older cursor is a 410.
  horizon  bigint NOT NULL DEFAULT 0 CHECK (horizon >= 0)
);

ALTER TABLE tasks ADD COLUMN position bigint;
-- Existing tasks get positions in the order they were last changed.
WITH numbered AS (
  SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY updated_at, id) AS position FROM tasks
)
UPDATE tasks t SET position = n.position FROM numbered n WHERE t.id = n.id;
INSERT INTO sync_state (user_id, position) SELECT user_id, max(position) FROM tasks GROUP BY user_id;
ALTER TABLE tasks ALTER COLUMN position SET NOT NULL;
-- GET /changes: one index scan from the cursor, whatever the user's size.
CREATE UNIQUE INDEX tasks_user_position ON tasks (user_id, position);

-- A deleted task leaves its id and the position of its deletion, kept at least 30 days (the
-- hourly Cron Trigger purges older ones and raises sync_state.horizon past them).
CREATE TABLE task_tombstones (
  user_id    text NOT NULL,
  position   bigint NOT NULL,
  task_id    bigint NOT NULL,
  deleted_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, position)
);
CREATE INDEX task_tombstones_deleted_at ON task_tombstones (deleted_at);

-- Idempotency-Key now covers batches too: the stored answer is the list of per-operation results
-- (status, id, version, the task's JSON), replayed as is.
ALTER TABLE idempotency_keys ADD COLUMN results jsonb;
UPDATE idempotency_keys SET results = jsonb_build_array(jsonb_build_object('status', 201, 'id', task_id, 'version', 1, 'json', response));
ALTER TABLE idempotency_keys ALTER COLUMN results SET NOT NULL;
ALTER TABLE idempotency_keys DROP COLUMN task_id, DROP COLUMN response;

-- Down Migration

ALTER TABLE idempotency_keys ADD COLUMN task_id bigint, ADD COLUMN response text;
UPDATE idempotency_keys SET task_id = (results->0->>'id')::bigint, response = results->0->>'json';
DELETE FROM idempotency_keys WHERE task_id IS NULL;
ALTER TABLE idempotency_keys ALTER COLUMN task_id SET NOT NULL, ALTER COLUMN response SET NOT NULL;
ALTER TABLE idempotency_keys DROP COLUMN results;
DROP TABLE task_tombstones;
ALTER TABLE tasks DROP COLUMN position;
DROP TABLE sync_state;

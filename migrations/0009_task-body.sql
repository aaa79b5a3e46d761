-- Up Migration

-- Each task keeps its JSON as the API returns it (body), written by a trigger on every insert and
-- update (src/db/functions.sql, tasks_keep_body), with the version of task_json that wrote it.
-- Reads send body as it is when its version is current, and build the JSON only for older rows:
-- building it was most of the time of a large read (a full sync's page of 1,000 tasks: 10 ms to
-- build, under 3 ms to send; npm run bench). Rows written before this migration have no body
-- and are built on read until their next write: nothing to backfill here.
ALTER TABLE tasks ADD COLUMN body text, ADD COLUMN body_version smallint;

-- Down Migration

ALTER TABLE tasks DROP COLUMN body, DROP COLUMN body_version;

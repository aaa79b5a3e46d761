-- Up Migration

-- Idempotency-Key on POST /api/{user_id}/tasks: the first request with a key claims it and
-- creates the task in the same statement; a retry within 24 hours gets the stored response.
-- Keys are per user. Rows older than 24 hours are purged by the Worker's Cron Trigger and may
-- be reclaimed before that.
CREATE TABLE idempotency_keys (
  user_id      text NOT NULL,
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  -- SHA-256 of the validated request body: the same key with another body is a 422.
  request_hash text NOT NULL,
  task_id      bigint NOT NULL,
  -- The 201's body as first sent, replayed as is.
  response     text NOT NULL,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (user_id, key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Down Migration

DROP TABLE idempotency_keys;

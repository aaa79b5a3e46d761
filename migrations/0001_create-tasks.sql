-- Up Migration

CREATE TYPE task_priority AS ENUM ('low', 'medium', 'high');

CREATE TABLE tasks (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      text NOT NULL CHECK (user_id <> ''),
  title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  description  text CHECK (char_length(description) <= 1000),
  completed    boolean NOT NULL DEFAULT false,
  completed_at timestamptz,
  priority     task_priority NOT NULL DEFAULT 'medium',
  tags         text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 10),
  due_date     timestamptz,
  created_at   timestamptz NOT NULL DEFAULT date_trunc('milliseconds', statement_timestamp()),
  updated_at   timestamptz NOT NULL DEFAULT date_trunc('milliseconds', statement_timestamp()),
  version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  CHECK ((completed AND completed_at IS NOT NULL) OR (NOT completed AND completed_at IS NULL))
);

-- One index per sort key, each led by user_id and ending in id (the tie-breaker), so every
-- listing of one user, filtered or not, in either direction, is an index scan that stops
-- after one page. Postgres scans them backwards for descending sorts, except due_date, whose
-- nulls sort last in both directions and so needs one index per direction.
CREATE INDEX tasks_user_created_at ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_updated_at ON tasks (user_id, updated_at, id);
CREATE INDEX tasks_user_priority   ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_title      ON tasks (user_id, title, id);
CREATE INDEX tasks_user_due_asc    ON tasks (user_id, due_date ASC NULLS LAST, id ASC);
CREATE INDEX tasks_user_due_desc   ON tasks (user_id, due_date DESC NULLS LAST, id DESC);

-- Down Migration

DROP TABLE tasks;
DROP TYPE task_priority;

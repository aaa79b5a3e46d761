-- Up Migration

-- Lists, subtasks, manual order and the trash (docs/api.md "Lists"). Giving every existing task
-- its list and order key reads all of them: longer than the role's 5-second statement timeout.
SET LOCAL statement_timeout = 0;

-- A user's lists. Each has an order key among the user's lists (sort_key: see order_key_between
-- in src/db/functions.sql; compared byte by byte, hence COLLATE "C") and, like a task, the change
-- position of its last change (position) for GET /changes. A deleted list stays, with deleted_at,
-- until the hourly purge removes it 30 days later: until then it can be restored. Every user has
-- exactly one Inbox, created on first use, which cannot be deleted.
CREATE TABLE lists (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    text NOT NULL CHECK (user_id <> ''),
  name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  color      text CHECK (color ~ '^#[0-9a-f]{6}$'),
  inbox      boolean NOT NULL DEFAULT false,
  sort_key   text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  version    integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  position   bigint NOT NULL,
  deleted_at timestamptz,
  CHECK (NOT (inbox AND deleted_at IS NOT NULL))
);
CREATE UNIQUE INDEX lists_user_inbox ON lists (user_id) WHERE inbox;
-- GET /changes reads lists and tasks after a position the same way.
CREATE UNIQUE INDEX lists_user_position ON lists (user_id, position);
-- GET /lists: the user's lists in their order; no two share a key.
CREATE UNIQUE INDEX lists_user_order ON lists (user_id, sort_key) WHERE deleted_at IS NULL;
-- The trash and the purge.
CREATE INDEX lists_user_deleted ON lists (user_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;

-- Tasks gain their list, their parent (one level deep: a subtask's parent is a top-level task of
-- the same list), their order key among their siblings (the tasks of one list with the same
-- parent), and the trash: deleted_at, and what deleted them with it (the parent task whose
-- deletion took its subtasks along, or the list whose deletion took its tasks), so that restoring
-- that brings them back too.
ALTER TABLE tasks
  ADD COLUMN list_id            bigint,
  ADD COLUMN parent_id          bigint,
  ADD COLUMN sort_key           text COLLATE "C",
  ADD COLUMN deleted_at         timestamptz,
  ADD COLUMN deleted_with_task  bigint,
  ADD COLUMN deleted_with_list  bigint;

-- The n-th key of generateNKeysBetween(null, null, …): a0 … az, b00 … bzz, c000 … (n from 0).
CREATE FUNCTION pg_temp.order_key_nth(n bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  digits constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  width integer := 1;
  span numeric := 62;
  rest numeric := n;
  key text := '';
BEGIN
  WHILE rest >= span LOOP
    rest := rest - span;
    width := width + 1;
    span := span * 62;
  END LOOP;
  FOR i IN 1..width LOOP
    key := substr(digits, (rest % 62)::integer + 1, 1) || key;
    rest := floor(rest / 62);
  END LOOP;
  RETURN chr(ascii('a') + width - 1) || key;
END
$$;

-- Every user with tasks or a change feed gets an Inbox now, at the next change position, and
-- keeps their tasks there, in the order they were created.
INSERT INTO sync_state (user_id) SELECT DISTINCT user_id FROM tasks ON CONFLICT (user_id) DO NOTHING;
UPDATE sync_state SET position = position + 1;
INSERT INTO lists (user_id, name, inbox, sort_key, created_at, updated_at, position)
  SELECT s.user_id, 'Inbox', true, 'a0', statement_timestamp(), statement_timestamp(), s.position FROM sync_state s;
WITH ordered AS (
  SELECT t.id, l.id AS list_id, row_number() OVER (PARTITION BY t.user_id ORDER BY t.created_at, t.id) - 1 AS n
  FROM tasks t JOIN lists l ON l.user_id = t.user_id AND l.inbox
)
UPDATE tasks t SET list_id = o.list_id, sort_key = pg_temp.order_key_nth(o.n) FROM ordered o WHERE t.id = o.id;

ALTER TABLE tasks
  ALTER COLUMN list_id SET NOT NULL,
  ALTER COLUMN sort_key SET NOT NULL,
  ADD CONSTRAINT tasks_list FOREIGN KEY (list_id) REFERENCES lists (id),
  ADD CONSTRAINT tasks_parent FOREIGN KEY (parent_id) REFERENCES tasks (id) ON DELETE SET NULL,
  ADD CONSTRAINT tasks_not_own_parent CHECK (parent_id <> id);

-- Manual order: one list's tasks with one parent, by key; no two of them share a key (a unique
-- index: two siblings with one position cannot exist, whatever a write does). It is also the
-- order of GET /tasks?list_id=…&sort=position (top level, then each parent's subtasks), and where
-- a write finds a task's neighbours.
CREATE UNIQUE INDEX tasks_list_order ON tasks (list_id, (COALESCE(parent_id, 0)), sort_key) WHERE deleted_at IS NULL;
-- The same order led by the owner, which every read names first: without it the planner would
-- combine the owner's other indexes with this one and sort (npm run bench, 1M rows).
CREATE INDEX tasks_user_list_order ON tasks (user_id, list_id, (COALESCE(parent_id, 0)), sort_key) WHERE deleted_at IS NULL;
CREATE INDEX tasks_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;
-- The foreign key's own: a list deleted for good (the purge) looks its tasks up by list_id.
CREATE INDEX tasks_list ON tasks (list_id);
-- Restoring a task or a list finds what went to the trash with it.
CREATE INDEX tasks_deleted_with_task ON tasks (deleted_with_task) WHERE deleted_with_task IS NOT NULL;
CREATE INDEX tasks_deleted_with_list ON tasks (deleted_with_list) WHERE deleted_with_list IS NOT NULL;
-- The trash and the purge.
CREATE INDEX tasks_user_deleted ON tasks (user_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;

-- Down Migration

DROP INDEX tasks_user_deleted;
DROP INDEX tasks_user_list_order;
DROP INDEX tasks_deleted_with_list;
DROP INDEX tasks_deleted_with_task;
DROP INDEX tasks_list;
DROP INDEX tasks_parent;
DROP INDEX tasks_list_order;
DELETE FROM tasks WHERE deleted_at IS NOT NULL;
ALTER TABLE tasks
  DROP CONSTRAINT tasks_not_own_parent,
  DROP CONSTRAINT tasks_parent,
  DROP CONSTRAINT tasks_list,
  DROP COLUMN list_id, DROP COLUMN parent_id, DROP COLUMN sort_key,
  DROP COLUMN deleted_at, DROP COLUMN deleted_with_task, DROP COLUMN deleted_with_list;
DROP TABLE lists;

-- Up Migration

-- Shared lists (docs/api.md "Sharing"). A list's owner is lists.user_id, and every task of a list
-- belongs to the list's owner (tasks.user_id); the other members of a list and their roles are
-- here. The owner is a member without a row: src/db/functions.sql (list_role) decides the role.
CREATE TABLE list_members (
  -- A membership's id: what a member's entry in /changes names (`members`), never reused.
  id         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  list_id    bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  user_id    text NOT NULL CHECK (user_id <> ''),
  role       text NOT NULL CHECK (role IN ('editor', 'viewer')),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (list_id, user_id)
);
-- A user's shared lists: every read and write of a member starts here.
CREATE INDEX list_members_user ON list_members (user_id, list_id);

-- Invitations: a random token (256 bits, made in the Worker) of which only the SHA-256 is kept,
-- single use, expiring after 7 days, revocable by the owner.
CREATE TABLE list_invitations (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  list_id     bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  role        text NOT NULL CHECK (role IN ('editor', 'viewer')),
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  accepted_by text,
  accepted_at timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX list_invitations_list ON list_invitations (list_id, id);

-- What the writes of others changed for a member: a task or list of a list shared with the user
-- (or that was, until a move, a removal, a transfer), or a membership of such a list, at a
-- position of the member's own feed. Like tasks.position, a row holds only its last position:
-- each thing appears once in a feed. The owner's feed of their tasks and lists is tasks.position
-- and lists.position, as before; a user never has a row here for a task or list they own (a
-- membership of their list, they do).
CREATE TABLE shared_changes (
  user_id  text NOT NULL,
  kind     text NOT NULL CHECK (kind IN ('task', 'list', 'member')),
  id       bigint NOT NULL,
  position bigint NOT NULL,
  -- When: a row whose task, list or membership is gone for good is purged 30 days after it.
  changed_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, kind, id)
);
CREATE UNIQUE INDEX shared_changes_user_position ON shared_changes (user_id, position);
CREATE INDEX shared_changes_changed_at ON shared_changes (changed_at);

-- Who created a task (null for tasks created before sharing: their owner) and who it is assigned
-- to (a member of its list, or null).
ALTER TABLE tasks ADD COLUMN created_by text, ADD COLUMN assignee_id text;

-- Down Migration

ALTER TABLE tasks DROP COLUMN created_by, DROP COLUMN assignee_id;
DROP TABLE shared_changes;
DROP TABLE list_invitations;
DROP TABLE list_members;

-- The database's half of every write and of the JSON the API returns. Every write of the API
-- (create, PUT, PATCH, complete, move, delete, restore, the list writes, and each operation of a
-- batch) is one call of task_write, one statement: ownership, If-Match, Idempotency-Key, order
-- keys, the change position and the trash are all decided here, in the order of the operations,
-- in one transaction.
--
-- This file is the current definition, not a migration: scripts/lib/migrate.ts applies it after
-- the migrations every time, in one transaction (dropped and created again), so that it always
-- matches the code that calls it. Tables and columns change only in migrations/.

DROP TRIGGER IF EXISTS tasks_keep_body ON tasks;
-- Every function of this schema that no extension owns: whatever an earlier version of this file
-- defined, under whatever signature, is gone before the definitions below (test/functions-reapply.test.ts).
DO $drop$
DECLARE
  v_function regprocedure;
BEGIN
  FOR v_function IN
    SELECT p.oid::regprocedure FROM pg_proc p
    WHERE p.pronamespace = current_schema()::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE 'DROP FUNCTION ' || v_function;
  END LOOP;
END
$drop$;
DROP TYPE IF EXISTS task_view;
DROP TYPE IF EXISTS list_view;
DROP TYPE IF EXISTS recurrence_view;

-- The task and the list as the API returns them (docs/api.md "The task", "Lists"): these field
-- names, in this order. Timestamps are RFC 3339 in UTC with milliseconds and a Z.
CREATE TYPE recurrence_view AS (rule text, time_zone text, anchor text);
CREATE TYPE task_view AS (
  id bigint, user_id text, title text, description text, completed boolean, completed_at text,
  priority task_priority, tags text[], due_date text, created_at text, updated_at text, version integer,
  recurrence recurrence_view, series_id bigint, next_id bigint, list_id bigint, parent_id bigint, position text,
  created_by text, assignee_id text
);
CREATE TYPE list_view AS (
  id bigint, user_id text, name text, color text, inbox boolean, position text, created_at text, updated_at text, version integer,
  role text, shared boolean
);

-- A task row as the API's JSON text. One expression without FROM, so the planner inlines it
-- into the queries that call it (reads in src/db/tasks.ts): no function call per row.
CREATE FUNCTION task_json(t tasks) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT row_to_json(ROW(
    t.id, t.user_id, t.title, t.description, t.completed,
    to_char(t.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), t.priority, t.tags,
    to_char(t.due_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    to_char(t.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    t.version,
    CASE WHEN t.recurrence_rule IS NOT NULL THEN ROW(t.recurrence_rule, t.recurrence_zone, t.recurrence_anchor)::recurrence_view END,
    t.series_id, t.next_id, t.list_id, t.parent_id, t.sort_key, COALESCE(t.created_by, t.user_id), t.assignee_id
  )::task_view)::text
$$;

-- The version of task_json's output. Bump it whenever task_json changes: rows whose stored body
-- (tasks.body, migrations/0009) was written by another version are built again on read, and get
-- the new body on their next write, so a deploy never rewrites the table.
CREATE FUNCTION task_json_version() RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 2::smallint $$;

-- A task's JSON for a read: its stored body when current, else built now. Inlined like task_json.
CREATE FUNCTION task_body(t tasks) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN t.body_version = task_json_version() THEN t.body ELSE task_json(t) END
$$;

-- Every insert and update of a task stores its JSON, whoever writes it (task_write, a migration,
-- a COPY): the body can never be older than the row.
CREATE FUNCTION tasks_keep_body() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.body := task_json(NEW);
  NEW.body_version := task_json_version();
  RETURN NEW;
END
$$;
CREATE TRIGGER tasks_keep_body BEFORE INSERT OR UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION tasks_keep_body();

-- A list as `p_role` (owner, editor, viewer) sees it: the same list for every member but for its
-- role; shared: whether it has members besides its owner.
CREATE FUNCTION list_json(l lists, p_role text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT row_to_json(ROW(
    l.id, l.user_id, l.name, l.color, l.inbox, l.sort_key,
    to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    to_char(l.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    l.version, p_role, EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = l.id)
  )::list_view)::text
$$;

-- An invitation as the API returns it (never its token, of which only the hash is kept).
CREATE FUNCTION invitation_json(i list_invitations) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'id', i.id, 'list_id', i.list_id, 'role', i.role, 'created_by', i.created_by,
    'created_at', to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'expires_at', to_char(i.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
$$;

-- A member of a list as the API returns it: the owner (who has no row in list_members: id null)
-- or another (id: the membership's, which /changes names in `members`).
CREATE FUNCTION member_json(p_list bigint, p_user text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', x.id, 'list_id', p_list, 'user_id', x.user_id, 'role', x.role,
    'joined_at', to_char(x.joined AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
  FROM (SELECT NULL::bigint AS id, l.user_id, 'owner' AS role, l.created_at AS joined FROM lists l WHERE l.id = p_list AND l.user_id = p_user
        UNION ALL
        SELECT m.id, m.user_id, m.role, m.created_at FROM list_members m WHERE m.list_id = p_list AND m.user_id = p_user) x
$$;

-- A membership as /changes carries it in `members`.
CREATE FUNCTION membership_json(m list_members) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT json_build_object('id', m.id, 'list_id', m.list_id, 'user_id', m.user_id, 'role', m.role,
    'joined_at', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
$$;

-- A user's role in a list: owner (lists.user_id), editor or viewer (list_members), or NULL when
-- the user is not a member (then the list and its tasks are "not there" for them: 404).
CREATE FUNCTION list_role(p_user text, p_list bigint) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN l.user_id = p_user THEN 'owner'
              ELSE (SELECT m.role FROM list_members m WHERE m.list_id = l.id AND m.user_id = p_user) END
  FROM lists l WHERE l.id = p_list
$$;

-- The members of lists besides their owners: who else sees what happens in them.
CREATE FUNCTION list_sharers(p_list bigint, p_other bigint) RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT COALESCE(array_agg(DISTINCT m.user_id), '{}') FROM list_members m WHERE m.list_id IN (p_list, p_other)
$$;

-- Manual order. A task's position among its siblings (the tasks of one list with the same
-- parent), and a list's among the user's lists, is an order key: a string compared byte by byte
-- (COLLATE "C"), so that a move writes one row, with a key between its new neighbours' keys.
-- These functions are a port of fractional-indexing (rocicorp/fractional-indexing 4.0.0, CC0)
-- with its default alphabets (digits 0-9A-Za-z, integer heads A-Z and a-z): it runs here, under
-- the user's lock, because the neighbours' keys must be read in the same statement that writes
-- (read in the Worker, two clients would compute the same key). test/order-key.test.ts checks
-- them against the library itself. A key that grows past order_key_rebalance_length() (many moves
-- into one gap) makes the write renumber its whole sibling group in the same statement.
CREATE FUNCTION order_key_digit(c text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', c) - 1
$$;

CREATE FUNCTION order_key_int_length(head text) RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF head BETWEEN 'a' AND 'z' THEN RETURN ascii(head) - ascii('a') + 2; END IF;
  IF head BETWEEN 'A' AND 'Z' THEN RETURN ascii('Z') - ascii(head) + 2; END IF;
  RAISE EXCEPTION 'invalid order key head: %', head;
END
$$;

-- midpoint(a, b): a digit string strictly between a and b (b NULL: no upper bound); no tail zeros.
CREATE FUNCTION order_key_midpoint(a text, b text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  digits constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  n integer := 0;
  da integer;
  db integer;
BEGIN
  IF b IS NOT NULL THEN
    -- The longest common prefix, a padded with zeros.
    WHILE COALESCE(NULLIF(substr(a, n + 1, 1), ''), '0') = substr(b, n + 1, 1) LOOP
      n := n + 1;
    END LOOP;
    IF n > 0 THEN
      RETURN substr(b, 1, n) || order_key_midpoint(substr(a, n + 1), substr(b, n + 1));
    END IF;
  END IF;
  da := CASE WHEN a = '' THEN 0 ELSE order_key_digit(substr(a, 1, 1)) END;
  db := CASE WHEN b IS NULL THEN 62 ELSE order_key_digit(substr(b, 1, 1)) END;
  IF db - da > 1 THEN
    RETURN substr(digits, round(0.5 * (da + db))::integer + 1, 1);
  END IF;
  IF b IS NOT NULL AND length(b) > 1 THEN
    RETURN substr(b, 1, 1);
  END IF;
  RETURN substr(digits, da + 1, 1) || order_key_midpoint(substr(a, 2), NULL);
END
$$;

-- The integer part incremented (step 1) or decremented (step -1): fractional-indexing's
-- incrementInteger and decrementInteger, one function; NULL past the largest or the smallest.
CREATE FUNCTION order_key_step(x text, step integer) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  digits constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  heads constant text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  -- What a digit wraps to (a carry or a borrow), and the head past which there is nothing.
  wrap constant text := CASE WHEN step > 0 THEN '0' ELSE 'z' END;
  last_head constant text := CASE WHEN step > 0 THEN 'z' ELSE 'A' END;
  head text := substr(x, 1, 1);
  tail text := '';
  d integer;
  h text;
  delta integer;
BEGIN
  FOR i IN REVERSE length(x)..2 LOOP
    d := order_key_digit(substr(x, i, 1)) + step;
    IF d = 62 OR d = -1 THEN
      tail := wrap || tail;
    ELSE
      RETURN head || substr(x, 2, i - 2) || substr(digits, d + 1, 1) || tail;
    END IF;
  END LOOP;
  IF head = last_head THEN RETURN NULL; END IF;
  h := substr(heads, strpos(heads, head) + step, 1);
  delta := order_key_int_length(h) - order_key_int_length(head);
  RETURN h || CASE WHEN delta > 0 THEN tail || wrap WHEN delta < 0 THEN substr(tail, 2) ELSE tail END;
END
$$;

-- generateKeyBetween(a, b): a key strictly between a and b in byte order (NULL: open end).
CREATE FUNCTION order_key_between(a text, b text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  ia text;
  fa text;
  ib text;
  fb text;
  i text;
BEGIN
  IF a IS NOT NULL AND b IS NOT NULL AND a COLLATE "C" >= b COLLATE "C" THEN
    RAISE EXCEPTION 'order keys out of order: % >= %', a, b;
  END IF;
  IF a IS NULL THEN
    IF b IS NULL THEN RETURN 'a0'; END IF;
    ib := substr(b, 1, order_key_int_length(substr(b, 1, 1)));
    fb := substr(b, length(ib) + 1);
    IF ib = 'A' || repeat('0', 26) THEN
      RETURN ib || order_key_midpoint('', fb);
    END IF;
    IF ib COLLATE "C" < b COLLATE "C" THEN RETURN ib; END IF;
    i := order_key_step(ib, -1);
    IF i IS NULL THEN RAISE EXCEPTION 'cannot decrement any more'; END IF;
    RETURN i;
  END IF;
  ia := substr(a, 1, order_key_int_length(substr(a, 1, 1)));
  fa := substr(a, length(ia) + 1);
  IF b IS NULL THEN
    i := order_key_step(ia, 1);
    RETURN COALESCE(i, ia || order_key_midpoint(fa, NULL));
  END IF;
  ib := substr(b, 1, order_key_int_length(substr(b, 1, 1)));
  fb := substr(b, length(ib) + 1);
  IF ia = ib THEN
    RETURN ia || order_key_midpoint(fa, fb);
  END IF;
  i := order_key_step(ia, 1);
  IF i IS NULL THEN RAISE EXCEPTION 'cannot increment any more'; END IF;
  IF i COLLATE "C" < b COLLATE "C" THEN RETURN i; END IF;
  RETURN ia || order_key_midpoint(fa, NULL);
END
$$;

-- The n-th key of generateNKeysBetween(null, null, …): a0 … az, b00 … bzz, c000 … (n from 0),
-- short keys in order, for a sibling group renumbered from scratch.
CREATE FUNCTION order_key_nth(n bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
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

-- The change position, in two small functions so that the design sits in one place.
--
-- The invariant: a reader never advances past a change that can still commit before it.
--
-- task_lock_user locks the user's counter row first thing in every write and holds it until
-- the transaction ends; task_next_position then hands out the following numbers. So two writes
-- of one user run one after the other, and the second takes its first position only after the
-- first has committed (or rolled back). Positions therefore become visible in order: a reader
-- that sees position p sees every position below it that will ever exist, and a reader that
-- asks for `position > cursor` and moves its cursor to the last position it saw skips nothing.
-- Locking the counter before any task row also gives every write the same lock order, so two
-- writes of one user can wait for each other but never deadlock.
--
-- The classic trap is a number or timestamp taken inside the statement without that lock (a
-- sequence, clock_timestamp()): two writers take 10 and 11, 11 commits first, a reader sees 11
-- and never looks below it again, and 10 is lost to it. test/sync.test.ts swaps in exactly that
-- design and shows its convergence check catch it.
CREATE FUNCTION task_lock_user(p_user text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_head bigint;
BEGIN
  INSERT INTO sync_state (user_id) VALUES (p_user) ON CONFLICT (user_id) DO NOTHING;
  SELECT s.position INTO v_head FROM sync_state s WHERE s.user_id = p_user FOR UPDATE;
  RETURN v_head;
END
$$;

CREATE FUNCTION task_next_position(p_user text, p_last bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT p_last + 1
$$;

-- Shared lists: one write, several feeds.
--
-- The invariant, for every user's feed alike: a position is handed out only under that user's
-- lock (task_lock_user), held until the transaction ends. A user's feed is their own tasks and
-- lists (tasks.position, lists.position: every task of a list belongs to the list's owner) and
-- the rows of shared_changes for them: what others' writes changed in lists shared with them. A
-- write to a shared list therefore takes the next position of the owner (for the row itself)
-- and of every other member (a shared_changes row each), so it locks all of them first, in one
-- order (by user id: task_lock_users), and two writes that share a member wait for each other
-- instead of deadlocking. Then each of those feeds has exactly the property above: a reader that
-- sees position p sees every position below it that will ever exist, and each task or list
-- appears once in a feed (a row holds only its last position, and a user never has a
-- shared_changes row for what they own). Whether a shared_changes row is an upsert or a deletion
-- is decided when it is read, from the member's role at that moment (task_changes_rows): a
-- member removed gets deletions for the list and its tasks because the removal gave each of them
-- a new position in that member's feed.
--
-- Membership changes (accepting an invitation, a role change, a removal, a transfer) are writes
-- like any other and take the same locks: while a write holds a list owner's lock, the list's
-- members cannot change. A write reads the members before it locks, so a member who joined in
-- between is locked late (feed_next); should that ever close a cycle, Postgres ends one of the
-- two writes (deadlock_detected) and task_write answers 503: nothing was written, try again.

-- Locks the writer and the owner and members of every list the operations name or whose tasks
-- they name (only lists the writer is a member of, or the list of an invitation being accepted),
-- in user id order; returns the writer's head.
CREATE FUNCTION task_lock_users(p_user text, p_ops jsonb) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_lists bigint[];
  v_tasks bigint[];
  v_head bigint;
  v_u text;
BEGIN
  -- The tasks named (looked up by id in the primary key: `= ANY` of an array, never a join that
  -- the planner could turn into a scan of the table), then the lists named or holding them.
  v_tasks := ARRAY(
    SELECT (o->>'id')::bigint FROM jsonb_array_elements(p_ops) o
    WHERE o->>'op' NOT LIKE 'list\_%' AND o->>'op' NOT LIKE 'invitation\_%' AND o->>'op' NOT LIKE 'member\_%' AND o ? 'id'
    UNION
    SELECT (o->'task'->>'parent_id')::bigint FROM jsonb_array_elements(p_ops) o WHERE o->'task' ? 'parent_id');
  SELECT COALESCE(array_agg(DISTINCT x.id), '{}') INTO v_lists FROM (
    SELECT t.list_id AS id FROM tasks t WHERE t.id = ANY (v_tasks)
    UNION ALL
    SELECT (o->>'list_id')::bigint FROM jsonb_array_elements(p_ops) o
    UNION ALL
    SELECT (o->'task'->>'list_id')::bigint FROM jsonb_array_elements(p_ops) o
    UNION ALL
    SELECT (o->>'id')::bigint FROM jsonb_array_elements(p_ops) o WHERE o->>'op' LIKE 'list\_%'
    UNION ALL
    SELECT (o->>'move_to')::bigint FROM jsonb_array_elements(p_ops) o
  ) x
  WHERE x.id IS NOT NULL AND list_role(p_user, x.id) IS NOT NULL;
  SELECT v_lists || COALESCE(array_agg(i.list_id), '{}') INTO v_lists FROM list_invitations i
  WHERE i.token_hash = ANY (ARRAY(SELECT decode(o->>'token_hash', 'hex') FROM jsonb_array_elements(p_ops) o WHERE o->>'op' = 'invitation_accept'));
  IF cardinality(v_lists) = 0 THEN
    RETURN task_lock_user(p_user);
  END IF;
  FOR v_u IN SELECT x.u FROM (
      SELECT p_user AS u
      UNION SELECT l.user_id FROM lists l WHERE l.id = ANY (v_lists)
      UNION SELECT m.user_id FROM list_members m WHERE m.list_id = ANY (v_lists)) x
    ORDER BY x.u COLLATE "C" LOOP
    IF v_u = p_user THEN
      v_head := task_lock_user(v_u);
    ELSE
      PERFORM task_lock_user(v_u);
    END IF;
  END LOOP;
  RETURN v_head;
END
$$;

-- The next position of another user's feed (not the writer's, whose positions task_write counts
-- itself), in their counter row; locked by task_lock_users, or here (see above).
CREATE FUNCTION feed_next(p_user text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
  v_seen jsonb;
BEGIN
  UPDATE sync_state s SET position = task_next_position(p_user, s.position) WHERE s.user_id = p_user RETURNING s.position INTO v;
  IF v IS NULL THEN
    PERFORM task_lock_user(p_user);
    UPDATE sync_state s SET position = task_next_position(p_user, s.position) WHERE s.user_id = p_user RETURNING s.position INTO v;
  END IF;
  -- Who to tell on /live once the write is done (task_write reads it back).
  v_seen := COALESCE(NULLIF(current_setting('task_api.others', true), ''), '[]')::jsonb;
  IF NOT v_seen ? p_user THEN
    PERFORM set_config('task_api.others', (v_seen || to_jsonb(p_user))::text, true);
  END IF;
  RETURN v;
END
$$;

-- A position of `p_owner`'s feed for a row being written: {the writer's last position, the
-- position taken}. The writer's own come from `p_pos` (task_write writes the head back at the end).
CREATE FUNCTION feed_take(p_writer text, p_pos bigint, p_owner text) RETURNS bigint[] LANGUAGE plpgsql AS $$
BEGIN
  IF p_owner = p_writer THEN
    p_pos := task_next_position(p_writer, p_pos);
    RETURN ARRAY[p_pos, p_pos];
  END IF;
  RETURN ARRAY[p_pos, feed_next(p_owner)];
END
$$;

-- Records that a task or list changed for each of `p_users` (members who see it now or saw it
-- before the write; its owner left out): the next position of each one's feed. Returns the
-- writer's last position.
CREATE FUNCTION feed_share(p_writer text, p_pos bigint, p_kind text, p_id bigint, p_users text[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_u text;
  v_p bigint;
BEGIN
  FOREACH v_u IN ARRAY p_users LOOP
    IF v_u = p_writer THEN
      p_pos := task_next_position(p_writer, p_pos);
      v_p := p_pos;
    ELSE
      v_p := feed_next(v_u);
    END IF;
    INSERT INTO shared_changes AS c (user_id, kind, id, position, changed_at) VALUES (v_u, p_kind, p_id, v_p, statement_timestamp())
    ON CONFLICT (user_id, kind, id) DO UPDATE SET position = EXCLUDED.position, changed_at = EXCLUDED.changed_at;
  END LOOP;
  RETURN p_pos;
END
$$;

-- Every membership of a list, as a change for each of `p_users` (the list's owner included: the
-- memberships of a list are nobody's own). Returns the writer's last position.
CREATE FUNCTION feed_memberships(p_writer text, p_pos bigint, p_list bigint, p_users text[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
BEGIN
  FOR v_id IN SELECT m.id FROM list_members m WHERE m.list_id = p_list ORDER BY m.id LOOP
    p_pos := feed_share(p_writer, p_pos, 'member', v_id, p_users);
  END LOOP;
  RETURN p_pos;
END
$$;


-- The user's Inbox, created at the next change position when it does not exist yet (every user
-- has one, created on first use). Called under the user's lock; `pos` is the last position taken.
CREATE FUNCTION list_ensure_inbox(p_user text, p_pos bigint, OUT inbox bigint, OUT pos bigint) LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := date_trunc('milliseconds', statement_timestamp());
  v_first text;
BEGIN
  pos := p_pos;
  SELECT l.id INTO inbox FROM lists l WHERE l.user_id = p_user AND l.inbox;
  IF FOUND THEN
    RETURN;
  END IF;
  SELECT min(l.sort_key) INTO v_first FROM lists l WHERE l.user_id = p_user AND l.deleted_at IS NULL;
  pos := task_next_position(p_user, pos);
  INSERT INTO lists (user_id, name, inbox, sort_key, created_at, updated_at, position)
  VALUES (p_user, 'Inbox', true, order_key_between(NULL, v_first), v_now, v_now, pos)
  RETURNING id INTO inbox;
END
$$;

-- The Inbox for a read (GET /lists, a full GET /changes): found, or created under the user's lock
-- like any write, so that it takes its place in the change feed.
CREATE FUNCTION list_inbox(p_user text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
  v_head bigint;
  v_pos bigint;
BEGIN
  SELECT l.id INTO v_id FROM lists l WHERE l.user_id = p_user AND l.inbox;
  IF FOUND THEN
    RETURN v_id;
  END IF;
  v_head := task_lock_user(p_user);
  SELECT e.inbox, e.pos INTO v_id, v_pos FROM list_ensure_inbox(p_user, v_head) e;
  UPDATE sync_state s SET position = GREATEST(s.position, v_pos) WHERE s.user_id = p_user AND v_pos > v_head;
  RETURN v_id;
END
$$;

-- The key for a task placed among the siblings of (list, parent), leaving out `p_self` (the task
-- being moved): right after `p_after`, right before `p_before`, first (`p_first`), or last. NULL
-- when the anchor is not one of those siblings.
CREATE FUNCTION task_key_at(p_list bigint, p_parent bigint, p_self bigint, p_after bigint, p_before bigint, p_first boolean)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_low text;
  v_high text;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT t.sort_key INTO v_low FROM tasks t
    WHERE t.id = p_after AND t.id <> p_self AND t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0) AND t.deleted_at IS NULL;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
    SELECT min(t.sort_key) INTO v_high FROM tasks t
    WHERE t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0) AND t.deleted_at IS NULL AND t.id <> p_self AND t.sort_key > v_low;
  ELSIF p_before IS NOT NULL THEN
    SELECT t.sort_key INTO v_high FROM tasks t
    WHERE t.id = p_before AND t.id <> p_self AND t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0) AND t.deleted_at IS NULL;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
    SELECT max(t.sort_key) INTO v_low FROM tasks t
    WHERE t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0) AND t.deleted_at IS NULL AND t.id <> p_self AND t.sort_key < v_high;
  ELSIF p_first THEN
    SELECT min(t.sort_key) INTO v_high FROM tasks t
    WHERE t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0) AND t.deleted_at IS NULL AND t.id <> p_self;
  ELSE
    SELECT max(t.sort_key) INTO v_low FROM tasks t
    WHERE t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0) AND t.deleted_at IS NULL AND t.id <> p_self;
  END IF;
  RETURN order_key_between(v_low, v_high);
END
$$;

-- The same for a list among the user's lists.
CREATE FUNCTION list_key_at(p_user text, p_self bigint, p_after bigint, p_before bigint, p_first boolean)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_low text;
  v_high text;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT l.sort_key INTO v_low FROM lists l WHERE l.id = p_after AND l.id <> p_self AND l.user_id = p_user AND l.deleted_at IS NULL;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
    SELECT min(l.sort_key) INTO v_high FROM lists l
    WHERE l.user_id = p_user AND l.deleted_at IS NULL AND l.id <> p_self AND l.sort_key > v_low;
  ELSIF p_before IS NOT NULL THEN
    SELECT l.sort_key INTO v_high FROM lists l WHERE l.id = p_before AND l.id <> p_self AND l.user_id = p_user AND l.deleted_at IS NULL;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
    SELECT max(l.sort_key) INTO v_low FROM lists l
    WHERE l.user_id = p_user AND l.deleted_at IS NULL AND l.id <> p_self AND l.sort_key < v_high;
  ELSIF p_first THEN
    SELECT min(l.sort_key) INTO v_high FROM lists l WHERE l.user_id = p_user AND l.deleted_at IS NULL AND l.id <> p_self;
  ELSE
    SELECT max(l.sort_key) INTO v_low FROM lists l WHERE l.user_id = p_user AND l.deleted_at IS NULL AND l.id <> p_self;
  END IF;
  RETURN order_key_between(v_low, v_high);
END
$$;

-- Keys grow by about one character per six moves into the same gap. Past this length the write
-- that made such a key renumbers the whole sibling group (a0, a1, …) in the same statement; each
-- renumbered task is a change, with a new version and position.
CREATE FUNCTION order_key_rebalance_length() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 40 $$;

-- Renumbers the siblings of (list, parent) in their order; returns the writer's last position.
-- Each renumbered task is a change for its owner and the list's other members.
CREATE FUNCTION task_rebalance(p_user text, p_list bigint, p_parent bigint, p_pos bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_ids bigint[];
  v_pos bigint := p_pos;
  v_owner text := (SELECT l.user_id FROM lists l WHERE l.id = p_list);
  v_sharers text[] := list_sharers(p_list, NULL);
  v_t bigint[];
BEGIN
  SELECT array_agg(t.id ORDER BY t.sort_key, t.id) INTO v_ids FROM tasks t
  WHERE t.list_id = p_list AND COALESCE(t.parent_id, 0) = COALESCE(p_parent, 0) AND t.deleted_at IS NULL;
  -- Out of the way first ('~' sorts after every key character): the unique index on a group's
  -- keys is checked row by row, and a new key may be an old key of another sibling.
  UPDATE tasks t SET sort_key = '~' || t.id WHERE t.id = ANY (v_ids);
  FOR i IN 1..COALESCE(cardinality(v_ids), 0) LOOP
    v_t := feed_take(p_user, v_pos, v_owner);
    v_pos := v_t[1];
    UPDATE tasks t SET sort_key = order_key_nth(i - 1), version = t.version + 1, position = v_t[2] WHERE t.id = v_ids[i];
    v_pos := feed_share(p_user, v_pos, 'task', v_ids[i], v_sharers);
  END LOOP;
  RETURN v_pos;
END
$$;

-- The same for the lists of their owner, the writer.
CREATE FUNCTION list_rebalance(p_user text, p_pos bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_ids bigint[];
  v_pos bigint := p_pos;
BEGIN
  SELECT array_agg(l.id ORDER BY l.sort_key, l.id) INTO v_ids FROM lists l WHERE l.user_id = p_user AND l.deleted_at IS NULL;
  UPDATE lists l SET sort_key = '~' || l.id WHERE l.id = ANY (v_ids);
  FOR i IN 1..COALESCE(cardinality(v_ids), 0) LOOP
    v_pos := task_next_position(p_user, v_pos);
    UPDATE lists l SET sort_key = order_key_nth(i - 1), version = l.version + 1, position = v_pos WHERE l.id = v_ids[i];
    v_pos := feed_share(p_user, v_pos, 'list', v_ids[i], list_sharers(v_ids[i], NULL));
  END LOOP;
  RETURN v_pos;
END
$$;

-- Raises the failure of operation `p_index`: task_write turns it into its one answer row.
CREATE FUNCTION task_fail(p_index integer, p_status integer, p_detail text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'operation % failed with %', p_index, p_status
    USING ERRCODE = 'TA' || p_status, DETAIL = p_index::text || COALESCE(':' || p_detail, '');
END
$$;

-- GET /changes (src/db/changes.ts): the user's head and horizon, then the tasks and lists
-- changed after `p_since` (NULL: the full state, every current task and list, no deletions), in
-- position order, at most `p_limit` + 1 (one more tells that more follow). A row holds only its
-- last position, so each task or list appears once, in its latest state; a deleted one (in the
-- trash) is a row without JSON, as is an old tombstone (tasks deleted before the trash existed).
-- One SELECT, so one snapshot: the counter row and the rows are read together (see
-- task_lock_user). A plain SQL function, inlined where it is called, so EXPLAIN shows its plan.
CREATE FUNCTION task_changes_rows(p_user text, p_since bigint, p_limit integer)
RETURNS TABLE (pos bigint, kind text, id bigint, body text, head bigint, horizon bigint)
LANGUAGE sql STABLE AS $$
  WITH changed AS (
    (SELECT t.position, 'task'::text AS kind, t.id, CASE WHEN t.deleted_at IS NULL THEN task_body(t) END AS body
     FROM tasks t WHERE t.user_id = p_user AND t.position > COALESCE(p_since, 0) AND (p_since IS NOT NULL OR t.deleted_at IS NULL)
     ORDER BY t.position LIMIT p_limit + 1)
    UNION ALL
    (SELECT l.position, 'list'::text, l.id, CASE WHEN l.deleted_at IS NULL THEN list_json(l, 'owner') END
     FROM lists l WHERE l.user_id = p_user AND l.position > COALESCE(p_since, 0) AND (p_since IS NOT NULL OR l.deleted_at IS NULL)
     ORDER BY l.position LIMIT p_limit + 1)
    UNION ALL
    (SELECT d.position, 'task'::text, d.task_id, NULL::text
     FROM task_tombstones d WHERE d.user_id = p_user AND d.position > COALESCE(p_since, 0) AND p_since IS NOT NULL
     ORDER BY d.position LIMIT p_limit + 1)
    UNION ALL
    -- What others changed in lists shared with the user, and the memberships of shared lists
    -- (the user's own lists' too): as the user sees it now (a member's role decides the list's
    -- JSON), or a deletion when the user no longer sees it.
    (SELECT c.position, c.kind, c.id, b.body
     FROM shared_changes c
     CROSS JOIN LATERAL (SELECT CASE WHEN c.kind = 'task' THEN
         (SELECT task_body(t) FROM tasks t WHERE t.id = c.id AND t.deleted_at IS NULL
            AND EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = t.list_id AND m.user_id = p_user))
       WHEN c.kind = 'list' THEN
         (SELECT list_json(l, m.role) FROM lists l JOIN list_members m ON m.list_id = l.id AND m.user_id = p_user
          WHERE l.id = c.id AND l.deleted_at IS NULL)
       ELSE
         (SELECT membership_json(m) FROM list_members m JOIN lists l ON l.id = m.list_id
          WHERE m.id = c.id AND l.deleted_at IS NULL AND list_role(p_user, l.id) IS NOT NULL) END AS body) b
     WHERE c.user_id = p_user AND c.position > COALESCE(p_since, 0) AND (p_since IS NOT NULL OR b.body IS NOT NULL)
     ORDER BY c.position LIMIT p_limit + 1))
  SELECT NULL::bigint, 'state'::text, NULL::bigint, NULL::text, s.position, s.horizon
  FROM (SELECT 1) one LEFT JOIN sync_state s ON s.user_id = p_user
  UNION ALL
  (SELECT c.position, c.kind, c.id, c.body, NULL::bigint, NULL::bigint FROM changed c ORDER BY c.position LIMIT p_limit + 1)
$$;

-- The statement of GET /changes: a full sync first makes sure the Inbox exists (every user has
-- one), so that the state it reads includes it; then the rows above, in a snapshot of their own
-- (taken after the Inbox was created).
CREATE FUNCTION task_changes(p_user text, p_since bigint, p_limit integer)
RETURNS TABLE (pos bigint, kind text, id bigint, body text, head bigint, horizon bigint)
LANGUAGE plpgsql AS $$
BEGIN
  IF p_since IS NULL THEN
    PERFORM list_inbox(p_user);
  END IF;
  RETURN QUERY SELECT * FROM task_changes_rows(p_user, p_since, p_limit);
END
$$;

-- The statement of GET /lists: the Inbox made sure of, then every list of the user in order
-- (at most 500), then the lists shared with the user (at most 500), by name.
CREATE FUNCTION list_read(p_user text) RETURNS TABLE (id bigint, version integer, body text) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM list_inbox(p_user);
  RETURN QUERY
    (SELECT l.id, l.version, list_json(l, 'owner') FROM lists l WHERE l.user_id = p_user AND l.deleted_at IS NULL ORDER BY l.sort_key)
    UNION ALL
    (SELECT l.id, l.version, list_json(l, m.role) FROM list_members m JOIN lists l ON l.id = m.list_id
     WHERE m.user_id = p_user AND l.deleted_at IS NULL ORDER BY l.name, l.id);
END
$$;

-- Applies `p_ops` for `p_user` in order, all or none (docs/api.md "Batch"); a single write is a
-- list of one. Each operation, as src/db/tasks.ts builds it from validated input:
--   {"op": "create", "task": {every writable field; list_id and parent_id may be absent}}
--   {"op": "update", "id": 42, "task": {the fields to set}, "if_match": [versions] | null}
--   {"op": "complete", "id": 42, "completed": true | false | null (toggle), "if_match": …}
--   {"op": "delete", "id": 41, "if_match": …}
--   {"op": "move", "id": 42, "list_id": 7 | null (its list), "parent_id": 40 | null (top level),
--    "after_id": 43 | null, "before_id": 44 | null (neither: first), "if_match": …}
--   {"op": "restore", "id": 41}
--   {"op": "list_create", "list": {"name", "color"}}
--   {"op": "list_update", "id": 7, "list": {the fields to set}, "if_match": …}
--   {"op": "list_move", "id": 7, "after_id": …, "before_id": …, "if_match": …}
--   {"op": "list_delete", "id": 7, "move_to": 8 | null, "if_match": …}
--   {"op": "list_restore", "id": 7}
--   {"op": "invitation_create", "list_id": 7, "role": "editor" | "viewer", "token_hash": hex, "expires_at": …}
--   {"op": "invitation_revoke", "list_id": 7, "id": 3}
--   {"op": "invitation_accept", "token_hash": hex}
--   {"op": "member_update", "list_id": 7, "user_id": "u2", "role": "owner" | "editor" | "viewer"}
--   {"op": "member_remove", "list_id": 7, "user_id": "u2"}
-- A task's `recurrence` is {"rule", "time_zone", "anchor"} or null.
--
-- Who may: a list and its tasks are there for its members only (list_role; anyone else gets the
-- 404 of a list or task that does not exist); a viewer's writes are refused (403 ":read_only"),
-- and so are an editor's writes of the list itself, its members and invitations (403
-- ":owner_only"). Every task of a list belongs to the list's owner (tasks.user_id); a task moved
-- to a list of another owner becomes theirs. Each write takes positions in the feeds of everyone
-- who sees what it changed (see task_lock_users).
--
-- Where a task goes: a list of the user's (the Inbox when none is named; created on first use),
-- and optionally a parent, a top-level task of that same list (one level deep: a task with
-- subtasks cannot become one). Its order key is last among its new siblings, or where a move's
-- anchors say. Moving a task to another list takes its subtasks along; the id, the version
-- history and the recurrence series stay.
--
-- The trash: deleting a task or a list sets deleted_at (the row stays 30 days, restorable, then
-- the hourly purge removes it); a task's subtasks go with it (deleted_with_task), a list's tasks
-- with the list (deleted_with_list), unless the list's tasks are moved to `move_to` first.
-- Restoring brings back what went with it, in its place: its list (the Inbox if that list is in
-- the trash too), its parent (top level if the parent is gone) and its key (last among its
-- siblings if another took it). Every row written is a change: it takes the next position, so
-- /changes reports it (a deleted row as {"op": "delete"}).
--
-- Completing a recurring occurrence (false to true, not done before: next_id is null) creates the
-- next one in the same statement, right after it in its list. Its due date comes from the
-- Worker, which runs the occurrence math: `p_next` maps an operation's index to {"version": the
-- task's version before it, "due": the next due date, or null when the series is used up}. When
-- it is missing or was computed for another version, nothing is written: the answer is one row per
-- such operation with status 0 and, as its task, what the math needs (the task's recurrence, due
-- date, series start and index, version). The Worker computes and calls again; so a recurring
-- completion costs two statements, and every other write one. 20 clients completing one
-- occurrence at once create one next occurrence: the user's lock orders them, and only the first
-- finds the task not completed.
--
-- Returns one row per operation (status 201, 200 or 204; `task` is the task's or the list's JSON),
-- each with the user's new change position (head), whether someone may be listening on /live
-- (live: a socket was opened within its token's lifetime), and the other users whose feeds the
-- write advanced and who may be listening (others: [[user, head], …]); or the rows of status 0 above; or one
-- row for the failure that stopped it all, with the status it stands for and the operation's
-- index, and a detail after a colon:
--   404 the task (":list": the list) is not there for this user (in the trash, for a restore),
--   412 If-Match failed,
--   422 a field names what is not there or not allowed (":list_id", ":parent_id", ":after_id",
--       ":before_id", ":move_to"), or would leave a recurring task without a due date (":due_date"),
--   409 ":inbox" the Inbox cannot be deleted, ":list_limit" the user has 500 lists already,
--       ":inbox_share" the Inbox cannot be shared, ":member_limit" the list has 100 members,
--       ":invitation_limit" 100 pending invitations, ":already_member", ":owner_leave" the owner
--       cannot leave or be removed (transfer first), ":owner_role" the owner's role changes only
--       by a transfer,
--   403 ":read_only" a viewer's write, ":owner_only" what only the list's owner may do,
--   404 ":invitation" no such pending invitation, ":member" no such member,
--   410 ":used", ":expired", ":revoked" an invitation that can no longer be accepted,
--   503 two writes that share members waited for each other (deadlock_detected): try again,
--   409 the Idempotency-Key's first request is still running (after 2 s of waiting for it),
--   422 with op -1: the Idempotency-Key was used with another request.
-- A failure undoes everything the call wrote before it (the body runs in a subtransaction that
-- the failure rolls back), so a failed write changed nothing, whichever operation failed.
CREATE FUNCTION task_write(p_user text, p_ops jsonb, p_key text, p_hash text, p_next jsonb)
RETURNS TABLE (op integer, status integer, task_id bigint, version integer, task text, head bigint, replayed boolean, live boolean,
               others text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_max_lists constant integer := 500;
  v_max_members constant integer := 100;
  v_role text;
  v_owner text;
  v_sharers text[];
  v_t bigint[];
  v_inv list_invitations;
  v_member text;
  v_others text;
  v_now timestamptz := date_trunc('milliseconds', statement_timestamp());
  v_lock_timeout text;
  v_claimed integer;
  v_stored idempotency_keys;
  v_head bigint;
  v_pos bigint;
  v_inbox bigint;
  v_index integer;
  v_kind text;
  v_op jsonb;
  v_task jsonb;
  v_match integer[];
  v_old tasks;
  v_row tasks;
  v_list lists;
  v_list_row lists;
  v_id bigint;
  v_target_list bigint;
  v_target_parent bigint;
  v_key text;
  v_relocate boolean;
  v_sub record;
  v_recurrence jsonb;
  v_old_recurrence jsonb;
  v_completed boolean;
  v_due timestamptz;
  v_series_id bigint;
  v_series_start timestamptz;
  v_series_index integer;
  v_first boolean;
  v_next jsonb;
  v_next_id bigint;
  v_status integer;
  v_json text;
  v_statuses integer[] := '{}';
  v_ids bigint[] := '{}';
  v_versions integer[] := '{}';
  v_jsons text[] := '{}';
  v_needs jsonb := '[]';
  v_live boolean;
  v_code text;
  v_detail text;
BEGIN
  -- Everything in one block: a failure raises (SQLSTATE TA…), which undoes whatever the block
  -- wrote (a subtransaction), and becomes the answer's one row below.
  BEGIN
  IF p_key IS NOT NULL THEN
    -- Claim the key before anything else: a retry of a request still running waits here, on the
    -- key's row, until that request commits (then it replays its answer) or rolls back (then it
    -- runs). Past 2 seconds of waiting it is told to come back (409).
    v_lock_timeout := current_setting('lock_timeout');
    PERFORM set_config('lock_timeout', '2s', true);
    BEGIN
      INSERT INTO idempotency_keys AS k (user_id, key, request_hash, results, created_at)
      VALUES (p_user, p_key, p_hash, '[]', statement_timestamp())
      ON CONFLICT (user_id, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, results = EXCLUDED.results, created_at = EXCLUDED.created_at
        WHERE k.created_at <= statement_timestamp() - interval '24 hours';
      GET DIAGNOSTICS v_claimed = ROW_COUNT;
    EXCEPTION WHEN lock_not_available THEN
      RAISE EXCEPTION 'the first request with this Idempotency-Key is still running' USING ERRCODE = 'TA409', DETAIL = '0';
    END;
    PERFORM set_config('lock_timeout', v_lock_timeout, true);
    IF v_claimed = 0 THEN
      -- Used before, within 24 hours: the same request gets the same answer, another a 422.
      SELECT * INTO v_stored FROM idempotency_keys k WHERE k.user_id = p_user AND k.key = p_key;
      IF v_stored.request_hash IS DISTINCT FROM p_hash THEN
        RAISE EXCEPTION 'the Idempotency-Key was used with another request' USING ERRCODE = 'TA422', DETAIL = '-1';
      END IF;
      -- The same answer, but never a task or list of a list the caller has left since (removed, or
      -- a transfer of a list they then left): that operation's 404 instead. A list operation's
      -- result id is a list's, and so is that of an accepted invitation or a member's new role
      -- (their answers show the list and a member of it); the other sharing operations answer 204.
      SELECT (r->>'op')::integer, o.of_list INTO v_index, v_first
      FROM jsonb_array_elements(v_stored.results) r,
        LATERAL (SELECT p_ops->((r->>'op')::integer)->>'op' AS kind) k,
        LATERAL (SELECT k.kind LIKE 'list\_%' OR k.kind IN ('invitation_accept', 'member_update') AS of_list) o
      WHERE (r->>'status')::integer IN (200, 201) AND CASE
        WHEN o.of_list THEN EXISTS (SELECT 1 FROM lists l WHERE l.id = (r->>'id')::bigint AND list_role(p_user, l.id) IS NULL)
        WHEN k.kind LIKE 'invitation\_%' OR k.kind LIKE 'member\_%' THEN false
        ELSE EXISTS (SELECT 1 FROM tasks t WHERE t.id = (r->>'id')::bigint AND list_role(p_user, t.list_id) IS NULL) END
      ORDER BY (r->>'op')::integer LIMIT 1;
      IF FOUND THEN
        PERFORM task_fail(v_index, 404, CASE WHEN v_first THEN 'list' END);
      END IF;
      RETURN QUERY
        SELECT (r->>'op')::integer, (r->>'status')::integer, (r->>'id')::bigint, (r->>'version')::integer, r->>'json', NULL::bigint, true, false,
          NULL::text
        FROM jsonb_array_elements(v_stored.results) r;
      RETURN;
    END IF;
  END IF;

  v_head := task_lock_users(p_user, p_ops);
  v_pos := v_head;
  PERFORM set_config('task_api.others', '', true);
  SELECT COALESCE(s.live_until > statement_timestamp(), false) INTO v_live FROM sync_state s WHERE s.user_id = p_user;

  FOR v_index, v_op IN SELECT (o.ordinality - 1)::integer, o.value FROM jsonb_array_elements(p_ops) WITH ORDINALITY o LOOP
    v_kind := v_op->>'op';
    v_task := v_op->'task';
    v_match := CASE WHEN jsonb_typeof(v_op->'if_match') = 'array'
                    THEN ARRAY(SELECT m::integer FROM jsonb_array_elements_text(v_op->'if_match') m) END;
    v_json := NULL;

    IF v_kind LIKE 'list\_%' OR v_kind LIKE 'invitation\_%' OR v_kind LIKE 'member\_%' THEN
      -------------------------------------------------------------------------------- lists
      v_list_row := NULL;
      v_role := 'owner';
      IF v_kind = 'list_create' THEN
        SELECT e.inbox, e.pos INTO v_inbox, v_pos FROM list_ensure_inbox(p_user, v_pos) e;
        IF (SELECT count(*) FROM lists l WHERE l.user_id = p_user AND l.deleted_at IS NULL) >= v_max_lists THEN
          PERFORM task_fail(v_index, 409, 'list_limit');
        END IF;
        v_key := list_key_at(p_user, 0, NULL, NULL, false);
        v_pos := task_next_position(p_user, v_pos);
        INSERT INTO lists (user_id, name, color, sort_key, created_at, updated_at, position)
        VALUES (p_user, v_op->'list'->>'name', v_op->'list'->>'color', v_key, v_now, v_now, v_pos)
        RETURNING * INTO v_list_row;
        v_status := 201;
      ELSIF v_kind = 'invitation_accept' THEN
        SELECT * INTO v_inv FROM list_invitations i WHERE i.token_hash = decode(v_op->>'token_hash', 'hex') FOR UPDATE;
        IF NOT FOUND THEN
          PERFORM task_fail(v_index, 404, 'invitation');
        END IF;
        SELECT * INTO v_list FROM lists l WHERE l.id = v_inv.list_id FOR UPDATE;
        IF v_inv.revoked_at IS NOT NULL OR v_list.deleted_at IS NOT NULL THEN
          PERFORM task_fail(v_index, 410, 'revoked');
        ELSIF v_inv.accepted_at IS NOT NULL THEN
          PERFORM task_fail(v_index, 410, 'used');
        ELSIF v_inv.expires_at <= v_now THEN
          PERFORM task_fail(v_index, 410, 'expired');
        END IF;
        IF list_role(p_user, v_list.id) IS NOT NULL THEN
          PERFORM task_fail(v_index, 409, 'already_member');
        END IF;
        IF (SELECT count(*) FROM list_members m WHERE m.user_id = p_user) >= v_max_lists THEN
          PERFORM task_fail(v_index, 409, 'list_limit');
        END IF;
        IF (SELECT count(*) FROM list_members m WHERE m.list_id = v_list.id) >= v_max_members THEN
          PERFORM task_fail(v_index, 409, 'member_limit');
        END IF;
        INSERT INTO list_members (list_id, user_id, role, created_at) VALUES (v_list.id, p_user, v_inv.role, v_now) RETURNING id INTO v_id;
        UPDATE list_invitations i SET accepted_by = p_user, accepted_at = v_now WHERE i.id = v_inv.id;
        -- Everyone learns of the new membership; the new member, of every membership of the list.
        v_pos := feed_share(p_user, v_pos, 'member', v_id, ARRAY[v_list.user_id] || list_sharers(v_list.id, NULL));
        v_pos := feed_memberships(p_user, v_pos, v_list.id, ARRAY[p_user]);
        -- The list changed for everyone (it is shared now; members see who else is in it); the new
        -- member also gets every task of it, each at a position of their feed.
        v_t := feed_take(p_user, v_pos, v_list.user_id);
        v_pos := v_t[1];
        UPDATE lists l SET version = l.version + 1, updated_at = v_now, position = v_t[2] WHERE l.id = v_list.id RETURNING * INTO v_list_row;
        v_pos := feed_share(p_user, v_pos, 'list', v_list.id, list_sharers(v_list.id, NULL));
        FOR v_sub IN SELECT t.id FROM tasks t WHERE t.list_id = v_list.id AND t.deleted_at IS NULL ORDER BY COALESCE(t.parent_id, 0), t.sort_key LOOP
          v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, ARRAY[p_user]);
        END LOOP;
        v_role := v_inv.role;
        v_status := 200;
      ELSE
        -- The list, for its members only; in the trash only for a restore.
        SELECT * INTO v_list FROM lists l
        WHERE l.id = COALESCE((v_op->>'list_id')::bigint, (v_op->>'id')::bigint)
          AND (l.deleted_at IS NULL) = (v_kind <> 'list_restore') FOR UPDATE;
        v_role := CASE WHEN FOUND THEN list_role(p_user, v_list.id) END;
        IF v_role IS NULL THEN
          PERFORM task_fail(v_index, 404, 'list');
        END IF;
        -- Everything here is the owner's, but a member leaving.
        IF v_role <> 'owner' AND NOT (v_kind = 'member_remove' AND v_op->>'user_id' = p_user) THEN
          PERFORM task_fail(v_index, 403, CASE WHEN v_role = 'viewer' THEN 'read_only' ELSE 'owner_only' END);
        END IF;
        IF v_match IS NOT NULL AND NOT (v_list.version = ANY (v_match)) THEN
          PERFORM task_fail(v_index, 412, NULL);
        END IF;
        v_sharers := list_sharers(v_list.id, NULL);
        IF v_kind = 'list_update' THEN
          v_pos := task_next_position(p_user, v_pos);
          UPDATE lists l SET
            name       = CASE WHEN v_op->'list' ? 'name' THEN v_op->'list'->>'name' ELSE l.name END,
            color      = CASE WHEN v_op->'list' ? 'color' THEN v_op->'list'->>'color' ELSE l.color END,
            updated_at = v_now, version = l.version + 1, position = v_pos
          WHERE l.id = v_list.id RETURNING * INTO v_list_row;
          v_pos := feed_share(p_user, v_pos, 'list', v_list.id, v_sharers);
          v_status := 200;
        ELSIF v_kind = 'list_move' THEN
          v_key := list_key_at(p_user, v_list.id, (v_op->>'after_id')::bigint, (v_op->>'before_id')::bigint, true);
          IF v_key IS NULL THEN
            PERFORM task_fail(v_index, 422, CASE WHEN v_op->>'after_id' IS NOT NULL THEN 'after_id' ELSE 'before_id' END);
          END IF;
          v_pos := task_next_position(p_user, v_pos);
          UPDATE lists l SET sort_key = v_key, updated_at = v_now, version = l.version + 1, position = v_pos
          WHERE l.id = v_list.id RETURNING * INTO v_list_row;
          v_pos := feed_share(p_user, v_pos, 'list', v_list.id, v_sharers);
          IF length(v_key) > order_key_rebalance_length() THEN
            v_pos := list_rebalance(p_user, v_pos);
            SELECT * INTO v_list_row FROM lists l WHERE l.id = v_list.id;
          END IF;
          v_status := 200;
        ELSIF v_kind = 'list_delete' THEN
          IF v_list.inbox THEN
            PERFORM task_fail(v_index, 409, 'inbox');
          END IF;
          v_target_list := (v_op->>'move_to')::bigint;
          IF v_target_list IS NOT NULL THEN
            -- The list's tasks go to the end of another list of the owner's, in their order,
            -- subtasks with them; an assignee who is not a member there is unassigned.
            IF v_target_list = v_list.id OR NOT EXISTS (
              SELECT 1 FROM lists l WHERE l.id = v_target_list AND l.user_id = p_user AND l.deleted_at IS NULL) THEN
              PERFORM task_fail(v_index, 422, 'move_to');
            END IF;
            v_sharers := list_sharers(v_list.id, v_target_list);
            v_key := task_key_at(v_target_list, NULL, 0, NULL, NULL, false);
            FOR v_sub IN SELECT t.id, t.parent_id FROM tasks t WHERE t.list_id = v_list.id AND t.deleted_at IS NULL
                         ORDER BY t.parent_id NULLS FIRST, t.sort_key LOOP
              v_pos := task_next_position(p_user, v_pos);
              UPDATE tasks t SET list_id = v_target_list, sort_key = CASE WHEN v_sub.parent_id IS NULL THEN v_key ELSE t.sort_key END,
                assignee_id = CASE WHEN list_role(t.assignee_id, v_target_list) IS NOT NULL THEN t.assignee_id END,
                updated_at = v_now, version = t.version + 1, position = v_pos
              WHERE t.id = v_sub.id;
              IF v_sub.parent_id IS NULL THEN
                v_key := order_key_between(v_key, NULL);
              END IF;
              v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, v_sharers);
            END LOOP;
          ELSE
            FOR v_sub IN SELECT t.id FROM tasks t WHERE t.list_id = v_list.id AND t.deleted_at IS NULL ORDER BY t.sort_key LOOP
              v_pos := task_next_position(p_user, v_pos);
              UPDATE tasks t SET deleted_at = v_now, deleted_with_list = v_list.id, deleted_with_task = NULL,
                version = t.version + 1, position = v_pos
              WHERE t.id = v_sub.id;
              v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, v_sharers);
            END LOOP;
          END IF;
          v_pos := task_next_position(p_user, v_pos);
          UPDATE lists l SET deleted_at = v_now, version = l.version + 1, position = v_pos
          WHERE l.id = v_list.id RETURNING * INTO v_list_row;
          v_pos := feed_share(p_user, v_pos, 'list', v_list.id, list_sharers(v_list.id, NULL));
          v_pos := feed_memberships(p_user, v_pos, v_list.id, ARRAY[p_user] || list_sharers(v_list.id, NULL));
          v_status := 204;
        ELSIF v_kind = 'list_restore' THEN
          IF (SELECT count(*) FROM lists l WHERE l.user_id = p_user AND l.deleted_at IS NULL) >= v_max_lists THEN
            PERFORM task_fail(v_index, 409, 'list_limit');
          END IF;
          v_key := v_list.sort_key;
          IF EXISTS (SELECT 1 FROM lists l WHERE l.user_id = p_user AND l.deleted_at IS NULL AND l.sort_key = v_key) THEN
            v_key := list_key_at(p_user, v_list.id, NULL, NULL, false);
          END IF;
          v_pos := task_next_position(p_user, v_pos);
          UPDATE lists l SET deleted_at = NULL, sort_key = v_key, updated_at = v_now, version = l.version + 1, position = v_pos
          WHERE l.id = v_list.id RETURNING * INTO v_list_row;
          v_pos := feed_share(p_user, v_pos, 'list', v_list.id, v_sharers);
          v_pos := feed_memberships(p_user, v_pos, v_list.id, ARRAY[p_user] || v_sharers);
          -- Its tasks come back with it, in their places, top level first. A subtask whose parent
          -- is not back in this list (restored on its own before, into the Inbox) comes back at the
          -- top level, last; so does a task whose key was taken meanwhile.
          FOR v_sub IN SELECT t.id, t.parent_id, t.sort_key FROM tasks t
                       WHERE t.deleted_with_list = v_list.id AND t.user_id = p_user AND t.deleted_at IS NOT NULL
                       ORDER BY t.parent_id NULLS FIRST, t.sort_key LOOP
            v_target_parent := v_sub.parent_id;
            IF v_target_parent IS NOT NULL AND NOT EXISTS (
              SELECT 1 FROM tasks t WHERE t.id = v_target_parent AND t.list_id = v_list.id AND t.deleted_at IS NULL AND t.parent_id IS NULL) THEN
              v_target_parent := NULL;
            END IF;
            v_key := v_sub.sort_key;
            IF v_target_parent IS DISTINCT FROM v_sub.parent_id OR EXISTS (
              SELECT 1 FROM tasks t WHERE t.list_id = v_list.id AND COALESCE(t.parent_id, 0) = COALESCE(v_target_parent, 0)
                AND t.deleted_at IS NULL AND t.sort_key = v_key) THEN
              v_key := task_key_at(v_list.id, v_target_parent, v_sub.id, NULL, NULL, false);
            END IF;
            v_pos := task_next_position(p_user, v_pos);
            UPDATE tasks t SET deleted_at = NULL, deleted_with_list = NULL, parent_id = v_target_parent, sort_key = v_key,
              updated_at = v_now, version = t.version + 1, position = v_pos
            WHERE t.id = v_sub.id;
            v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, v_sharers);
          END LOOP;
          v_status := 200;
        ELSIF v_kind = 'invitation_create' THEN
          IF v_list.inbox THEN
            PERFORM task_fail(v_index, 409, 'inbox_share');
          END IF;
          IF (SELECT count(*) FROM list_invitations i WHERE i.list_id = v_list.id AND i.accepted_at IS NULL
                AND i.revoked_at IS NULL AND i.expires_at > v_now) >= v_max_members THEN
            PERFORM task_fail(v_index, 409, 'invitation_limit');
          END IF;
          INSERT INTO list_invitations AS i (list_id, token_hash, role, created_by, created_at, expires_at)
          VALUES (v_list.id, decode(v_op->>'token_hash', 'hex'), v_op->>'role', p_user, v_now, (v_op->>'expires_at')::timestamptz)
          RETURNING * INTO v_inv;
          v_statuses := v_statuses || 201;
          v_ids := v_ids || v_inv.id;
          v_versions := v_versions || 1;
          v_jsons := v_jsons || invitation_json(v_inv);
          CONTINUE;
        ELSIF v_kind = 'invitation_revoke' THEN
          UPDATE list_invitations i SET revoked_at = v_now
          WHERE i.id = (v_op->>'id')::bigint AND i.list_id = v_list.id AND i.accepted_at IS NULL AND i.revoked_at IS NULL
          RETURNING * INTO v_inv;
          IF NOT FOUND THEN
            PERFORM task_fail(v_index, 404, 'invitation');
          END IF;
          v_statuses := v_statuses || 204;
          v_ids := v_ids || v_inv.id;
          v_versions := v_versions || 1;
          v_jsons := v_jsons || NULL::text;
          CONTINUE;
        ELSE
          -- member_update, member_remove: of a member (the owner is one without a row).
          v_member := v_op->>'user_id';
          IF v_member = v_list.user_id AND NOT (v_kind = 'member_update' AND v_op->>'role' = 'owner') THEN
            PERFORM task_fail(v_index, 409, CASE WHEN v_kind = 'member_remove' THEN 'owner_leave' ELSE 'owner_role' END);
          END IF;
          IF v_member <> v_list.user_id THEN
            SELECT m.role INTO v_role FROM list_members m WHERE m.list_id = v_list.id AND m.user_id = v_member FOR UPDATE;
            IF NOT FOUND THEN
              PERFORM task_fail(v_index, 404, 'member');
            END IF;
          END IF;
          IF v_member = v_list.user_id THEN
            -- The owner made the owner: nothing changes.
            NULL;
          ELSIF v_kind = 'member_update' AND v_op->>'role' <> 'owner' THEN
            -- A new role: the list as that member sees it changed, and the membership for everyone.
            UPDATE list_members m SET role = v_op->>'role' WHERE m.list_id = v_list.id AND m.user_id = v_member RETURNING m.id INTO v_id;
            v_pos := feed_share(p_user, v_pos, 'list', v_list.id, ARRAY[v_member]);
            v_pos := feed_share(p_user, v_pos, 'member', v_id, ARRAY[v_list.user_id] || v_sharers);
            v_role := v_op->>'role';
          ELSIF v_kind = 'member_update' THEN
            -- A transfer: the member becomes the owner of the list and of every task in it (the
            -- ones in the trash too), the owner an editor. Each is a change in every member's feed.
            IF (SELECT count(*) FROM lists l WHERE l.user_id = v_member AND l.deleted_at IS NULL) >= v_max_lists THEN
              PERFORM task_fail(v_index, 409, 'list_limit');
            END IF;
            DELETE FROM list_members m WHERE m.list_id = v_list.id AND m.user_id = v_member RETURNING m.id INTO v_id;
            v_pos := feed_share(p_user, v_pos, 'member', v_id, ARRAY[v_list.user_id] || v_sharers);
            INSERT INTO list_members (list_id, user_id, role, created_at) VALUES (v_list.id, v_list.user_id, 'editor', v_now) RETURNING id INTO v_id;
            v_sharers := list_sharers(v_list.id, NULL);
            v_pos := feed_share(p_user, v_pos, 'member', v_id, ARRAY[v_member] || v_sharers);
            v_key := list_key_at(v_member, 0, NULL, NULL, false);
            UPDATE lists l SET user_id = v_member, sort_key = v_key, updated_at = v_now, version = l.version + 1,
              position = feed_next(v_member)
            WHERE l.id = v_list.id;
            DELETE FROM shared_changes c WHERE c.user_id = v_member AND c.kind = 'list' AND c.id = v_list.id;
            v_pos := feed_share(p_user, v_pos, 'list', v_list.id, v_sharers);
            FOR v_sub IN SELECT t.id FROM tasks t WHERE t.list_id = v_list.id ORDER BY t.id LOOP
              UPDATE tasks t SET user_id = v_member, version = t.version + 1, position = feed_next(v_member) WHERE t.id = v_sub.id;
              DELETE FROM shared_changes c WHERE c.user_id = v_member AND c.kind = 'task' AND c.id = v_sub.id;
              v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, v_sharers);
            END LOOP;
            v_role := 'owner';
          ELSE
            -- A removal, or a member leaving: they are unassigned from its tasks, and get a
            -- deletion for the list and each of its tasks (see task_changes_rows); the list
            -- changed for everyone else.
            DELETE FROM list_members m WHERE m.list_id = v_list.id AND m.user_id = v_member RETURNING m.id INTO v_id;
            v_sharers := list_sharers(v_list.id, NULL);
            v_pos := feed_share(p_user, v_pos, 'member', v_id, ARRAY[v_list.user_id] || v_sharers || v_member);
            v_pos := feed_memberships(p_user, v_pos, v_list.id, ARRAY[v_member]);
            FOR v_sub IN SELECT t.id, t.assignee_id FROM tasks t WHERE t.list_id = v_list.id AND t.deleted_at IS NULL
                         ORDER BY COALESCE(t.parent_id, 0), t.sort_key LOOP
              IF v_sub.assignee_id = v_member THEN
                v_t := feed_take(p_user, v_pos, v_list.user_id);
                v_pos := v_t[1];
                UPDATE tasks t SET assignee_id = NULL, updated_at = v_now, version = t.version + 1, position = v_t[2] WHERE t.id = v_sub.id;
                v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, v_sharers);
              END IF;
              v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, ARRAY[v_member]);
            END LOOP;
            v_t := feed_take(p_user, v_pos, v_list.user_id);
            v_pos := v_t[1];
            UPDATE lists l SET version = l.version + 1, updated_at = v_now, position = v_t[2] WHERE l.id = v_list.id;
            v_pos := feed_share(p_user, v_pos, 'list', v_list.id, v_sharers || v_member);
            v_statuses := v_statuses || 204;
            v_ids := v_ids || v_list.id;
            v_versions := v_versions || 1;
            v_jsons := v_jsons || NULL::text;
            CONTINUE;
          END IF;
          v_statuses := v_statuses || 200;
          v_ids := v_ids || v_list.id;
          v_versions := v_versions || 1;
          v_jsons := v_jsons || member_json(v_list.id, v_member);
          CONTINUE;
        END IF;
      END IF;
      v_id := v_list_row.id;
      v_json := CASE WHEN v_status = 204 THEN NULL ELSE list_json(v_list_row, v_role) END;
      v_statuses := v_statuses || v_status;
      v_ids := v_ids || v_id;
      v_versions := v_versions || v_list_row.version;
      v_jsons := v_jsons || v_json;
      CONTINUE;
    END IF;

    -------------------------------------------------------------------------------- tasks
    IF v_kind = 'create' THEN
      -- Where it goes: its parent's list, the list named, or the Inbox; last among its siblings.
      v_target_parent := (v_task->>'parent_id')::bigint;
      v_target_list := (v_task->>'list_id')::bigint;
      IF v_target_parent IS NOT NULL THEN
        SELECT * INTO v_old FROM tasks t WHERE t.id = v_target_parent AND t.deleted_at IS NULL AND t.parent_id IS NULL
          AND list_role(p_user, t.list_id) IS NOT NULL;
        IF NOT FOUND OR v_old.list_id IS DISTINCT FROM COALESCE(v_target_list, v_old.list_id) THEN
          PERFORM task_fail(v_index, 422, 'parent_id');
        END IF;
        v_target_list := v_old.list_id;
      ELSIF v_target_list IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM lists l WHERE l.id = v_target_list AND l.deleted_at IS NULL AND list_role(p_user, l.id) IS NOT NULL) THEN
          PERFORM task_fail(v_index, 422, 'list_id');
        END IF;
      ELSE
        IF v_inbox IS NULL THEN
          SELECT e.inbox, e.pos INTO v_inbox, v_pos FROM list_ensure_inbox(p_user, v_pos) e;
        END IF;
        v_target_list := v_inbox;
      END IF;
      v_owner := (SELECT l.user_id FROM lists l WHERE l.id = v_target_list);
      IF v_owner <> p_user AND list_role(p_user, v_target_list) = 'viewer' THEN
        PERFORM task_fail(v_index, 403, 'read_only');
      END IF;
      IF v_task->>'assignee_id' IS NOT NULL AND list_role(v_task->>'assignee_id', v_target_list) IS NULL THEN
        PERFORM task_fail(v_index, 422, 'assignee_id');
      END IF;
      v_key := task_key_at(v_target_list, v_target_parent, 0, NULL, NULL, false);
      v_t := feed_take(p_user, v_pos, v_owner);
      v_pos := v_t[1];
      v_id := nextval(pg_get_serial_sequence('tasks', 'id'));
      v_recurrence := NULLIF(v_task->'recurrence', 'null'::jsonb);
      INSERT INTO tasks (id, user_id, title, description, completed, completed_at, priority, tags, due_date, created_at, updated_at, position,
                         recurrence_rule, recurrence_zone, recurrence_anchor, series_id, series_start, series_index,
                         list_id, parent_id, sort_key, created_by, assignee_id)
      OVERRIDING SYSTEM VALUE
      VALUES (
        v_id, v_owner, v_task->>'title', v_task->>'description', (v_task->>'completed')::boolean,
        CASE WHEN (v_task->>'completed')::boolean THEN v_now END, (v_task->>'priority')::task_priority,
        ARRAY(SELECT jsonb_array_elements_text(v_task->'tags')), (v_task->>'due_date')::timestamptz, v_now, v_now, v_t[2],
        v_recurrence->>'rule', v_recurrence->>'time_zone', v_recurrence->>'anchor',
        CASE WHEN v_recurrence IS NOT NULL THEN v_id END,
        CASE WHEN v_recurrence IS NOT NULL THEN (v_task->>'due_date')::timestamptz END,
        CASE WHEN v_recurrence IS NOT NULL THEN 1 END,
        v_target_list, v_target_parent, v_key, p_user, v_task->>'assignee_id')
      RETURNING * INTO v_row;
      v_pos := feed_share(p_user, v_pos, 'task', v_id, list_sharers(v_target_list, NULL));
      IF length(v_key) > order_key_rebalance_length() THEN
        v_pos := task_rebalance(p_user, v_target_list, v_target_parent, v_pos);
        SELECT * INTO v_row FROM tasks t WHERE t.id = v_id;
      END IF;
      v_status := 201;
    ELSIF v_kind = 'restore' THEN
      SELECT * INTO v_old FROM tasks t WHERE t.id = (v_op->>'id')::bigint AND t.deleted_at IS NOT NULL FOR UPDATE;
      v_role := CASE WHEN FOUND THEN list_role(p_user, v_old.list_id) END;
      IF v_role IS NULL THEN
        PERFORM task_fail(v_index, 404, NULL);
      ELSIF v_role = 'viewer' THEN
        PERFORM task_fail(v_index, 403, 'read_only');
      END IF;
      -- Under its parent when that is still there (in the parent's list, wherever it moved since);
      -- else at the top level of its list, or of the Inbox when the list is in the trash too.
      SELECT t.id, t.list_id INTO v_target_parent, v_target_list FROM tasks t
      WHERE t.id = v_old.parent_id AND t.deleted_at IS NULL AND t.parent_id IS NULL AND list_role(p_user, t.list_id) IN ('owner', 'editor');
      IF v_target_parent IS NULL THEN
        v_target_list := v_old.list_id;
        -- A list in the trash: into the Inbox of the one restoring it.
        IF NOT EXISTS (SELECT 1 FROM lists l WHERE l.id = v_target_list AND l.deleted_at IS NULL) THEN
          SELECT e.inbox, e.pos INTO v_inbox, v_pos FROM list_ensure_inbox(p_user, v_pos) e;
          v_target_list := v_inbox;
        END IF;
      END IF;
      v_key := v_old.sort_key;
      IF v_target_list <> v_old.list_id OR v_target_parent IS DISTINCT FROM v_old.parent_id OR EXISTS (
        SELECT 1 FROM tasks t WHERE t.list_id = v_target_list AND COALESCE(t.parent_id, 0) = COALESCE(v_target_parent, 0)
          AND t.deleted_at IS NULL AND t.sort_key = v_key) THEN
        v_key := task_key_at(v_target_list, v_target_parent, v_old.id, NULL, NULL, false);
      END IF;
      v_owner := (SELECT l.user_id FROM lists l WHERE l.id = v_target_list);
      v_sharers := array_remove(list_sharers(v_old.list_id, v_target_list)
                                || CASE WHEN v_owner <> v_old.user_id THEN ARRAY[v_old.user_id] ELSE '{}' END, v_owner);
      v_t := feed_take(p_user, v_pos, v_owner);
      v_pos := v_t[1];
      UPDATE tasks t SET deleted_at = NULL, deleted_with_task = NULL, deleted_with_list = NULL, list_id = v_target_list,
        user_id = v_owner, parent_id = v_target_parent, sort_key = v_key,
        assignee_id = CASE WHEN list_role(t.assignee_id, v_target_list) IS NOT NULL THEN t.assignee_id END,
        updated_at = v_now, version = t.version + 1, position = v_t[2]
      WHERE t.id = v_old.id RETURNING * INTO v_row;
      DELETE FROM shared_changes c WHERE c.user_id = v_owner AND c.kind = 'task' AND c.id = v_old.id;
      v_pos := feed_share(p_user, v_pos, 'task', v_old.id, v_sharers);
      -- The subtasks that went to the trash with it come back with it, in its list: deleted with
      -- it, or with its list at the same time as it.
      FOR v_sub IN SELECT t.id FROM tasks t
                   WHERE t.user_id = v_old.user_id AND t.deleted_at IS NOT NULL
                     AND (t.deleted_with_task = v_old.id
                          OR (t.parent_id = v_old.id AND v_old.deleted_with_list IS NOT NULL AND t.deleted_with_list = v_old.deleted_with_list))
                   ORDER BY t.sort_key LOOP
        v_t := feed_take(p_user, v_pos, v_owner);
        v_pos := v_t[1];
        UPDATE tasks t SET deleted_at = NULL, deleted_with_task = NULL, deleted_with_list = NULL, list_id = v_target_list, user_id = v_owner,
          assignee_id = CASE WHEN list_role(t.assignee_id, v_target_list) IS NOT NULL THEN t.assignee_id END,
          updated_at = v_now, version = t.version + 1, position = v_t[2]
        WHERE t.id = v_sub.id;
        DELETE FROM shared_changes c WHERE c.user_id = v_owner AND c.kind = 'task' AND c.id = v_sub.id;
        v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, v_sharers);
      END LOOP;
      v_status := 200;
    ELSE
      -- The task of a list the user is a member of: another user's task is "not there", like a
      -- missing one; so is a task in the trash. A viewer may not write it.
      SELECT * INTO v_old FROM tasks t WHERE t.id = (v_op->>'id')::bigint AND t.deleted_at IS NULL FOR UPDATE;
      v_role := CASE WHEN FOUND THEN list_role(p_user, v_old.list_id) END;
      IF v_role IS NULL THEN
        PERFORM task_fail(v_index, 404, NULL);
      ELSIF v_role = 'viewer' THEN
        PERFORM task_fail(v_index, 403, 'read_only');
      END IF;
      v_sharers := list_sharers(v_old.list_id, NULL);
      IF v_match IS NOT NULL AND NOT (v_old.version = ANY (v_match)) THEN
        PERFORM task_fail(v_index, 412, NULL);
      END IF;

      IF v_kind = 'delete' THEN
        -- Into the trash, its subtasks with it.
        FOR v_sub IN SELECT t.id FROM tasks t WHERE t.parent_id = v_old.id AND t.deleted_at IS NULL ORDER BY t.sort_key LOOP
          v_t := feed_take(p_user, v_pos, v_old.user_id);
          v_pos := v_t[1];
          UPDATE tasks t SET deleted_at = v_now, deleted_with_task = v_old.id, version = t.version + 1, position = v_t[2]
          WHERE t.id = v_sub.id;
          v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, v_sharers);
        END LOOP;
        v_t := feed_take(p_user, v_pos, v_old.user_id);
        v_pos := v_t[1];
        UPDATE tasks t SET deleted_at = v_now, deleted_with_task = NULL, deleted_with_list = NULL, version = t.version + 1, position = v_t[2]
        WHERE t.id = v_old.id RETURNING * INTO v_row;
        v_pos := feed_share(p_user, v_pos, 'task', v_old.id, v_sharers);
        v_status := 204;
      ELSE
        -- A move, or an update that names another list or parent: where the task goes.
        IF v_kind = 'move' THEN
          v_relocate := true;
          v_target_list := COALESCE((v_op->>'list_id')::bigint, v_old.list_id);
          v_target_parent := (v_op->>'parent_id')::bigint;
        ELSIF v_kind = 'update' AND ((v_task ? 'list_id' AND (v_task->>'list_id')::bigint IS DISTINCT FROM v_old.list_id)
                                  OR (v_task ? 'parent_id' AND (v_task->>'parent_id')::bigint IS DISTINCT FROM v_old.parent_id)) THEN
          v_relocate := true;
          v_target_list := COALESCE((v_task->>'list_id')::bigint, v_old.list_id);
          v_target_parent := CASE WHEN v_task ? 'parent_id' THEN (v_task->>'parent_id')::bigint
                                  WHEN v_target_list = v_old.list_id THEN v_old.parent_id END;
        ELSE
          v_relocate := false;
        END IF;
        v_key := v_old.sort_key;
        IF v_relocate THEN
          v_role := (SELECT list_role(p_user, l.id) FROM lists l WHERE l.id = v_target_list AND l.deleted_at IS NULL);
          IF v_role IS NULL THEN
            PERFORM task_fail(v_index, 422, 'list_id');
          ELSIF v_role = 'viewer' THEN
            PERFORM task_fail(v_index, 403, 'read_only');
          END IF;
          IF v_target_parent IS NOT NULL AND (v_target_parent = v_old.id OR NOT EXISTS (
              SELECT 1 FROM tasks t WHERE t.id = v_target_parent AND t.list_id = v_target_list
                AND t.deleted_at IS NULL AND t.parent_id IS NULL)
            OR EXISTS (SELECT 1 FROM tasks t WHERE t.parent_id = v_old.id AND t.deleted_at IS NULL)) THEN
            -- Not a top-level task of that list, or this task has subtasks of its own: one level deep.
            PERFORM task_fail(v_index, 422, 'parent_id');
          END IF;
          v_key := task_key_at(v_target_list, v_target_parent, v_old.id, (v_op->>'after_id')::bigint, (v_op->>'before_id')::bigint,
                               v_kind = 'move');
          IF v_key IS NULL THEN
            PERFORM task_fail(v_index, 422, CASE WHEN v_op->>'after_id' IS NOT NULL THEN 'after_id' ELSE 'before_id' END);
          END IF;
        ELSE
          v_target_list := v_old.list_id;
          v_target_parent := v_old.parent_id;
        END IF;
        -- Its owner is its list's; an assignee must be a member there (one who is not is unassigned
        -- by a move).
        v_owner := (SELECT l.user_id FROM lists l WHERE l.id = v_target_list);
        IF v_task ? 'assignee_id' AND v_task->>'assignee_id' IS NOT NULL AND list_role(v_task->>'assignee_id', v_target_list) IS NULL THEN
          PERFORM task_fail(v_index, 422, 'assignee_id');
        END IF;

        IF v_kind = 'complete' THEN
          v_task := jsonb_build_object('completed', COALESCE((v_op->>'completed')::boolean, NOT v_old.completed));
        ELSIF v_kind = 'move' THEN
          v_task := '{}';
        END IF;
        -- The task as this operation leaves it, before anything is written.
        v_completed := CASE WHEN v_task ? 'completed' THEN (v_task->>'completed')::boolean ELSE v_old.completed END;
        v_due := CASE WHEN v_task ? 'due_date' THEN (v_task->>'due_date')::timestamptz ELSE v_old.due_date END;
        v_old_recurrence := CASE WHEN v_old.recurrence_rule IS NOT NULL THEN jsonb_build_object(
          'rule', v_old.recurrence_rule, 'time_zone', v_old.recurrence_zone, 'anchor', v_old.recurrence_anchor) END;
        v_recurrence := CASE WHEN v_task ? 'recurrence' THEN NULLIF(v_task->'recurrence', 'null'::jsonb) ELSE v_old_recurrence END;
        -- The series: a rule set or changed applies from this occurrence on (its occurrences are
        -- counted from here), and so does a new due date of a series' first occurrence.
        IF v_recurrence IS NULL THEN
          v_series_id := NULL; v_series_start := NULL; v_series_index := NULL;
        ELSIF v_recurrence IS DISTINCT FROM v_old_recurrence THEN
          v_series_id := COALESCE(v_old.series_id, v_old.id); v_series_start := v_due; v_series_index := 1;
        ELSIF v_old.series_index = 1 AND v_due IS DISTINCT FROM v_old.due_date THEN
          v_series_id := v_old.series_id; v_series_start := v_due; v_series_index := 1;
        ELSE
          v_series_id := v_old.series_id; v_series_start := v_old.series_start; v_series_index := v_old.series_index;
        END IF;
        v_first := v_completed AND NOT v_old.completed AND v_recurrence IS NOT NULL AND v_old.next_id IS NULL;
        v_next := CASE WHEN v_first THEN p_next->(v_index::text) END;
        IF v_recurrence IS NOT NULL AND v_due IS NULL THEN
          PERFORM task_fail(v_index, 422, 'due_date');
        END IF;
        IF v_first AND (v_next IS NULL OR (v_next->>'version')::integer IS DISTINCT FROM v_old.version) THEN
          -- A recurring occurrence completed for the first time, and no next due date for it yet.
          v_needs := v_needs || jsonb_build_object(
            'op', v_index, 'version', v_old.version, 'recurrence', v_recurrence,
            'due_date', to_char(v_due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'series_start', to_char(v_series_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'series_index', v_series_index);
          -- Go on to learn every operation's need; all of it is undone at the end.
          v_next := NULL;
        END IF;
        v_t := feed_take(p_user, v_pos, v_owner);
        v_pos := v_t[1];
        v_next_id := NULL;
        IF v_next->>'due' IS NOT NULL THEN
          -- The next occurrence: the same task, due when the rule says, in the same series.
          v_next_id := nextval(pg_get_serial_sequence('tasks', 'id'));
        END IF;
        UPDATE tasks t SET
          title        = CASE WHEN v_task ? 'title' THEN v_task->>'title' ELSE t.title END,
          description  = CASE WHEN v_task ? 'description' THEN v_task->>'description' ELSE t.description END,
          completed    = v_completed,
          completed_at = CASE WHEN NOT v_task ? 'completed' THEN t.completed_at WHEN v_completed THEN COALESCE(t.completed_at, v_now) END,
          priority     = CASE WHEN v_task ? 'priority' THEN (v_task->>'priority')::task_priority ELSE t.priority END,
          tags         = CASE WHEN v_task ? 'tags' THEN ARRAY(SELECT jsonb_array_elements_text(v_task->'tags')) ELSE t.tags END,
          due_date     = v_due,
          recurrence_rule   = v_recurrence->>'rule',
          recurrence_zone   = v_recurrence->>'time_zone',
          recurrence_anchor = v_recurrence->>'anchor',
          series_id    = v_series_id,
          series_start = v_series_start,
          series_index = v_series_index,
          next_id      = COALESCE(t.next_id, v_next_id),
          list_id      = v_target_list,
          parent_id    = v_target_parent,
          sort_key     = v_key,
          user_id      = v_owner,
          assignee_id  = CASE WHEN v_task ? 'assignee_id' THEN v_task->>'assignee_id'
                              WHEN list_role(t.assignee_id, v_target_list) IS NOT NULL THEN t.assignee_id END,
          updated_at   = v_now,
          version      = t.version + 1,
          position     = v_t[2]
        WHERE t.id = v_old.id
        RETURNING * INTO v_row;
        IF v_target_list <> v_old.list_id THEN
          -- Everyone who saw it in its old list or sees it in the new one; its old owner, when the
          -- new list is someone else's (the new owner's feed has it as their own now).
          v_sharers := array_remove(list_sharers(v_old.list_id, v_target_list)
                                    || CASE WHEN v_owner <> v_old.user_id THEN ARRAY[v_old.user_id] ELSE '{}' END, v_owner);
          DELETE FROM shared_changes c WHERE c.user_id = v_owner AND c.kind = 'task' AND c.id = v_old.id;
        END IF;
        v_pos := feed_share(p_user, v_pos, 'task', v_old.id, v_sharers);
        IF v_relocate AND v_target_list <> v_old.list_id THEN
          -- Its subtasks go with it.
          FOR v_sub IN SELECT t.id FROM tasks t WHERE t.parent_id = v_old.id AND t.deleted_at IS NULL ORDER BY t.sort_key LOOP
            v_t := feed_take(p_user, v_pos, v_owner);
            v_pos := v_t[1];
            UPDATE tasks t SET list_id = v_target_list, user_id = v_owner,
              assignee_id = CASE WHEN list_role(t.assignee_id, v_target_list) IS NOT NULL THEN t.assignee_id END,
              updated_at = v_now, version = t.version + 1, position = v_t[2]
            WHERE t.id = v_sub.id;
            DELETE FROM shared_changes c WHERE c.user_id = v_owner AND c.kind = 'task' AND c.id = v_sub.id;
            v_pos := feed_share(p_user, v_pos, 'task', v_sub.id, v_sharers);
          END LOOP;
        END IF;
        IF v_next_id IS NOT NULL THEN
          -- Right after the completed occurrence among its siblings.
          v_key := task_key_at(v_row.list_id, v_row.parent_id, v_next_id, v_row.id, NULL, false);
          v_t := feed_take(p_user, v_pos, v_owner);
          v_pos := v_t[1];
          INSERT INTO tasks (id, user_id, title, description, priority, tags, due_date, created_at, updated_at, position,
                             recurrence_rule, recurrence_zone, recurrence_anchor, series_id, series_start, series_index,
                             list_id, parent_id, sort_key, created_by, assignee_id)
          OVERRIDING SYSTEM VALUE
          VALUES (v_next_id, v_owner, v_row.title, v_row.description, v_row.priority, v_row.tags, (v_next->>'due')::timestamptz,
                  v_now, v_now, v_t[2], v_row.recurrence_rule, v_row.recurrence_zone, v_row.recurrence_anchor,
                  v_row.series_id, v_row.series_start, v_row.series_index + 1, v_row.list_id, v_row.parent_id, v_key,
                  v_row.created_by, v_row.assignee_id);
          v_pos := feed_share(p_user, v_pos, 'task', v_next_id, list_sharers(v_row.list_id, NULL));
        END IF;
        IF length(v_key) > order_key_rebalance_length() THEN
          v_pos := task_rebalance(p_user, v_row.list_id, v_row.parent_id, v_pos);
          SELECT * INTO v_row FROM tasks t WHERE t.id = v_old.id;
        END IF;
        v_status := 200;
      END IF;
    END IF;

    v_statuses := v_statuses || v_status;
    v_ids := v_ids || v_row.id;
    v_versions := v_versions || v_row.version;
    v_jsons := v_jsons || CASE WHEN v_status = 204 THEN NULL ELSE v_row.body END;
  END LOOP;

  IF jsonb_array_length(v_needs) > 0 THEN
    -- The next occurrences' due dates are needed: undo whatever was done and ask for them.
    RAISE EXCEPTION 'next occurrences needed' USING ERRCODE = 'TANXT', DETAIL = v_needs::text;
  END IF;

  -- The new head; GREATEST keeps it from going back whatever task_next_position does.
  UPDATE sync_state s SET position = GREATEST(s.position, v_pos) WHERE s.user_id = p_user AND v_pos > v_head;
  -- The others whose feeds moved, and who may be listening.
  SELECT jsonb_agg(jsonb_build_array(s.user_id, s.position))::text INTO v_others FROM sync_state s
  WHERE s.user_id IN (SELECT jsonb_array_elements_text(COALESCE(NULLIF(current_setting('task_api.others', true), ''), '[]')::jsonb))
    AND s.user_id <> p_user AND s.live_until > statement_timestamp();

  IF p_key IS NOT NULL THEN
    UPDATE idempotency_keys k SET results = (
      SELECT jsonb_agg(jsonb_build_object('op', r.i - 1, 'status', r.s, 'id', r.d, 'version', r.v, 'json', r.j) ORDER BY r.i)
      FROM unnest(v_statuses, v_ids, v_versions, v_jsons) WITH ORDINALITY AS r(s, d, v, j, i))
    WHERE k.user_id = p_user AND k.key = p_key;
  END IF;
  EXCEPTION WHEN deadlock_detected THEN
    RETURN QUERY SELECT 0, 503, NULL::bigint, NULL::integer, NULL::text, NULL::bigint, false, false, NULL::text;
    RETURN;
  WHEN SQLSTATE 'TA000' THEN
    -- A failure (TA + its status, DETAIL "index" or "index:detail"), or next due dates needed (TANXT).
    GET STACKED DIAGNOSTICS v_code = RETURNED_SQLSTATE, v_detail = PG_EXCEPTION_DETAIL;
    IF v_code = 'TANXT' THEN
      RETURN QUERY SELECT (n->>'op')::integer, 0, NULL::bigint, NULL::integer, n::text, NULL::bigint, false, false, NULL::text
        FROM jsonb_array_elements(v_detail::jsonb) n;
    ELSE
      RETURN QUERY SELECT split_part(v_detail, ':', 1)::integer, substr(v_code, 3)::integer, NULL::bigint, NULL::integer,
        NULLIF(split_part(v_detail, ':', 2), ''), NULL::bigint, false, false, NULL::text;
    END IF;
    RETURN;
  END;

  RETURN QUERY
    SELECT (r.i - 1)::integer, r.s, r.d, r.v, r.j, v_pos, false, v_live, v_others
    FROM unnest(v_statuses, v_ids, v_versions, v_jsons) WITH ORDINALITY AS r(s, d, v, j, i)
    ORDER BY r.i;
END
$$;

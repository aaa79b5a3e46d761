-- The database's half of the task writes and the task's JSON. Every write of the API (create,
-- PUT, PATCH, complete, delete, and each operation of a batch) is one call of task_write, one
-- statement: ownership, If-Match, Idempotency-Key, the change position and the tombstone are all
-- decided here, in the order of the operations, in one transaction.
--
-- This file is the current definition, not a migration: scripts/lib/migrate.ts applies it after
-- the migrations every time, in one transaction (dropped and created again), so that it always
-- matches the code that calls it. Tables and columns change only in migrations/.

DROP FUNCTION IF EXISTS task_write(text, jsonb, text, text);
DROP FUNCTION IF EXISTS task_write(text, jsonb, text, text, jsonb);
DROP FUNCTION IF EXISTS task_lock_user(text);
DROP FUNCTION IF EXISTS task_next_position(text, bigint);
DROP FUNCTION IF EXISTS task_json(tasks);
DROP TYPE IF EXISTS task_view;
DROP TYPE IF EXISTS recurrence_view;

-- The task as the API returns it (API.md "The task"): these field names, in this order.
-- Timestamps are RFC 3339 in UTC with milliseconds and a Z.
CREATE TYPE recurrence_view AS (rule text, time_zone text, anchor text);
CREATE TYPE task_view AS (
  id bigint, user_id text, title text, description text, completed boolean, completed_at text,
  priority task_priority, tags text[], due_date text, created_at text, updated_at text, version integer,
  recurrence recurrence_view, series_id bigint, next_id bigint
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
    t.series_id, t.next_id
  )::task_view)::text
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

-- Applies `p_ops` for `p_user` in order, all or none (API.md "Batch"); a single write is a list
-- of one. Each operation, as src/db/tasks.ts builds it from validated input:
--   {"op": "create", "task": {every writable field}}
--   {"op": "update", "id": 42, "task": {the fields to set}, "if_match": [versions] | null}
--   {"op": "complete", "id": 42, "completed": true | false | null (toggle), "if_match": …}
--   {"op": "delete", "id": 41, "if_match": …}
-- A task's `recurrence` is {"rule", "time_zone", "anchor"} or null.
--
-- Completing a recurring occurrence (false to true, not done before: next_id is null) creates the
-- next one in the same statement. Its due date comes from the Worker, which runs the occurrence
-- math: `p_next` maps an operation's index to {"version": the task's version before it, "due":
-- the next due date, or null when the series is used up}. When it is missing or was computed for
-- another version, nothing is written: the answer is one row per such operation with status 0
-- and, as its task, what the math needs (the task's recurrence, due date, series start and index,
-- version). The Worker computes and calls again; so a recurring completion costs two statements,
-- and every other write one. 20 clients completing one occurrence at once create one next
-- occurrence: the user's lock orders them, and only the first finds the task not completed.
--
-- Returns one row per operation (status 201, 200 or 204), each with the user's new change
-- position (head) and whether someone may be listening on /live (live: a socket was opened
-- within its token's lifetime); or the rows of status 0 above; or one row for the failure that
-- stopped it all, with the status it stands for and the operation's index:
--   404 the task is not there for this user, 412 If-Match failed,
--   422 the operation would leave a recurring task without a due date (task: "due_date"),
--   409 the Idempotency-Key's first request is still running (after 2 s of waiting for it),
--   422 with op -1: the Idempotency-Key was used with another request.
-- A failure undoes everything the call wrote before it (the body runs in a subtransaction that
-- the failure rolls back), so a failed write changed nothing, whichever operation failed.
CREATE FUNCTION task_write(p_user text, p_ops jsonb, p_key text, p_hash text, p_next jsonb)
RETURNS TABLE (op integer, status integer, task_id bigint, version integer, task text, head bigint, replayed boolean, live boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now timestamptz := date_trunc('milliseconds', statement_timestamp());
  v_lock_timeout text;
  v_claimed integer;
  v_stored idempotency_keys;
  v_head bigint;
  v_pos bigint;
  v_index integer;
  v_op jsonb;
  v_task jsonb;
  v_match integer[];
  v_old tasks;
  v_row tasks;
  v_id bigint;
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
  v_failure text;
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
      RETURN QUERY
        SELECT (r->>'op')::integer, (r->>'status')::integer, (r->>'id')::bigint, (r->>'version')::integer, r->>'json', NULL::bigint, true, false
        FROM jsonb_array_elements(v_stored.results) r;
      RETURN;
    END IF;
  END IF;

  v_head := task_lock_user(p_user);
  v_pos := v_head;
  SELECT COALESCE(s.live_until > statement_timestamp(), false) INTO v_live FROM sync_state s WHERE s.user_id = p_user;

  FOR v_index, v_op IN SELECT (o.ordinality - 1)::integer, o.value FROM jsonb_array_elements(p_ops) WITH ORDINALITY o LOOP
    v_task := v_op->'task';
    v_match := CASE WHEN jsonb_typeof(v_op->'if_match') = 'array'
                    THEN ARRAY(SELECT m::integer FROM jsonb_array_elements_text(v_op->'if_match') m) END;
    v_failure := NULL;

    IF v_op->>'op' = 'create' THEN
      v_pos := task_next_position(p_user, v_pos);
      v_id := nextval(pg_get_serial_sequence('tasks', 'id'));
      v_recurrence := NULLIF(v_task->'recurrence', 'null'::jsonb);
      INSERT INTO tasks (id, user_id, title, description, completed, completed_at, priority, tags, due_date, created_at, updated_at, position,
                         recurrence_rule, recurrence_zone, recurrence_anchor, series_id, series_start, series_index)
      OVERRIDING SYSTEM VALUE
      VALUES (
        v_id, p_user, v_task->>'title', v_task->>'description', (v_task->>'completed')::boolean,
        CASE WHEN (v_task->>'completed')::boolean THEN v_now END, (v_task->>'priority')::task_priority,
        ARRAY(SELECT jsonb_array_elements_text(v_task->'tags')), (v_task->>'due_date')::timestamptz, v_now, v_now, v_pos,
        v_recurrence->>'rule', v_recurrence->>'time_zone', v_recurrence->>'anchor',
        CASE WHEN v_recurrence IS NOT NULL THEN v_id END,
        CASE WHEN v_recurrence IS NOT NULL THEN (v_task->>'due_date')::timestamptz END,
        CASE WHEN v_recurrence IS NOT NULL THEN 1 END)
      RETURNING * INTO v_row;
      v_status := 201;
    ELSE
      -- The owner is in the WHERE: another user's task is "not there", like a missing one.
      SELECT * INTO v_old FROM tasks t WHERE t.id = (v_op->>'id')::bigint AND t.user_id = p_user FOR UPDATE;
      v_status := CASE WHEN NOT FOUND THEN 404 WHEN v_match IS NOT NULL AND NOT (v_old.version = ANY (v_match)) THEN 412 END;
      IF v_status IS NULL AND v_op->>'op' = 'delete' THEN
        v_pos := task_next_position(p_user, v_pos);
        DELETE FROM tasks t WHERE t.id = v_old.id;
        INSERT INTO task_tombstones (user_id, position, task_id, deleted_at) VALUES (p_user, v_pos, v_old.id, v_now);
        v_row := v_old;
        v_status := 204;
      ELSIF v_status IS NULL THEN
        IF v_op->>'op' = 'complete' THEN
          v_task := jsonb_build_object('completed', COALESCE((v_op->>'completed')::boolean, NOT v_old.completed));
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
          v_status := 422;
          v_failure := 'due_date';
        ELSIF v_first AND (v_next IS NULL OR (v_next->>'version')::integer IS DISTINCT FROM v_old.version) THEN
          -- A recurring occurrence completed for the first time, and no next due date for it yet.
          v_needs := v_needs || jsonb_build_object(
            'op', v_index, 'version', v_old.version, 'recurrence', v_recurrence,
            'due_date', to_char(v_due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'series_start', to_char(v_series_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'series_index', v_series_index);
          -- Go on to learn every operation's need; all of it is undone at the end.
          v_next := NULL;
        END IF;
        IF v_status IS NULL THEN
          v_pos := task_next_position(p_user, v_pos);
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
            updated_at   = v_now,
            version      = t.version + 1,
            position     = v_pos
          WHERE t.id = v_old.id
          RETURNING * INTO v_row;
          IF v_next_id IS NOT NULL THEN
            v_pos := task_next_position(p_user, v_pos);
            INSERT INTO tasks (id, user_id, title, description, priority, tags, due_date, created_at, updated_at, position,
                               recurrence_rule, recurrence_zone, recurrence_anchor, series_id, series_start, series_index)
            OVERRIDING SYSTEM VALUE
            VALUES (v_next_id, p_user, v_row.title, v_row.description, v_row.priority, v_row.tags, (v_next->>'due')::timestamptz,
                    v_now, v_now, v_pos, v_row.recurrence_rule, v_row.recurrence_zone, v_row.recurrence_anchor,
                    v_row.series_id, v_row.series_start, v_row.series_index + 1);
          END IF;
          v_status := 200;
        END IF;
      END IF;
      IF v_status NOT IN (200, 204) THEN
        RAISE EXCEPTION 'operation % failed with %', v_index, v_status
          USING ERRCODE = 'TA' || v_status, DETAIL = v_index::text || COALESCE(':' || v_failure, '');
      END IF;
    END IF;

    v_statuses := v_statuses || v_status;
    v_ids := v_ids || v_row.id;
    v_versions := v_versions || v_row.version;
    v_jsons := v_jsons || CASE WHEN v_status = 204 THEN NULL ELSE task_json(v_row) END;
  END LOOP;

  IF jsonb_array_length(v_needs) > 0 THEN
    -- The next occurrences' due dates are needed: undo whatever was done and ask for them.
    RAISE EXCEPTION 'next occurrences needed' USING ERRCODE = 'TANXT', DETAIL = v_needs::text;
  END IF;

  -- The new head; GREATEST keeps it from going back whatever task_next_position does.
  UPDATE sync_state s SET position = GREATEST(s.position, v_pos) WHERE s.user_id = p_user AND v_pos > v_head;

  IF p_key IS NOT NULL THEN
    UPDATE idempotency_keys k SET results = (
      SELECT jsonb_agg(jsonb_build_object('op', r.i - 1, 'status', r.s, 'id', r.d, 'version', r.v, 'json', r.j) ORDER BY r.i)
      FROM unnest(v_statuses, v_ids, v_versions, v_jsons) WITH ORDINALITY AS r(s, d, v, j, i))
    WHERE k.user_id = p_user AND k.key = p_key;
  END IF;
  EXCEPTION WHEN SQLSTATE 'TA000' THEN
    -- A failure (TA + its status, DETAIL "index" or "index:path"), or next due dates needed (TANXT).
    GET STACKED DIAGNOSTICS v_code = RETURNED_SQLSTATE, v_detail = PG_EXCEPTION_DETAIL;
    IF v_code = 'TANXT' THEN
      RETURN QUERY SELECT (n->>'op')::integer, 0, NULL::bigint, NULL::integer, n::text, NULL::bigint, false, false
        FROM jsonb_array_elements(v_detail::jsonb) n;
    ELSE
      RETURN QUERY SELECT split_part(v_detail, ':', 1)::integer, substr(v_code, 3)::integer, NULL::bigint, NULL::integer,
        NULLIF(split_part(v_detail, ':', 2), ''), NULL::bigint, false, false;
    END IF;
    RETURN;
  END;

  RETURN QUERY
    SELECT (r.i - 1)::integer, r.s, r.d, r.v, r.j, v_pos, false, v_live
    FROM unnest(v_statuses, v_ids, v_versions, v_jsons) WITH ORDINALITY AS r(s, d, v, j, i)
    ORDER BY r.i;
END
$$;

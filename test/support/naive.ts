// The classic trap of a change feed, swapped into a scratch database by the convergence tests
// (test/sync.test.ts, test/sync-shared.test.ts) to show that their checks catch it: the two
// functions that hold the position design (src/db/functions.sql) replaced by no lock on the user's
// counter, and a number from a sequence taken inside the statement, with the statement's other
// work after it (a sleep of up to 100 ms stands in for it; a busy machine's slow statements) so
// that a later number can commit first.
/** No lock on the user's counter (the naive order design of test/order.test.ts has it too). */
export const NO_USER_LOCK = `
  CREATE OR REPLACE FUNCTION task_lock_user(p_user text) RETURNS bigint LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO sync_state (user_id) VALUES (p_user) ON CONFLICT (user_id) DO NOTHING;
    RETURN 0;
  END $$;`;

export const NAIVE_POSITIONS = `
  CREATE SEQUENCE naive_positions;
  ${NO_USER_LOCK}
  CREATE OR REPLACE FUNCTION task_next_position(p_user text, p_last bigint) RETURNS bigint LANGUAGE plpgsql AS $$
  DECLARE v bigint := nextval('naive_positions');
  BEGIN
    PERFORM pg_sleep(random() * 0.1);
    RETURN v;
  END $$;`;

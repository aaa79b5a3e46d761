-- Up Migration

-- The server cancels any statement of this role after 5 seconds, before the Worker's own
-- 6-second query timeout, so a request that answers 503 had no effect. Set on the role (the
-- one Hyperdrive connects as) because Hyperdrive pools in transaction mode and does not carry
-- per-connection settings.
DO $$ BEGIN
  EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', current_user, '5s');
END $$;

-- Down Migration

DO $$ BEGIN
  EXECUTE format('ALTER ROLE %I RESET statement_timeout', current_user);
END $$;

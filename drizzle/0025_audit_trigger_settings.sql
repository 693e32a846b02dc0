-- The trail's trigger functions without a setting of their own on the hot path. A function's SET
-- is applied and undone on every call: `plan_cache_mode = auto` (0024) cost the stamping trigger
-- about 0.03 ms of a single-row audit insert's 0.15 ms (pgbench, synchronous_commit off). The
-- server's sessions now keep PostgreSQL's default plan_cache_mode (only the trail's searches are
-- planned for their values, sent unnamed: src/db/database.ts), so the functions' statements keep
-- their plans without it. The backstop's functions keep `search_path`, which SECURITY DEFINER needs.
--
-- The stamping function tests the common case alone: its owner lookup, a query the function
-- planned anew for each row, runs only for a row about a database session.
CREATE OR REPLACE FUNCTION "audit_logs_stamp_server_values"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Tested first on its own: only a row about a database session needs the owner looked up.
  IF NEW.details ? 'database' THEN
    IF current_user <> pg_catalog.pg_get_userbyid((SELECT relowner FROM pg_catalog.pg_class WHERE oid = TG_RELID)) THEN
      RAISE EXCEPTION 'only the audit backstop may write a row about a database session'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  NEW.id := pg_catalog.nextval(pg_catalog.format('%I.audit_logs_id_seq', TG_TABLE_SCHEMA)::regclass);
  NEW.occurred_at := pg_catalog.now();
  NEW.xact_id := pg_catalog.pg_current_xact_id();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
ALTER FUNCTION "audit_backstop_write"(text, jsonb, jsonb, text) RESET plan_cache_mode;

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
--> statement-breakpoint
-- The marks of unclaimed changes name the kind of change too. A statement can fire more than one
-- statement trigger of a table — INSERT … ON CONFLICT DO UPDATE, MERGE, data-modifying CTEs —
-- and, with one mark for all its kinds, the first trigger to fire took it and recorded its own
-- kind's records only: the others found no mark and recorded nothing. Marks never outlive their
-- transaction, so the table is empty here.
ALTER TABLE "audit_backstop_unclaimed" ADD COLUMN "operation" text NOT NULL;
--> statement-breakpoint
ALTER TABLE "audit_backstop_unclaimed" DROP CONSTRAINT "audit_backstop_unclaimed_pkey", ADD PRIMARY KEY ("xact", "statement_at", "table_oid", "operation");
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "audit_backstop_mark"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO audit_backstop_unclaimed (table_oid, operation) VALUES (TG_RELID, TG_OP) ON CONFLICT DO NOTHING;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_backstop_mark() SET search_path = %I, pg_temp', current_schema());
END;
$$;
--> statement-breakpoint
-- Each statement trigger takes the mark of its own kind of change; its declaration, a JSON
-- argument, is read only for a statement it records.
CREATE OR REPLACE FUNCTION "audit_backstop_record"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  config jsonb;
  id_column text;
  owner_column text;
  changes jsonb;
BEGIN
  -- Every change of this kind the statement made claimed as it happened: the API writes the row.
  IF TG_OP <> 'TRUNCATE' THEN
    DELETE FROM audit_backstop_unclaimed
    WHERE xact = pg_catalog.pg_current_xact_id() AND statement_at = pg_catalog.statement_timestamp()
      AND table_oid = TG_RELID AND operation = TG_OP;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
  END IF;
  -- The declaration is read only for a statement the backstop records, not for the API's own.
  config := TG_ARGV[0]::jsonb;
  id_column := config ->> 'id';
  owner_column := config ->> 'owner';
  IF TG_OP = 'INSERT' THEN
    changes := audit_backstop_wholes((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(n)) FROM new_records n), config, 'after');
    PERFORM audit_backstop_write('create', config, changes, NULL);
  ELSIF TG_OP = 'DELETE' THEN
    changes := audit_backstop_wholes((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(o)) FROM old_records o), config, 'before');
    PERFORM audit_backstop_write('delete', config, changes, NULL);
  ELSIF TG_OP = 'UPDATE' THEN
    -- Paired by id; a record whose id itself changed reads as one removed and one added.
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'id', coalesce(a ->> id_column, b ->> id_column),
             'owners', (SELECT pg_catalog.jsonb_agg(DISTINCT owner) FROM (VALUES (b ->> owner_column), (a ->> owner_column)) AS o(owner) WHERE owner IS NOT NULL),
             'detail', CASE WHEN a IS NULL THEN pg_catalog.jsonb_build_object('before', audit_backstop_snapshot(b, config))
                            WHEN b IS NULL THEN pg_catalog.jsonb_build_object('after', audit_backstop_snapshot(a, config))
                            ELSE pg_catalog.jsonb_build_object('changes', audit_backstop_changes(b, a, config)) END))
      INTO changes
    FROM (SELECT pg_catalog.to_jsonb(o) AS b FROM old_records o) AS before_rows
    FULL JOIN (SELECT pg_catalog.to_jsonb(n) AS a FROM new_records n) AS after_rows ON b -> id_column = a -> id_column;
    PERFORM audit_backstop_write('update', config, changes, NULL);
  ELSE
    EXECUTE pg_catalog.format('SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t)) FROM %I.%I t', TG_TABLE_SCHEMA, TG_TABLE_NAME)
      INTO changes;
    changes := audit_backstop_wholes(changes, config, 'before');
    PERFORM audit_backstop_write('delete', config, changes, 'TRUNCATE');
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_backstop_record() SET search_path = %I, pg_temp', current_schema());
END;
$$;
--> statement-breakpoint
-- At commit, no mark may be left: a change the backstop noted as unclaimed but no statement
-- trigger recorded (none should remain: this holds the backstop to it) does not commit.
CREATE FUNCTION "audit_backstop_unrecorded"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM FROM audit_backstop_unclaimed
  WHERE xact = NEW.xact AND statement_at = NEW.statement_at AND table_oid = NEW.table_oid AND operation = NEW.operation;
  IF FOUND THEN
    RAISE EXCEPTION 'a change of an audited record was neither claimed by the API as it happened nor recorded by the database'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_backstop_unrecorded() SET search_path = %I, pg_temp', current_schema());
END;
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "audit_backstop_unclaimed_recorded" AFTER INSERT ON "audit_backstop_unclaimed"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "audit_backstop_unrecorded"();
--> statement-breakpoint
ALTER TABLE "audit_backstop_unclaimed" ENABLE ALWAYS TRIGGER "audit_backstop_unclaimed_recorded";

-- Marks of unclaimed changes name each record, its kind of change and the row changed (its md5),
-- and are made by an AFTER ROW trigger, whose WHEN is still evaluated as each record changes. With
-- one mark per statement, a statement that fires more than one statement trigger of a table
-- (INSERT … ON CONFLICT DO UPDATE, MERGE, data-modifying CTEs) had its first trigger take it and
-- the others record nothing; and a statement run inside another — by a function in its RETURNING,
-- or by a trigger of a temporary table its CTE writes, both within the serving role's reach —
-- starts when the outer one did, took the outer one's mark and recorded only its own records.
-- Each statement trigger now takes the marks of the rows in its own transition tables; a record
-- marked twice for one statement start (changed again by a statement run inside the one changing
-- it) is refused, as is a statement claimed by the time it ends that holds marks of its rows, and a
-- commit that still holds a mark. The AFTER trigger marks only records the statement did change
-- (not an INSERT … ON CONFLICT's skipped rows). Marks never outlive their transaction, so the
-- table is empty here.
ALTER TABLE "audit_backstop_unclaimed" ADD COLUMN "operation" text NOT NULL, ADD COLUMN "record" text NOT NULL, ADD COLUMN "fingerprint" text NOT NULL;
--> statement-breakpoint
ALTER TABLE "audit_backstop_unclaimed" DROP CONSTRAINT "audit_backstop_unclaimed_pkey", ADD PRIMARY KEY ("xact", "statement_at", "table_oid", "operation", "record");
--> statement-breakpoint
-- A row's mark: the md5 of its text under fixed settings. Its text otherwise follows the session's
-- (TimeZone, DateStyle, IntervalStyle, float digits …), which the session may change between the
-- mark and the statement trigger, so that another row prints as the marked one did.
CREATE FUNCTION "audit_backstop_fingerprint"(row_value anyelement) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
SET "TimeZone" = 'UTC' SET "DateStyle" = 'ISO, YMD' SET "IntervalStyle" = 'postgres' SET "extra_float_digits" = 3
SET "bytea_output" = 'hex' SET "lc_monetary" = 'C'
AS $$ SELECT pg_catalog.md5(row_value::text) $$;
--> statement-breakpoint
-- Each table's mark function is generated for it (npm run db:backstop), reading the record's id.
CREATE OR REPLACE FUNCTION "items_audit_backstop_mark"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO audit_backstop_unclaimed (table_oid, operation, record, fingerprint)
  VALUES (TG_RELID, TG_OP, CASE TG_OP WHEN 'INSERT' THEN pg_catalog.to_jsonb(NEW."id") #>> '{}' ELSE pg_catalog.to_jsonb(OLD."id") #>> '{}' END,
          audit_backstop_fingerprint(CASE TG_OP WHEN 'INSERT' THEN NEW ELSE OLD END))
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'a record of an audited table was changed again, outside the API, by a statement run inside the one changing it'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION %I() SET search_path = %I, pg_temp', 'items_audit_backstop_mark', current_schema());
END;
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION "items_audit_backstop_mark"() FROM PUBLIC;
--> statement-breakpoint
DROP TRIGGER "items_audit_backstop_mark" ON "items";
--> statement-breakpoint
CREATE TRIGGER "items_audit_backstop_mark" AFTER INSERT OR UPDATE OR DELETE ON "items"
  FOR EACH ROW
  WHEN (pg_catalog.current_setting('audit.api_change', true) IS DISTINCT FROM pg_catalog.md5(pg_catalog.current_query()))
  EXECUTE FUNCTION "items_audit_backstop_mark"('{"type":"item","id":"id","owner":"owner_id","columns":[{"column":"id","field":"id","as":"text","sensitive":false,"diffed":false},{"column":"owner_id","field":"ownerId","as":"text","sensitive":false,"diffed":true},{"column":"title","field":"title","as":"text","sensitive":false,"diffed":true},{"column":"description","field":"description","as":"text","sensitive":false,"diffed":true},{"column":"created_at","field":"createdAt","as":"date","sensitive":false,"diffed":false},{"column":"updated_at","field":"updatedAt","as":"date","sensitive":false,"diffed":false}]}');
--> statement-breakpoint
ALTER TABLE "items" ENABLE ALWAYS TRIGGER "items_audit_backstop_mark";
--> statement-breakpoint
-- Every resource now has its own.
DROP FUNCTION "audit_backstop_mark"();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "audit_backstop_record"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  config jsonb;
  id_column text;
  owner_column text;
  changes jsonb;
BEGIN
  -- Every change of this kind claimed as it happened (no mark): the API writes the row.
  IF TG_OP <> 'TRUNCATE' THEN
    PERFORM FROM audit_backstop_unclaimed
    WHERE xact = pg_catalog.pg_current_xact_id() AND statement_at = pg_catalog.statement_timestamp()
      AND table_oid = TG_RELID AND operation = TG_OP
    LIMIT 1;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
  END IF;
  -- The declaration is read only for a statement the backstop may record, not for the API's own.
  config := TG_ARGV[0]::jsonb;
  id_column := config ->> 'id';
  owner_column := config ->> 'owner';
  -- This statement's own marks: those of the rows in its transition tables (an INSERT's new rows,
  -- an UPDATE's or DELETE's old ones), by id and content. A statement run inside it shares its
  -- start, not them: it sees a record the outer one changed as that one left it.
  IF TG_OP = 'INSERT' THEN
    DELETE FROM audit_backstop_unclaimed
    WHERE xact = pg_catalog.pg_current_xact_id() AND statement_at = pg_catalog.statement_timestamp()
      AND table_oid = TG_RELID AND operation = TG_OP
      AND (record, fingerprint) IN (SELECT pg_catalog.to_jsonb(n) ->> id_column, audit_backstop_fingerprint(n) FROM new_records n);
  ELSIF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
    DELETE FROM audit_backstop_unclaimed
    WHERE xact = pg_catalog.pg_current_xact_id() AND statement_at = pg_catalog.statement_timestamp()
      AND table_oid = TG_RELID AND operation = TG_OP
      AND (record, fingerprint) IN (SELECT pg_catalog.to_jsonb(o) ->> id_column, audit_backstop_fingerprint(o) FROM old_records o);
  END IF;
  IF TG_OP <> 'TRUNCATE' AND NOT FOUND THEN
    RETURN NULL;
  END IF;
  -- A statement claimed as the API's by the time it ends, holding marks of its own records: it
  -- claimed itself only after changing them (in its RETURNING, say), or it ran inside a statement
  -- that changed them unclaimed and would record as its own, empty, change what that one did. The
  -- API sets its claim before its statement and never within it: refused.
  IF pg_catalog.current_setting('audit.api_change', true) IS NOT DISTINCT FROM pg_catalog.md5(pg_catalog.current_query()) THEN
    RAISE EXCEPTION 'a statement claimed as the API''s changed records it had not claimed when it changed them'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
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
CREATE FUNCTION "audit_backstop_unrecorded"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM FROM audit_backstop_unclaimed
  WHERE xact = NEW.xact AND statement_at = NEW.statement_at AND table_oid = NEW.table_oid
    AND operation = NEW.operation AND record = NEW.record;
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

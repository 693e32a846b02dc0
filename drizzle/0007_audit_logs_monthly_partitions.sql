-- audit_logs becomes range-partitioned by month (UTC), so that retention can drop a whole month at
-- once (`npm run audit:retention`) instead of deleting rows, which nothing may do. drizzle-kit
-- generated only the primary key change (a partitioned table's keys must include occurred_at); the
-- conversion is hand-written: PostgreSQL cannot partition an existing table in place, so the rows
-- are copied into a new partitioned table with the same columns, in this migration's transaction.
-- Copying takes about a minute per few million rows; the trail is locked meanwhile.

ALTER TABLE "audit_logs" RENAME TO "audit_logs_unpartitioned";--> statement-breakpoint
ALTER SEQUENCE "audit_logs_id_seq" RENAME TO "audit_logs_unpartitioned_id_seq";--> statement-breakpoint

CREATE TABLE "audit_logs" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "audit_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"user_id" text,
	"user_role" text,
	"action" text NOT NULL,
	"resource_type" text,
	"resource_id" text,
	"outcome" text NOT NULL,
	"admin_bypass" boolean DEFAULT false NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_id" text,
	"operation_name" text,
	"ip" text,
	"user_agent" text,
	"resource_ids" text[] DEFAULT '{}' NOT NULL,
	"owner_ids" text[] DEFAULT '{}' NOT NULL,
	CONSTRAINT "audit_logs_outcome_check" CHECK ("audit_logs"."outcome" in ('success', 'denied', 'error'))
) PARTITION BY RANGE ("occurred_at");--> statement-breakpoint

-- Month partitions are named audit_logs_YYYY_MM and cover [first of the month, first of the next)
-- in UTC. Each gets its own TRUNCATE guard: truncating a partition does not fire the parent's.
-- Only the owner may run this (EXECUTE is revoked from PUBLIC below).
CREATE FUNCTION "audit_logs_create_partitions"("from_time" timestamptz, "to_time" timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  month_start timestamp := date_trunc('month', from_time AT TIME ZONE 'UTC');
  schema_name text := (SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.oid = 'audit_logs'::regclass);
  partition_name text;
  created integer := 0;
BEGIN
  WHILE month_start AT TIME ZONE 'UTC' < to_time LOOP
    partition_name := 'audit_logs_' || to_char(month_start, 'YYYY_MM');
    IF pg_catalog.to_regclass(pg_catalog.format('%I.%I', schema_name, partition_name)) IS NULL THEN
      EXECUTE pg_catalog.format('CREATE TABLE %I.%I PARTITION OF %I.audit_logs FOR VALUES FROM (%L) TO (%L)',
        schema_name, partition_name, schema_name,
        month_start AT TIME ZONE 'UTC', (month_start + interval '1 month') AT TIME ZONE 'UTC');
      -- A superuser may create months too; they still belong to the trail's owner.
      EXECUTE pg_catalog.format('ALTER TABLE %I.%I OWNER TO %I', schema_name, partition_name,
        (SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class WHERE oid = 'audit_logs'::regclass));
      EXECUTE pg_catalog.format(
        'CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.audit_logs_reject_change()',
        schema_name, partition_name, schema_name);
      created := created + 1;
    END IF;
    month_start := month_start + interval '1 month';
  END LOOP;
  RETURN created;
END;
$$;--> statement-breakpoint

-- Where the months made ahead end: the first of the month four months from now, so that this month
-- and the next three exist.
CREATE FUNCTION "audit_logs_months_ahead_end"() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT (pg_catalog.date_trunc('month', pg_catalog.now() AT TIME ZONE 'UTC') + interval '4 months') AT TIME ZONE 'UTC'
$$;--> statement-breakpoint

-- What the serving role calls (at start and hourly) so that writes never meet a missing month:
-- the current month and the next three. SECURITY DEFINER: it creates tables as the owner, and can
-- create nothing else. The advisory lock lets replicas call it at the same moment.
CREATE FUNCTION "audit_logs_ensure_partitions"() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(74656802);
  RETURN audit_logs_create_partitions(pg_catalog.now(), audit_logs_months_ahead_end());
END;
$$;--> statement-breakpoint

-- Fresh statistics without autovacuum, which some servers run without: every month changed by more
-- than 10% (and 1,000 rows) since it was last analyzed is analyzed again, and its GIN pending list
-- (rows listing records, not yet merged into the index, which every lookup scans) is merged. The
-- serving role calls it hourly; where autovacuum runs it is usually a no-op. Replicas calling it at
-- once skip while another does the work.
CREATE FUNCTION "audit_logs_refresh_statistics"() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  schema_name text := (SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.oid = 'audit_logs'::regclass);
  month record;
  refreshed integer := 0;
BEGIN
  IF NOT pg_catalog.pg_try_advisory_xact_lock(74656803) THEN
    RETURN 0;
  END IF;
  FOR month IN
    SELECT c.oid, c.relname FROM pg_catalog.pg_inherits i
    JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'audit_logs'::regclass
      AND pg_catalog.pg_stat_get_mod_since_analyze(c.oid) > 1000 + 0.1 * greatest(c.reltuples, 0)
  LOOP
    EXECUTE pg_catalog.format('ANALYZE %I.%I', schema_name, month.relname);
    PERFORM pg_catalog.gin_clean_pending_list(ix.indexrelid) FROM pg_catalog.pg_index ix
      JOIN pg_catalog.pg_class ic ON ic.oid = ix.indexrelid JOIN pg_catalog.pg_am am ON am.oid = ic.relam
      WHERE ix.indrelid = month.oid AND am.amname = 'gin';
    refreshed := refreshed + 1;
  END LOOP;
  RETURN refreshed;
END;
$$;--> statement-breakpoint

-- A SECURITY DEFINER function must not resolve names through its caller's search_path (a caller's
-- temporary table or function could stand in for ours): pin both to this schema, pg_temp last.
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_logs_ensure_partitions() SET search_path = %I, pg_temp', current_schema());
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_logs_create_partitions(timestamptz, timestamptz) SET search_path = %I, pg_temp', current_schema());
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_logs_refresh_statistics() SET search_path = %I, pg_temp', current_schema());
END;
$$;--> statement-breakpoint
REVOKE ALL ON FUNCTION "audit_logs_create_partitions"(timestamptz, timestamptz) FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION "audit_logs_ensure_partitions"() FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION "audit_logs_refresh_statistics"() FROM PUBLIC;--> statement-breakpoint

-- The months the existing rows fall in, and the ones ahead.
SELECT audit_logs_create_partitions(coalesce((SELECT min("occurred_at") FROM "audit_logs_unpartitioned"), now()), audit_logs_months_ahead_end());--> statement-breakpoint

INSERT INTO "audit_logs" OVERRIDING SYSTEM VALUE SELECT * FROM "audit_logs_unpartitioned";--> statement-breakpoint
SELECT setval('audit_logs_id_seq', greatest((SELECT max("id") FROM "audit_logs"), 0) + 1, false);--> statement-breakpoint

-- Whoever could read or append to the old table (the serving role) may do the same with the new
-- one and its sequence, may create the months ahead and refresh their statistics.
DO $$
DECLARE
  grant_row record;
BEGIN
  FOR grant_row IN
    SELECT DISTINCT grantee, privilege_type FROM information_schema.role_table_grants
    WHERE table_schema = current_schema() AND table_name = 'audit_logs_unpartitioned'
      AND grantee <> (SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class WHERE oid = 'audit_logs_unpartitioned'::regclass)
  LOOP
    EXECUTE pg_catalog.format('GRANT %s ON audit_logs TO %I', grant_row.privilege_type, grant_row.grantee);
    IF grant_row.privilege_type = 'INSERT' THEN
      EXECUTE pg_catalog.format('GRANT USAGE ON SEQUENCE audit_logs_id_seq TO %I', grant_row.grantee);
      EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION audit_logs_ensure_partitions() TO %I', grant_row.grantee);
      EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION audit_logs_refresh_statistics() TO %I', grant_row.grantee);
    END IF;
  END LOOP;
END;
$$;--> statement-breakpoint

DROP TABLE "audit_logs_unpartitioned";--> statement-breakpoint

ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_id_occurred_at_pk" PRIMARY KEY("id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_logs_occurred_at_idx" ON "audit_logs" USING btree ("occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_user_idx" ON "audit_logs" USING btree ("user_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_action_idx" ON "audit_logs" USING btree ("action","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_resource_idx" ON "audit_logs" USING btree ("resource_type","resource_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_resource_ids_idx" ON "audit_logs" USING gin ("resource_ids") WHERE cardinality("audit_logs"."resource_ids") > 0;--> statement-breakpoint
CREATE INDEX "audit_logs_outcome_idx" ON "audit_logs" USING btree ("outcome","occurred_at","id") WHERE "audit_logs"."outcome" in ('denied', 'error');--> statement-breakpoint
CREATE INDEX "audit_logs_request_idx" ON "audit_logs" USING btree ("request_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_admin_bypass_idx" ON "audit_logs" USING btree ("occurred_at","id") WHERE "audit_logs"."admin_bypass";--> statement-breakpoint

-- The stamping trigger (0005), now run on the partition a row was routed to: the identity sequence
-- is the parent's, so it is found by the parent's name. A row inserted with a chosen occurred_at
-- is refused (the stamped time would belong to another partition, or there is none for it).
CREATE OR REPLACE FUNCTION "audit_logs_stamp_server_values"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.id := pg_catalog.nextval(
    pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.audit_logs', TG_TABLE_SCHEMA), 'id'));
  NEW.occurred_at := pg_catalog.now();
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "audit_logs_stamp_server_values"
  BEFORE INSERT ON "audit_logs"
  FOR EACH ROW EXECUTE FUNCTION "audit_logs_stamp_server_values"();--> statement-breakpoint
CREATE TRIGGER "audit_logs_no_update_or_delete"
  BEFORE UPDATE OR DELETE ON "audit_logs"
  FOR EACH ROW EXECUTE FUNCTION "audit_logs_reject_change"();--> statement-breakpoint
CREATE TRIGGER "audit_logs_no_truncate"
  BEFORE TRUNCATE ON "audit_logs"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_logs_reject_change"();

-- The rollups auditStats reads (README: Dashboards) count sealed rows: each seal adds the counts of
-- the rows in its window [from_xact, horizon), in the seal's own transaction. Seals are append-only
-- and numbered, so every sealed row is counted exactly once, and no unsealed row ever is.
-- One scan of the window (the xact_id index) feeds the three rollups; buckets are UTC hours and days,
-- which nest in the UTC months retention drops.
CREATE FUNCTION "audit_stats_roll_up"(from_xact xid8, horizon xid8) RETURNS void
LANGUAGE sql AS $$
  WITH window_counts AS MATERIALIZED (
    SELECT pg_catalog.date_trunc('hour', occurred_at, 'UTC') AS hour, user_id, action, outcome, user_role,
           resource_type, admin_bypass, count(*) AS count
    FROM audit_logs
    WHERE xact_id >= from_xact AND xact_id < horizon
    GROUP BY 1, 2, 3, 4, 5, 6, 7
  ), hourly AS (
    INSERT INTO audit_stats_hourly AS s (bucket_start, action, outcome, user_role, resource_type, admin_bypass, count)
    SELECT hour, action, outcome, user_role, resource_type, admin_bypass, sum(count)
    FROM window_counts GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ON CONSTRAINT audit_stats_hourly_key DO UPDATE SET count = s.count + excluded.count
  ), daily AS (
    INSERT INTO audit_stats_daily AS s (bucket_start, action, outcome, user_role, resource_type, admin_bypass, count)
    SELECT pg_catalog.date_trunc('day', hour, 'UTC'), action, outcome, user_role, resource_type, admin_bypass, sum(count)
    FROM window_counts GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ON CONSTRAINT audit_stats_daily_key DO UPDATE SET count = s.count + excluded.count
  )
  INSERT INTO audit_stats_user_daily AS s (bucket_start, user_id, action, outcome, user_role, resource_type, admin_bypass, count)
  SELECT pg_catalog.date_trunc('day', hour, 'UTC'), user_id, action, outcome, user_role, resource_type, admin_bypass, sum(count)
  FROM window_counts GROUP BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT ON CONSTRAINT audit_stats_user_daily_key DO UPDATE SET count = s.count + excluded.count;
$$;
--> statement-breakpoint
-- SECURITY DEFINER: the sealer runs as the serving role, which may only read the rollups, so it can
-- neither write counts of its choosing nor roll up a window twice; the trigger does it as the owner.
CREATE FUNCTION "audit_stats_roll_up_seal"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM audit_stats_roll_up(NEW.from_xact, NEW.horizon);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_stats_roll_up_seal"
  AFTER INSERT ON "audit_seals"
  FOR EACH ROW EXECUTE FUNCTION "audit_stats_roll_up_seal"();
--> statement-breakpoint
-- As for the partition functions (0007): names resolve in this schema only, never the caller's.
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_stats_roll_up(xid8, xid8) SET search_path = %I, pg_temp', current_schema());
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_stats_roll_up_seal() SET search_path = %I, pg_temp', current_schema());
END;
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION "audit_stats_roll_up"(xid8, xid8) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION "audit_stats_roll_up_seal"() FROM PUBLIC;
--> statement-breakpoint
-- The rows sealed before this migration: every seal's window, from the first to the head's horizon.
SELECT audit_stats_roll_up('0'::xid8, horizon) FROM audit_seals ORDER BY sequence DESC LIMIT 1;

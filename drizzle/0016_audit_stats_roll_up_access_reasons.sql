-- The rollups count by the reason code requests stated too (auditStats groups by it): the function
-- each seal runs now carries access_reason through to the three rollups. Same signature, same
-- owner and grants, so the trigger (0011) and its SECURITY DEFINER wrapper keep calling it; the
-- search_path is set again below, since CREATE OR REPLACE resets what the command does not say.
CREATE OR REPLACE FUNCTION "audit_stats_roll_up"(from_xact xid8, horizon xid8) RETURNS void
LANGUAGE sql AS $$
  WITH window_counts AS MATERIALIZED (
    SELECT pg_catalog.date_trunc('hour', occurred_at, 'UTC') AS hour, user_id, action, outcome, user_role,
           resource_type, admin_bypass, access_reason, count(*) AS count
    FROM audit_logs
    WHERE xact_id >= from_xact AND xact_id < horizon
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  ), hourly AS (
    INSERT INTO audit_stats_hourly AS s (bucket_start, action, outcome, user_role, resource_type, admin_bypass, access_reason, count)
    SELECT hour, action, outcome, user_role, resource_type, admin_bypass, access_reason, sum(count)
    FROM window_counts GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT audit_stats_hourly_key DO UPDATE SET count = s.count + excluded.count
  ), daily AS (
    INSERT INTO audit_stats_daily AS s (bucket_start, action, outcome, user_role, resource_type, admin_bypass, access_reason, count)
    SELECT pg_catalog.date_trunc('day', hour, 'UTC'), action, outcome, user_role, resource_type, admin_bypass, access_reason, sum(count)
    FROM window_counts GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT audit_stats_daily_key DO UPDATE SET count = s.count + excluded.count
  )
  INSERT INTO audit_stats_user_daily AS s (bucket_start, user_id, action, outcome, user_role, resource_type, admin_bypass, access_reason, count)
  SELECT pg_catalog.date_trunc('day', hour, 'UTC'), user_id, action, outcome, user_role, resource_type, admin_bypass, access_reason, sum(count)
  FROM window_counts GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  ON CONFLICT ON CONSTRAINT audit_stats_user_daily_key DO UPDATE SET count = s.count + excluded.count;
$$;
--> statement-breakpoint
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_stats_roll_up(xid8, xid8) SET search_path = %I, pg_temp', current_schema());
END;
$$;

-- The server's sessions have every statement planned for its values (plan_cache_mode =
-- force_custom_plan, src/db/database.ts), and a session's setting reaches the statements the
-- trail's trigger functions run for it, which would then be planned anew on every row: the check
-- of a claimed change (a query of the partitioned trail) took 1.4 ms to plan, each time. Their
-- statements' values are the trigger's own, not a filter's, so the plan kept for them serves.
-- A CREATE OR REPLACE of one of these functions drops this setting: repeat it after.
ALTER FUNCTION "audit_logs_stamp_server_values"() SET plan_cache_mode = auto;
--> statement-breakpoint
ALTER FUNCTION "audit_backstop_mark"() SET plan_cache_mode = auto;
--> statement-breakpoint
ALTER FUNCTION "audit_backstop_record"() SET plan_cache_mode = auto;
--> statement-breakpoint
ALTER FUNCTION "audit_backstop_write"(text, jsonb, jsonb, text) SET plan_cache_mode = auto;
--> statement-breakpoint
ALTER FUNCTION "audit_backstop_check_claim"() SET plan_cache_mode = auto;

-- Ascending indexes read backwards serve ORDER BY occurred_at DESC, id DESC as the DESC ones did, and
-- take new rows at their right end (90/10 page splits): smaller, cheaper to maintain on append.
DROP INDEX "audit_logs_occurred_at_idx";--> statement-breakpoint
DROP INDEX "audit_logs_user_idx";--> statement-breakpoint
DROP INDEX "audit_logs_action_idx";--> statement-breakpoint
DROP INDEX "audit_logs_resource_idx";--> statement-breakpoint
DROP INDEX "audit_logs_outcome_idx";--> statement-breakpoint
DROP INDEX "audit_logs_request_idx";--> statement-breakpoint
DROP INDEX "audit_logs_admin_bypass_idx";--> statement-breakpoint
CREATE INDEX "audit_logs_occurred_at_idx" ON "audit_logs" USING btree ("occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_user_idx" ON "audit_logs" USING btree ("user_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_action_idx" ON "audit_logs" USING btree ("action","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_resource_idx" ON "audit_logs" USING btree ("resource_type","resource_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_outcome_idx" ON "audit_logs" USING btree ("outcome","occurred_at","id") WHERE "audit_logs"."outcome" in ('denied', 'error');--> statement-breakpoint
CREATE INDEX "audit_logs_request_idx" ON "audit_logs" USING btree ("request_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_admin_bypass_idx" ON "audit_logs" USING btree ("occurred_at","id") WHERE "audit_logs"."admin_bypass";
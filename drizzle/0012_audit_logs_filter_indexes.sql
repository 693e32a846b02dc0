DROP INDEX "audit_logs_outcome_idx";--> statement-breakpoint
DROP INDEX "audit_logs_resource_idx";--> statement-breakpoint
CREATE INDEX "audit_logs_user_action_idx" ON "audit_logs" USING btree ("user_id","action","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_outcome_success_idx" ON "audit_logs" USING btree ("occurred_at","id") WHERE "audit_logs"."outcome" = 'success';--> statement-breakpoint
CREATE INDEX "audit_logs_outcome_denied_idx" ON "audit_logs" USING btree ("occurred_at","id") WHERE "audit_logs"."outcome" = 'denied';--> statement-breakpoint
CREATE INDEX "audit_logs_outcome_error_idx" ON "audit_logs" USING btree ("occurred_at","id") WHERE "audit_logs"."outcome" = 'error';--> statement-breakpoint
CREATE INDEX "audit_logs_no_admin_bypass_idx" ON "audit_logs" USING btree ("occurred_at","id") WHERE not "audit_logs"."admin_bypass";--> statement-breakpoint
CREATE INDEX "audit_logs_role_user_idx" ON "audit_logs" USING btree ("occurred_at","id") WHERE "audit_logs"."user_role" = 'USER';--> statement-breakpoint
CREATE INDEX "audit_logs_role_admin_idx" ON "audit_logs" USING btree ("occurred_at","id") WHERE "audit_logs"."user_role" = 'ADMIN';--> statement-breakpoint
CREATE INDEX "audit_logs_ip_idx" ON "audit_logs" USING btree ("ip","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_operation_idx" ON "audit_logs" USING btree ("operation_name","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_logs_owner_idx" ON "audit_logs" USING btree (("owner_ids"[1]),"occurred_at","id") WHERE cardinality("audit_logs"."owner_ids") = 1;--> statement-breakpoint
CREATE INDEX "audit_logs_owner_ids_idx" ON "audit_logs" USING gin ("owner_ids") WHERE cardinality("audit_logs"."owner_ids") > 1;--> statement-breakpoint
CREATE INDEX "audit_logs_resource_idx" ON "audit_logs" USING btree ("resource_id","occurred_at","id") WHERE "audit_logs"."resource_id" is not null;
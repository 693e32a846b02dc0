DROP INDEX "audit_logs_outcome_success_idx";--> statement-breakpoint
DROP INDEX "audit_logs_no_admin_bypass_idx";--> statement-breakpoint
DROP INDEX "audit_logs_role_user_idx";
ALTER TABLE "audit_stats_daily" DROP CONSTRAINT "audit_stats_daily_key";--> statement-breakpoint
ALTER TABLE "audit_stats_hourly" DROP CONSTRAINT "audit_stats_hourly_key";--> statement-breakpoint
ALTER TABLE "audit_stats_user_daily" DROP CONSTRAINT "audit_stats_user_daily_key";--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "access_reason" text;--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "access_reference" text;--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "break_glass" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_stats_daily" ADD COLUMN "access_reason" text;--> statement-breakpoint
ALTER TABLE "audit_stats_hourly" ADD COLUMN "access_reason" text;--> statement-breakpoint
ALTER TABLE "audit_stats_user_daily" ADD COLUMN "access_reason" text;--> statement-breakpoint
CREATE INDEX "audit_logs_access_reason_idx" ON "audit_logs" USING btree ("access_reason","occurred_at","id") WHERE "audit_logs"."access_reason" is not null;--> statement-breakpoint
CREATE INDEX "audit_logs_break_glass_idx" ON "audit_logs" USING btree ("occurred_at","id") WHERE "audit_logs"."break_glass";--> statement-breakpoint
ALTER TABLE "audit_stats_daily" ADD CONSTRAINT "audit_stats_daily_key" UNIQUE NULLS NOT DISTINCT("bucket_start","action","outcome","user_role","resource_type","admin_bypass","access_reason");--> statement-breakpoint
ALTER TABLE "audit_stats_hourly" ADD CONSTRAINT "audit_stats_hourly_key" UNIQUE NULLS NOT DISTINCT("bucket_start","action","outcome","user_role","resource_type","admin_bypass","access_reason");--> statement-breakpoint
ALTER TABLE "audit_stats_user_daily" ADD CONSTRAINT "audit_stats_user_daily_key" UNIQUE NULLS NOT DISTINCT("bucket_start","user_id","action","outcome","user_role","resource_type","admin_bypass","access_reason");--> statement-breakpoint
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_access_reason_check" CHECK (access_reason is not null or (access_reference is null and not break_glass));
CREATE TABLE "audit_stats_daily" (
	"bucket_start" timestamp with time zone NOT NULL,
	"action" text NOT NULL,
	"outcome" text NOT NULL,
	"user_role" text,
	"resource_type" text,
	"admin_bypass" boolean NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "audit_stats_daily_key" UNIQUE NULLS NOT DISTINCT("bucket_start","action","outcome","user_role","resource_type","admin_bypass")
);
--> statement-breakpoint
CREATE TABLE "audit_stats_hourly" (
	"bucket_start" timestamp with time zone NOT NULL,
	"action" text NOT NULL,
	"outcome" text NOT NULL,
	"user_role" text,
	"resource_type" text,
	"admin_bypass" boolean NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "audit_stats_hourly_key" UNIQUE NULLS NOT DISTINCT("bucket_start","action","outcome","user_role","resource_type","admin_bypass")
);
--> statement-breakpoint
CREATE TABLE "audit_stats_user_daily" (
	"bucket_start" timestamp with time zone NOT NULL,
	"user_id" text,
	"action" text NOT NULL,
	"outcome" text NOT NULL,
	"user_role" text,
	"resource_type" text,
	"admin_bypass" boolean NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "audit_stats_user_daily_key" UNIQUE NULLS NOT DISTINCT("bucket_start","user_id","action","outcome","user_role","resource_type","admin_bypass")
);
--> statement-breakpoint
CREATE INDEX "audit_stats_user_daily_user_idx" ON "audit_stats_user_daily" USING btree ("user_id","bucket_start");--> statement-breakpoint
CREATE INDEX "audit_stats_user_daily_bypass_idx" ON "audit_stats_user_daily" USING btree ("bucket_start") WHERE "audit_stats_user_daily"."admin_bypass";
ALTER TABLE "audit_logs" ADD COLUMN "resource_ids" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "owner_ids" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_logs_resource_ids_idx" ON "audit_logs" USING gin ("resource_ids") WHERE cardinality("audit_logs"."resource_ids") > 0;
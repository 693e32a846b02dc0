CREATE TABLE "audit_row_hashes" (
	"id" bigint PRIMARY KEY NOT NULL,
	"seal" bigint NOT NULL,
	"row_hash" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_seals" (
	"sequence" bigint PRIMARY KEY NOT NULL,
	"from_xact" "xid8" NOT NULL,
	"horizon" "xid8" NOT NULL,
	"row_count" integer NOT NULL,
	"first_id" bigint NOT NULL,
	"last_id" bigint NOT NULL,
	"rows_hash" text NOT NULL,
	"previous_hash" text NOT NULL,
	"sealed_at" timestamp (6) with time zone NOT NULL,
	"public_key" text NOT NULL,
	"hash" text NOT NULL,
	"signature" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_logs" ADD COLUMN "xact_id" "xid8" DEFAULT '1' NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_row_hashes_seal_idx" ON "audit_row_hashes" USING btree ("seal","id");--> statement-breakpoint
CREATE INDEX "audit_logs_xact_idx" ON "audit_logs" USING btree ("xact_id");
CREATE TABLE "audit_sealer_lease" (
	"id" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);

-- The audit backstop's triggers fire ALWAYS: an ordinary (ORIGIN) trigger is skipped under
-- session_replication_role = replica, which a superuser may set to change a table unrecorded.
-- The server refuses to start while one of them is not ALWAYS (src/audit/storage/backstop.ts).
ALTER TABLE "items"
  ENABLE ALWAYS TRIGGER "items_audit_backstop_insert",
  ENABLE ALWAYS TRIGGER "items_audit_backstop_update",
  ENABLE ALWAYS TRIGGER "items_audit_backstop_delete",
  ENABLE ALWAYS TRIGGER "items_audit_backstop_truncate",
  ENABLE ALWAYS TRIGGER "items_audit_backstop_mark",
  ENABLE ALWAYS TRIGGER "items_audit_backstop_claims";
--> statement-breakpoint
-- And so must the stamp of the rows it writes (their id, time and transaction, which the seal chain
-- orders by): a backstop row written in a replica session would otherwise keep the defaults.
-- Recurses to every month of the trail; months created later copy it.
ALTER TABLE "audit_logs" ENABLE ALWAYS TRIGGER "audit_logs_stamp_server_values";

-- Each row carries its writing transaction, stamped like its id and time so that no inserting role
-- can choose it: the sealer seals rows by transaction, in windows no row can join later (README:
-- Tamper evidence). pg_current_xact_id() is the top-level transaction's, savepoints included.
-- Otherwise the function of 0007, which runs on the partition a row was routed to.
CREATE OR REPLACE FUNCTION "audit_logs_stamp_server_values"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.id := pg_catalog.nextval(
    pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.audit_logs', TG_TABLE_SCHEMA), 'id'));
  NEW.occurred_at := pg_catalog.now();
  NEW.xact_id := pg_catalog.pg_current_xact_id();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
-- Seals and row hashes are append-only like the rows they vouch for.
CREATE FUNCTION "audit_integrity_reject_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_seals_no_update_or_delete"
  BEFORE UPDATE OR DELETE ON "audit_seals"
  FOR EACH ROW EXECUTE FUNCTION "audit_integrity_reject_change"();
--> statement-breakpoint
CREATE TRIGGER "audit_seals_no_truncate"
  BEFORE TRUNCATE ON "audit_seals"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_integrity_reject_change"();
--> statement-breakpoint
CREATE TRIGGER "audit_row_hashes_no_update_or_delete"
  BEFORE UPDATE OR DELETE ON "audit_row_hashes"
  FOR EACH ROW EXECUTE FUNCTION "audit_integrity_reject_change"();
--> statement-breakpoint
CREATE TRIGGER "audit_row_hashes_no_truncate"
  BEFORE TRUNCATE ON "audit_row_hashes"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_integrity_reject_change"();

-- The database, not the inserting role, decides when a row happened and where it sits in the
-- trail. `INSERT ... OVERRIDING SYSTEM VALUE` and `COPY` bypass the identity, and a default is only
-- a default: without this trigger the serving role could append a back-dated row with a chosen id.
-- It fires for every role; an owner backfilling history disables it inside that transaction.
--
-- The id comes from the column's own identity sequence (so ids still increase, with gaps: the
-- identity has already drawn one value for the row). Every name is schema-qualified because the
-- function runs with the inserting role's search_path, where a temporary sequence or function
-- could otherwise shadow the real one.
CREATE FUNCTION "audit_logs_stamp_server_values"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.id := pg_catalog.nextval(
    pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), 'id'));
  NEW.occurred_at := pg_catalog.now();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_logs_stamp_server_values"
  BEFORE INSERT ON "audit_logs"
  FOR EACH ROW EXECUTE FUNCTION "audit_logs_stamp_server_values"();

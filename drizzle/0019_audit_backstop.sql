-- The audit backstop (docs/audit-trail.md, Changes made outside the API): a change of an audited
-- resource's table that the API did not record itself — psql, a migration or backfill, another
-- service, a bulk UPDATE — is recorded by the database, in the same transaction, into audit_logs:
-- the same table, the same row hash, sealed in the same chain. One row per statement, naming every
-- record it touched, with the snapshots and diffs the API writes, computed from the resource's
-- declaration, which each trigger is given as its argument (src/audit/storage/backstop.ts).
--
-- The API writes its own row for each change, and claims the statement that makes it: before it,
-- audit.api_change is set to the md5 of that statement's text. Whether a record's change is claimed
-- is decided as the record changes (a BEFORE ROW trigger), so a claim made later in the same
-- statement cannot reach back: each unclaimed change marks its statement in a table only the owner
-- may write, and the statement's row is written unless no change of it went unclaimed. A claimed
-- change is left to the API, and a deferred check refuses to commit it unless the transaction
-- holds its row (the action of that kind of change, success, naming the owner). Only the tables'
-- owner can disable these triggers (the serving role has no TRIGGER privilege), and the server
-- refuses to start while one is missing, disabled or differs from its declaration.

-- The statements that changed a record unclaimed: one entry per statement and table, kept only
-- until the statement's trigger has read it. Unlogged: it never outlives its transaction.
CREATE UNLOGGED TABLE "audit_backstop_unclaimed" (
  "xact" xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
  "statement_at" timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
  "table_oid" oid NOT NULL,
  PRIMARY KEY ("xact", "statement_at", "table_oid")
);
--> statement-breakpoint
REVOKE ALL ON "audit_backstop_unclaimed" FROM PUBLIC;
--> statement-breakpoint
-- As each record changes unclaimed by the API (its trigger's WHEN compares the claim), the
-- statement is marked.
CREATE FUNCTION "audit_backstop_mark"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO audit_backstop_unclaimed (table_oid) VALUES (TG_RELID) ON CONFLICT DO NOTHING;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END;
$$;

-- A column's value as a snapshot keeps it: dates as Date.toISOString() writes them (milliseconds,
-- UTC, Z), bigints and numerics as decimal text (postgres.js reads them so), the rest as JSON.
CREATE FUNCTION "audit_backstop_value"(record jsonb, col jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN record -> (col ->> 'column') IS NULL OR record -> (col ->> 'column') = 'null'::jsonb THEN 'null'::jsonb
    WHEN col ->> 'as' = 'date' THEN pg_catalog.to_jsonb(pg_catalog.to_char(
      (record ->> (col ->> 'column'))::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    WHEN col ->> 'as' = 'text' THEN pg_catalog.to_jsonb(record ->> (col ->> 'column'))
    ELSE record -> (col ->> 'column')
  END
$$;
--> statement-breakpoint
-- The record as details.after / details.before keep it; sensitive values withheld.
CREATE FUNCTION "audit_backstop_snapshot"(record jsonb, config jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(pg_catalog.jsonb_object_agg(col ->> 'field',
           CASE WHEN (col ->> 'sensitive')::boolean THEN '"[withheld]"'::jsonb ELSE audit_backstop_value(record, col) END),
         '{}'::jsonb)
  FROM pg_catalog.jsonb_array_elements(config -> 'columns') AS col
$$;
--> statement-breakpoint
-- { field: { from, to } } for the diffed fields whose value differs; sensitive ones withheld.
CREATE FUNCTION "audit_backstop_changes"(before jsonb, after jsonb, config jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(pg_catalog.jsonb_object_agg(col ->> 'field',
           CASE WHEN (col ->> 'sensitive')::boolean THEN '{"from": "[withheld]", "to": "[withheld]"}'::jsonb
                ELSE pg_catalog.jsonb_build_object('from', audit_backstop_value(before, col), 'to', audit_backstop_value(after, col)) END),
         '{}'::jsonb)
  FROM pg_catalog.jsonb_array_elements(config -> 'columns') AS col
  WHERE (col ->> 'diffed')::boolean
    AND audit_backstop_value(before, col) IS DISTINCT FROM audit_backstop_value(after, col)
$$;
--> statement-breakpoint
-- The changes of records created (side 'after') or removed (side 'before') whole: for each of
-- `records` (a JSON array of rows) its id, its owner and its snapshot, as audit_backstop_write takes them.
CREATE FUNCTION "audit_backstop_wholes"(records jsonb, config jsonb, side text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'id', r ->> (config ->> 'id'),
           'owners', pg_catalog.jsonb_build_array(r ->> (config ->> 'owner')),
           'detail', pg_catalog.jsonb_build_object(side, audit_backstop_snapshot(r, config))))
  FROM pg_catalog.jsonb_array_elements(records) AS r
$$;
--> statement-breakpoint
-- Writes the one row of a statement that changed `changes` (an array of { id, owners, detail }):
-- about one record, the API's shape; about several, details.byRecord keyed by id. The session is
-- details.database (no API row has it: it is what makes the row's source DATABASE), its client
-- address the row's ip. admin_bypass: a change outside the API bypasses the owners' scoping.
CREATE FUNCTION "audit_backstop_write"(verb text, config jsonb, changes jsonb, statement text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  session jsonb := pg_catalog.jsonb_build_object(
    'role', session_user::text,
    'applicationName', pg_catalog.current_setting('application_name'),
    'backendPid', pg_catalog.pg_backend_pid());
  owners text[];
  ids text[];
  details jsonb;
  by_owner jsonb;
BEGIN
  IF changes IS NULL OR pg_catalog.jsonb_array_length(changes) = 0 THEN
    RETURN;
  END IF;
  SELECT pg_catalog.array_agg(DISTINCT owner ORDER BY owner) INTO owners
  FROM pg_catalog.jsonb_array_elements(changes) AS change, pg_catalog.jsonb_array_elements_text(change -> 'owners') AS owner;
  IF pg_catalog.jsonb_array_length(changes) = 1 THEN
    details := changes -> 0 -> 'detail';
  ELSE
    SELECT pg_catalog.array_agg(change ->> 'id' ORDER BY pg_catalog.length(change ->> 'id'), change ->> 'id'),
           pg_catalog.jsonb_build_object('byRecord', pg_catalog.jsonb_object_agg(change ->> 'id', change -> 'detail'))
      INTO ids, details
    FROM pg_catalog.jsonb_array_elements(changes) AS change;
  END IF;
  IF pg_catalog.cardinality(owners) > 1 THEN
    -- As the API's rows about several owners: what shows each owner their own records only. A
    -- record moved to another owner is listed under both.
    SELECT pg_catalog.jsonb_object_agg(owner, records) INTO by_owner
    FROM (SELECT owner, pg_catalog.jsonb_agg(change ->> 'id' ORDER BY pg_catalog.length(change ->> 'id'), change ->> 'id') AS records
          FROM pg_catalog.jsonb_array_elements(changes) AS change, pg_catalog.jsonb_array_elements_text(change -> 'owners') AS owner
          GROUP BY owner) AS grouped;
    details := details || pg_catalog.jsonb_build_object('recordsByOwner', by_owner);
  END IF;
  details := details || pg_catalog.jsonb_build_object('database', session);
  IF statement IS NOT NULL THEN
    details := details || pg_catalog.jsonb_build_object('statement', statement);
  END IF;
  INSERT INTO audit_logs (user_id, user_role, action, resource_type, resource_id, resource_ids, owner_ids,
                          outcome, admin_bypass, details, request_id, operation_name, ip, user_agent)
  VALUES (NULL, NULL, verb || '_' || (config ->> 'type'), config ->> 'type',
          CASE WHEN ids IS NULL THEN changes -> 0 ->> 'id' END, coalesce(ids, '{}'), owners,
          'success', true, details, NULL, NULL, pg_catalog.host(pg_catalog.inet_client_addr()), NULL);
END;
$$;
--> statement-breakpoint
-- The statement triggers' function: collects what the statement changed and writes its row,
-- unless the API claimed every change of it (TRUNCATE, which the API never runs, always).
-- SECURITY DEFINER: any role that may change the table gets its change recorded, whether or not
-- it may write the trail.
CREATE FUNCTION "audit_backstop_record"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  config constant jsonb := TG_ARGV[0]::jsonb;
  id_column constant text := config ->> 'id';
  owner_column constant text := config ->> 'owner';
  changes jsonb;
BEGIN
  -- Every change of the statement claimed as it happened: the API writes the row.
  IF TG_OP <> 'TRUNCATE' THEN
    DELETE FROM audit_backstop_unclaimed
    WHERE xact = pg_catalog.pg_current_xact_id() AND statement_at = pg_catalog.statement_timestamp() AND table_oid = TG_RELID;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
  END IF;
  IF TG_OP = 'INSERT' THEN
    changes := audit_backstop_wholes((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(n)) FROM new_records n), config, 'after');
    PERFORM audit_backstop_write('create', config, changes, NULL);
  ELSIF TG_OP = 'DELETE' THEN
    changes := audit_backstop_wholes((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(o)) FROM old_records o), config, 'before');
    PERFORM audit_backstop_write('delete', config, changes, NULL);
  ELSIF TG_OP = 'UPDATE' THEN
    -- Paired by id; a record whose id itself changed reads as one removed and one added.
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'id', coalesce(a ->> id_column, b ->> id_column),
             'owners', (SELECT pg_catalog.jsonb_agg(DISTINCT owner) FROM (VALUES (b ->> owner_column), (a ->> owner_column)) AS o(owner) WHERE owner IS NOT NULL),
             'detail', CASE WHEN a IS NULL THEN pg_catalog.jsonb_build_object('before', audit_backstop_snapshot(b, config))
                            WHEN b IS NULL THEN pg_catalog.jsonb_build_object('after', audit_backstop_snapshot(a, config))
                            ELSE pg_catalog.jsonb_build_object('changes', audit_backstop_changes(b, a, config)) END))
      INTO changes
    FROM (SELECT pg_catalog.to_jsonb(o) AS b FROM old_records o) AS before_rows
    FULL JOIN (SELECT pg_catalog.to_jsonb(n) AS a FROM new_records n) AS after_rows ON b -> id_column = a -> id_column;
    PERFORM audit_backstop_write('update', config, changes, NULL);
  ELSE
    EXECUTE pg_catalog.format('SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t)) FROM %I.%I t', TG_TABLE_SCHEMA, TG_TABLE_NAME)
      INTO changes;
    changes := audit_backstop_wholes(changes, config, 'before');
    PERFORM audit_backstop_write('delete', config, changes, 'TRUNCATE');
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- At commit, for each record a claimed statement changed: the transaction must hold a row of its
-- own about that record, of that kind of change (a restore may create or update), successful,
-- naming its owner (both owners, and both ids, of an UPDATE), or it does not commit.
CREATE FUNCTION "audit_backstop_check_claim"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  config constant jsonb := TG_ARGV[0]::jsonb;
  type constant text := config ->> 'type';
  actions text[];
  records jsonb[];
  record jsonb;
BEGIN
  IF TG_OP = 'INSERT' THEN
    actions := ARRAY['create_' || type, 'restore_' || type];
    records := ARRAY[pg_catalog.to_jsonb(NEW)];
  ELSIF TG_OP = 'UPDATE' THEN
    actions := ARRAY['update_' || type, 'restore_' || type];
    records := ARRAY[pg_catalog.to_jsonb(NEW)];
    -- The API changes neither; a claimed change of either must name the old one too.
    IF records[1] -> (config ->> 'id') IS DISTINCT FROM pg_catalog.to_jsonb(OLD) -> (config ->> 'id')
       OR records[1] -> (config ->> 'owner') IS DISTINCT FROM pg_catalog.to_jsonb(OLD) -> (config ->> 'owner') THEN
      records := records || pg_catalog.to_jsonb(OLD);
    END IF;
  ELSE
    actions := ARRAY['delete_' || type];
    records := ARRAY[pg_catalog.to_jsonb(OLD)];
  END IF;
  FOREACH record IN ARRAY records LOOP
    -- Written by this transaction (xmin; the API writes no row in a savepoint), now (its start):
    -- one probe of this month's resource index.
    PERFORM FROM audit_logs
    WHERE resource_id = record ->> (config ->> 'id') AND occurred_at = pg_catalog.now()
      AND resource_type = type AND action = ANY (actions) AND outcome = 'success'
      AND owner_ids @> ARRAY[record ->> (config ->> 'owner')]
      AND xmin = pg_catalog.pg_current_xact_id()::xid;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'a change of an audited record claimed by the API has no audit row of that change in its transaction'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END LOOP;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Only the backstop, writing as the owner, may say a row was made in the database (details.database):
-- the serving role, which may append rows, cannot pass its own off as a DBA's. Otherwise the
-- stamping function of 0009.
CREATE OR REPLACE FUNCTION "audit_logs_stamp_server_values"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.details ? 'database' AND current_user <> pg_catalog.pg_get_userbyid(
       (SELECT relowner FROM pg_catalog.pg_class WHERE oid = TG_RELID)) THEN
    RAISE EXCEPTION 'only the audit backstop may write a row about a database session'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  NEW.id := pg_catalog.nextval(
    pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.audit_logs', TG_TABLE_SCHEMA), 'id'));
  NEW.occurred_at := pg_catalog.now();
  NEW.xact_id := pg_catalog.pg_current_xact_id();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
-- Only through their triggers: no role may call these to write rows of its choosing.
REVOKE ALL ON FUNCTION "audit_backstop_value"(jsonb, jsonb), "audit_backstop_snapshot"(jsonb, jsonb), "audit_backstop_wholes"(jsonb, jsonb, text),
  "audit_backstop_changes"(jsonb, jsonb, jsonb), "audit_backstop_write"(text, jsonb, jsonb, text),
  "audit_backstop_record"(), "audit_backstop_check_claim"(), "audit_backstop_mark"() FROM PUBLIC;
--> statement-breakpoint
-- A SECURITY DEFINER function must not resolve names through its caller's search_path (0007).
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_backstop_record() SET search_path = %I, pg_temp', current_schema());
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_backstop_check_claim() SET search_path = %I, pg_temp', current_schema());
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_backstop_mark() SET search_path = %I, pg_temp', current_schema());
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_backstop_write(text, jsonb, jsonb, text) SET search_path = %I, pg_temp', current_schema());
END;
$$;
--> statement-breakpoint
-- The audit backstop of item (generated from its declaration: npm run db:backstop -- item).
CREATE TRIGGER "items_audit_backstop_insert" AFTER INSERT ON "items"
  REFERENCING NEW TABLE AS new_records
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_backstop_record"('{"type":"item","id":"id","owner":"owner_id","columns":[{"column":"id","field":"id","as":"text","sensitive":false,"diffed":false},{"column":"owner_id","field":"ownerId","as":"text","sensitive":false,"diffed":true},{"column":"title","field":"title","as":"text","sensitive":false,"diffed":true},{"column":"description","field":"description","as":"text","sensitive":false,"diffed":true},{"column":"created_at","field":"createdAt","as":"date","sensitive":false,"diffed":false},{"column":"updated_at","field":"updatedAt","as":"date","sensitive":false,"diffed":false}]}');
--> statement-breakpoint
CREATE TRIGGER "items_audit_backstop_update" AFTER UPDATE ON "items"
  REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_backstop_record"('{"type":"item","id":"id","owner":"owner_id","columns":[{"column":"id","field":"id","as":"text","sensitive":false,"diffed":false},{"column":"owner_id","field":"ownerId","as":"text","sensitive":false,"diffed":true},{"column":"title","field":"title","as":"text","sensitive":false,"diffed":true},{"column":"description","field":"description","as":"text","sensitive":false,"diffed":true},{"column":"created_at","field":"createdAt","as":"date","sensitive":false,"diffed":false},{"column":"updated_at","field":"updatedAt","as":"date","sensitive":false,"diffed":false}]}');
--> statement-breakpoint
CREATE TRIGGER "items_audit_backstop_delete" AFTER DELETE ON "items"
  REFERENCING OLD TABLE AS old_records
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_backstop_record"('{"type":"item","id":"id","owner":"owner_id","columns":[{"column":"id","field":"id","as":"text","sensitive":false,"diffed":false},{"column":"owner_id","field":"ownerId","as":"text","sensitive":false,"diffed":true},{"column":"title","field":"title","as":"text","sensitive":false,"diffed":true},{"column":"description","field":"description","as":"text","sensitive":false,"diffed":true},{"column":"created_at","field":"createdAt","as":"date","sensitive":false,"diffed":false},{"column":"updated_at","field":"updatedAt","as":"date","sensitive":false,"diffed":false}]}');
--> statement-breakpoint
CREATE TRIGGER "items_audit_backstop_truncate" BEFORE TRUNCATE ON "items"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_backstop_record"('{"type":"item","id":"id","owner":"owner_id","columns":[{"column":"id","field":"id","as":"text","sensitive":false,"diffed":false},{"column":"owner_id","field":"ownerId","as":"text","sensitive":false,"diffed":true},{"column":"title","field":"title","as":"text","sensitive":false,"diffed":true},{"column":"description","field":"description","as":"text","sensitive":false,"diffed":true},{"column":"created_at","field":"createdAt","as":"date","sensitive":false,"diffed":false},{"column":"updated_at","field":"updatedAt","as":"date","sensitive":false,"diffed":false}]}');
--> statement-breakpoint
CREATE TRIGGER "items_audit_backstop_mark" BEFORE INSERT OR UPDATE OR DELETE ON "items"
  FOR EACH ROW
  WHEN (pg_catalog.current_setting('audit.api_change', true) IS DISTINCT FROM pg_catalog.md5(pg_catalog.current_query()))
  EXECUTE FUNCTION "audit_backstop_mark"('{"type":"item","id":"id","owner":"owner_id","columns":[{"column":"id","field":"id","as":"text","sensitive":false,"diffed":false},{"column":"owner_id","field":"ownerId","as":"text","sensitive":false,"diffed":true},{"column":"title","field":"title","as":"text","sensitive":false,"diffed":true},{"column":"description","field":"description","as":"text","sensitive":false,"diffed":true},{"column":"created_at","field":"createdAt","as":"date","sensitive":false,"diffed":false},{"column":"updated_at","field":"updatedAt","as":"date","sensitive":false,"diffed":false}]}');
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "items_audit_backstop_claims" AFTER INSERT OR UPDATE OR DELETE ON "items"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (pg_catalog.current_setting('audit.api_change', true) = pg_catalog.md5(pg_catalog.current_query()))
  EXECUTE FUNCTION "audit_backstop_check_claim"('{"type":"item","id":"id","owner":"owner_id","columns":[{"column":"id","field":"id","as":"text","sensitive":false,"diffed":false},{"column":"owner_id","field":"ownerId","as":"text","sensitive":false,"diffed":true},{"column":"title","field":"title","as":"text","sensitive":false,"diffed":true},{"column":"description","field":"description","as":"text","sensitive":false,"diffed":true},{"column":"created_at","field":"createdAt","as":"date","sensitive":false,"diffed":false},{"column":"updated_at","field":"updatedAt","as":"date","sensitive":false,"diffed":false}]}');

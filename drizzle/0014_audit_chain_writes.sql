-- The seal chain's bookkeeping is written only through these functions, as the owner, each checking
-- that what it is given continues the chain: the serving role (which seals) keeps SELECT on
-- audit_seals and audit_row_hashes and loses INSERT, so it can no longer add a seal out of sequence,
-- a window counted twice by the rollups, a horizon ahead of the database's, or row hashes for rows
-- that are not in the window being sealed (README: Integrity).
INSERT INTO "audit_sealer_lease" ("id", "holder", "expires_at") VALUES (true, '', '-infinity');
--> statement-breakpoint
-- Starts a sealing transaction for `holder`: true when it holds the lease, renewed for `lease_ms`
-- (taken over once the last holder's lapsed). The row stays locked to the end of the transaction,
-- so two sealers never work at once; one that finds it locked does not wait.
CREATE FUNCTION "audit_seal_begin"(holder text, lease_ms integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM 1 FROM audit_sealer_lease WHERE id FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  UPDATE audit_sealer_lease l
    SET holder = audit_seal_begin.holder,
        expires_at = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => lease_ms / 1000.0)
    WHERE l.id AND (l.holder = audit_seal_begin.holder OR l.expires_at < pg_catalog.clock_timestamp());
  RETURN FOUND;
END;
$$;
--> statement-breakpoint
-- Records the hashes of rows of the seal being made: `seal` must follow the head, and every id must
-- be a row of its window, [the head's horizon, the oldest transaction still running).
CREATE FUNCTION "audit_seal_row_hashes"(seal bigint, ids bigint[], hashes bytea[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  head_sequence bigint;
  head_horizon xid8;
  in_window bigint;
BEGIN
  SELECT s.sequence, s.horizon INTO head_sequence, head_horizon FROM audit_seals s ORDER BY s.sequence DESC LIMIT 1;
  IF seal IS DISTINCT FROM coalesce(head_sequence, 0) + 1 THEN
    RAISE EXCEPTION 'row hashes for seal %, but the chain''s next seal is %', seal, coalesce(head_sequence, 0) + 1
      USING ERRCODE = 'check_violation';
  END IF;
  IF pg_catalog.cardinality(ids) IS DISTINCT FROM pg_catalog.cardinality(hashes) OR array_position(ids, NULL) IS NOT NULL
     OR array_position(hashes, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'one hash for each id, none missing' USING ERRCODE = 'check_violation';
  END IF;
  -- The id range lets each month's primary key find the batch; the window is checked on what it finds.
  SELECT count(*) INTO in_window FROM audit_logs a
    WHERE a.id BETWEEN (SELECT min(i) FROM unnest(ids) i) AND (SELECT max(i) FROM unnest(ids) i)
      AND a.id IN (SELECT unnest(ids))
      AND a.xact_id >= coalesce(head_horizon, '0'::xid8)
      AND a.xact_id < pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot());
  IF in_window <> pg_catalog.cardinality(ids) THEN
    RAISE EXCEPTION 'row hashes name rows that are not in the window being sealed' USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO audit_row_hashes (id, seal, row_hash) SELECT i, audit_seal_row_hashes.seal, h FROM unnest(ids, hashes) AS u(i, h);
END;
$$;
--> statement-breakpoint
-- Appends a seal: the next sequence, starting at the head's horizon with its hash as previous, a
-- horizon no later than the oldest running transaction, covering every row of its window, each by
-- the row hash recorded for it (so the rollups count each window once, and every row in it).
CREATE FUNCTION "audit_seal_append"(
  sequence bigint, from_xact xid8, horizon xid8, row_count integer, first_id bigint, last_id bigint,
  rows_hash text, previous_hash text, sealed_at timestamptz, public_key text, hash text, signature text
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  head audit_seals%ROWTYPE;
  hashed record;
  window_rows bigint;
BEGIN
  SELECT * INTO head FROM audit_seals s ORDER BY s.sequence DESC LIMIT 1;
  IF audit_seal_append.sequence IS DISTINCT FROM coalesce(head.sequence, 0) + 1
     OR audit_seal_append.from_xact IS DISTINCT FROM coalesce(head.horizon, '0'::xid8)
     OR audit_seal_append.previous_hash IS DISTINCT FROM coalesce(head.hash, pg_catalog.repeat('0', 64)) THEN
    RAISE EXCEPTION 'seal % does not continue the chain at seal %', audit_seal_append.sequence, coalesce(head.sequence, 0)
      USING ERRCODE = 'check_violation';
  END IF;
  IF NOT (audit_seal_append.horizon > audit_seal_append.from_xact
          AND audit_seal_append.horizon <= pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())) THEN
    RAISE EXCEPTION 'seal % has a horizon beyond the transactions that have ended', audit_seal_append.sequence
      USING ERRCODE = 'check_violation';
  END IF;
  SELECT count(*) AS n, min(r.id) AS first, max(r.id) AS last INTO hashed
    FROM audit_row_hashes r WHERE r.seal = audit_seal_append.sequence;
  SELECT count(*) INTO window_rows FROM audit_logs a
    WHERE a.xact_id >= audit_seal_append.from_xact AND a.xact_id < audit_seal_append.horizon;
  IF hashed.n <> audit_seal_append.row_count OR window_rows <> audit_seal_append.row_count
     OR hashed.first IS DISTINCT FROM audit_seal_append.first_id OR hashed.last IS DISTINCT FROM audit_seal_append.last_id THEN
    RAISE EXCEPTION 'seal % does not cover exactly the rows of its window', audit_seal_append.sequence
      USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO audit_seals (sequence, from_xact, horizon, row_count, first_id, last_id, rows_hash, previous_hash,
                           sealed_at, public_key, hash, signature)
  VALUES (audit_seal_append.sequence, audit_seal_append.from_xact, audit_seal_append.horizon, audit_seal_append.row_count,
          audit_seal_append.first_id, audit_seal_append.last_id, audit_seal_append.rows_hash, audit_seal_append.previous_hash,
          audit_seal_append.sealed_at, audit_seal_append.public_key, audit_seal_append.hash, audit_seal_append.signature);
END;
$$;
--> statement-breakpoint
-- As for the other functions: names resolve in this schema only, never the caller's.
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_seal_begin(text, integer) SET search_path = %I, pg_temp', current_schema());
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_seal_row_hashes(bigint, bigint[], bytea[]) SET search_path = %I, pg_temp', current_schema());
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_seal_append(bigint, xid8, xid8, integer, bigint, bigint, text, text, timestamptz, text, text, text) SET search_path = %I, pg_temp', current_schema());
END;
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION "audit_seal_begin"(text, integer) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION "audit_seal_row_hashes"(bigint, bigint[], bytea[]) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION "audit_seal_append"(bigint, xid8, xid8, integer, bigint, bigint, text, text, timestamptz, text, text, text) FROM PUBLIC;
--> statement-breakpoint
-- Roles that appended to the chain directly (a serving role made before this migration) seal through
-- the functions from now on, and lose every way of writing the chain's tables themselves.
DO $$
DECLARE
  grantee text;
BEGIN
  FOR grantee IN
    SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g
    WHERE g.table_schema = current_schema() AND g.table_name IN ('audit_seals', 'audit_row_hashes')
      AND g.privilege_type = 'INSERT' AND g.grantee <> (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = 'audit_seals'::regclass)
  LOOP
    EXECUTE pg_catalog.format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_seals, audit_row_hashes FROM %I', grantee);
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION audit_seal_begin(text, integer), audit_seal_row_hashes(bigint, bigint[], bytea[]), audit_seal_append(bigint, xid8, xid8, integer, bigint, bigint, text, text, timestamptz, text, text, text) TO %I', grantee);
  END LOOP;
END;
$$;

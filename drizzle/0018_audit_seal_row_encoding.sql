-- Rows may carry an access reason (0015), which changes how they are hashed. A sealer of an earlier
-- version, still running during an upgrade, would seal such rows with the old encoding, and
-- `audit:verify` would then report them as altered, for good: seals are append-only. So a sealing
-- transaction now starts by naming the row encoding it hashes with, and the chain refuses any
-- other; the two-argument function an older sealer calls is gone, so its rounds fail (and are
-- logged) instead of sealing. The roles that could call the old one may call the new one.
DO $$
DECLARE
  grantees text[];
  grantee text;
BEGIN
  SELECT coalesce(array_agg(DISTINCT g.grantee::text), '{}') INTO grantees
  FROM information_schema.role_routine_grants g
  WHERE g.routine_schema = current_schema() AND g.routine_name = 'audit_seal_begin' AND g.privilege_type = 'EXECUTE'
    AND g.grantee <> (SELECT pg_catalog.pg_get_userbyid(p.proowner) FROM pg_proc p WHERE p.oid = 'audit_seal_begin(text, integer)'::regprocedure);
  DROP FUNCTION audit_seal_begin(text, integer);
  CREATE FUNCTION audit_seal_begin(holder text, lease_ms integer, row_encoding integer) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER AS $fn$
  BEGIN
    IF row_encoding IS DISTINCT FROM 2 THEN
      RAISE EXCEPTION 'this trail hashes its rows with encoding 2 (docs/integrity.md); a sealer hashing with encoding % must not seal it: upgrade it', row_encoding
        USING ERRCODE = '22023';
    END IF;
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
  $fn$;
  EXECUTE pg_catalog.format('ALTER FUNCTION audit_seal_begin(text, integer, integer) SET search_path = %I, pg_temp', current_schema());
  REVOKE ALL ON FUNCTION audit_seal_begin(text, integer, integer) FROM PUBLIC;
  FOREACH grantee IN ARRAY grantees LOOP
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION audit_seal_begin(text, integer, integer) TO %I', grantee);
  END LOOP;
END;
$$;

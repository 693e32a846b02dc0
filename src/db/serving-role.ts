import type postgres from 'postgres';
import { auditTrailPowers, NOT_MIGRATED, rewriteRisk } from './audit-trail-powers';
import { scramSha256Secret } from './scram';

/** A serving role that cannot be made, with a one-line reason for the operator. */
export class ServingRoleError extends Error {
  override readonly name = 'ServingRoleError';
}

/**
 * Everything the API's queries need, and nothing more. The audit_logs sequence is for the trigger
 * that stamps each row's id (`nextval`); items' identity needs no sequence privilege. The sealer
 * appends seals and row hashes only through the owner's functions, which refuse anything that does
 * not continue the chain, so the role only reads those tables; a trigger on the seals keeps the
 * rollups `auditStats` reads, as the owner, so the role only reads those too. UPDATE, DELETE, TRUNCATE and TRIGGER on the trail's tables are
 * never granted, nothing on the monthly partitions of audit_logs (rows reach them through
 * audit_logs), and only the owner may ALTER or DROP a table, a partition or their triggers.
 * `audit_logs_ensure_partitions()` creates the coming months as the owner, and
 * `audit_logs_refresh_statistics()` analyzes busy ones.
 */
export const SERVING_PRIVILEGES = [
  'USAGE on the schema of audit_logs',
  'SELECT, INSERT on audit_logs',
  'USAGE on the sequence of audit_logs.id',
  'EXECUTE on audit_logs_ensure_partitions() and audit_logs_refresh_statistics()',
  'SELECT, INSERT, UPDATE, DELETE on items',
  'SELECT on audit_seals and audit_row_hashes',
  'EXECUTE on audit_seal_begin(), audit_seal_row_hashes() and audit_seal_append()',
  'SELECT on audit_stats_hourly, audit_stats_daily and audit_stats_user_daily',
] as const;

/** The owner's functions that write the seal chain, each checking it is continued. */
const CHAIN_WRITERS = [
  'audit_seal_begin(text, integer, integer)',
  'audit_seal_row_hashes(bigint, bigint[], bytea[])',
  'audit_seal_append(bigint, xid8, xid8, integer, bigint, bigint, text, text, timestamptz, text, text, text)',
];

export interface ServingRoleRequest {
  readonly role: string;
  /** Printable ASCII; omitted: a new role has no password (certificate or peer login), an existing one keeps its own. */
  readonly password?: string;
}

/**
 * Creates the login role the API serves as (or takes the existing one) and leaves it with exactly
 * {@link SERVING_PRIVILEGES} on the application's tables: whatever else it held on them is revoked
 * first, so running it again repairs the grants. Run as the owner of the tables (who needs
 * CREATEROLE to create the role) after migrating. Returns whether the role was created.
 */
export async function createServingRole(sql: postgres.Sql, request: ServingRoleRequest): Promise<{ created: boolean }> {
  const { role, password } = request;
  if (role === '' || Buffer.byteLength(role) > 63 || /[\0-\x1f]/.test(role)) {
    throw new ServingRoleError('the role name must be 1 to 63 bytes without control characters');
  }
  if (password !== undefined && !/^[\x20-\x7e]{16,}$/.test(password)) {
    throw new ServingRoleError('the password must be at least 16 printable ASCII characters');
  }
  const mine = await auditTrailPowers(sql);
  if (!mine?.tableExists) throw new ServingRoleError(NOT_MIGRATED);
  const existing = await auditTrailPowers(sql, role);
  // Revoking grants cannot take away what superusers and the owner's members have by right.
  const risk = existing && (existing.superuser || existing.memberOfOwner) ? rewriteRisk(existing) : undefined;
  if (risk) throw new ServingRoleError(`${risk}; choose another role for serving`);

  return sql.begin(async (tx) => {
    // Quoted by PostgreSQL itself: DDL takes no bind parameters.
    const [names] = await tx<{ role: string; schema: string; audit_sequence: string; items_sequence: string }[]>`
      select format('%I', ${role}::text) as role, format('%I', n.nspname) as schema,
             pg_get_serial_sequence('audit_logs', 'id') as audit_sequence,
             pg_get_serial_sequence('items', 'id') as items_sequence
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.oid = 'audit_logs'::regclass`;
    const { role: quotedRole, schema, audit_sequence: auditSequence, items_sequence: itemsSequence } = names!;
    const months = await tx<{ name: string }[]>`
      select format('%I', c.relname) as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'audit_logs'::regclass`;
    const secret = password === undefined ? '' : ` PASSWORD '${scramSha256Secret(password)}'`;
    if (!existing) {
      await tx.unsafe(`CREATE ROLE ${quotedRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT${secret}`);
    } else if (secret) {
      await tx.unsafe(`ALTER ROLE ${quotedRole}${secret}`);
    }
    for (const statement of [
      `REVOKE ALL ON SCHEMA ${schema} FROM ${quotedRole}`,
      `REVOKE ALL ON TABLE ${schema}.audit_logs, ${schema}.items, ${schema}.audit_seals, ${schema}.audit_row_hashes, ${schema}.audit_stats_hourly, ${schema}.audit_stats_daily, ${schema}.audit_stats_user_daily FROM ${quotedRole}`,
      `REVOKE ALL ON SEQUENCE ${auditSequence}, ${itemsSequence} FROM ${quotedRole}`,
      ...months.map(({ name }) => `REVOKE ALL ON TABLE ${schema}.${name} FROM ${quotedRole}`),
      `REVOKE ALL ON FUNCTION ${schema}.audit_logs_create_partitions(timestamptz, timestamptz) FROM ${quotedRole}`,
      `REVOKE ALL ON FUNCTION ${schema}.audit_stats_roll_up(xid8, xid8) FROM ${quotedRole}`,
      `GRANT EXECUTE ON FUNCTION ${schema}.audit_logs_ensure_partitions(), ${schema}.audit_logs_refresh_statistics() TO ${quotedRole}`,
      `GRANT USAGE ON SCHEMA ${schema} TO ${quotedRole}`,
      `GRANT SELECT, INSERT ON TABLE ${schema}.audit_logs TO ${quotedRole}`,
      `GRANT USAGE ON SEQUENCE ${auditSequence} TO ${quotedRole}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${schema}.items TO ${quotedRole}`,
      `GRANT SELECT ON TABLE ${schema}.audit_seals, ${schema}.audit_row_hashes TO ${quotedRole}`,
      `REVOKE ALL ON TABLE ${schema}.audit_sealer_lease FROM ${quotedRole}`,
      `GRANT EXECUTE ON FUNCTION ${CHAIN_WRITERS.map((signature) => `${schema}.${signature}`).join(', ')} TO ${quotedRole}`,
      `GRANT SELECT ON TABLE ${schema}.audit_stats_hourly, ${schema}.audit_stats_daily, ${schema}.audit_stats_user_daily TO ${quotedRole}`,
    ]) {
      await tx.unsafe(statement);
    }
    return { created: !existing };
  });
}

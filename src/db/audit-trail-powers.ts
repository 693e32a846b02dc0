import type postgres from 'postgres';

/** What a database role could do to `audit_logs` beyond appending to it, as PostgreSQL answers. */
export interface AuditTrailPowers {
  readonly role: string;
  readonly tableExists: boolean;
  /** The role is a superuser, or may `SET ROLE` to one. */
  readonly superuser: boolean;
  readonly owner: string | null;
  readonly owns: boolean;
  /** The role may act as the owner (`pg_has_role … 'MEMBER'`): ALTER, DROP and disabling triggers. */
  readonly memberOfOwner: boolean;
  /** Table privileges that change or remove rows, or add triggers, held by grant on the table or one of its months. */
  readonly rewritingPrivileges: readonly string[];
  /**
   * Privileges that write the seal chain's bookkeeping or the rollups directly (`INSERT on
   * audit_seals`…), bypassing the functions that check the chain is continued.
   */
  readonly chainWritingPrivileges: readonly string[];
}

const REWRITING_PRIVILEGES = ['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER'];
/** The seal chain's tables and what the seals keep, written only through the owner's functions and triggers. */
const CHAIN_TABLES = ['audit_seals', 'audit_row_hashes', 'audit_sealer_lease', 'audit_stats_hourly', 'audit_stats_daily', 'audit_stats_user_daily'];

/**
 * The powers of `role`, or of the connection's `session_user` when `role` is undefined;
 * `undefined` when no such role exists.
 *
 * The session user, not the current user: a session that logged in as a superuser or the owner
 * can `RESET ROLE` whatever role it was switched to.
 */
export async function auditTrailPowers(sql: postgres.Sql, role?: string): Promise<AuditTrailPowers | undefined> {
  const [row] = await sql<
    {
      role: string;
      table_exists: boolean;
      superuser: boolean;
      owner: string | null;
      owns: boolean;
      member_of_owner: boolean;
      rewriting_privileges: string[];
      chain_writing_privileges: string[];
    }[]
  >`
    select r.rolname as role,
           t.oid is not null as table_exists,
           exists (select from pg_roles s where s.rolsuper and pg_has_role(r.oid, s.oid, 'MEMBER')) as superuser,
           pg_get_userbyid(t.relowner) as owner,
           coalesce(t.relowner = r.oid, false) as owns,
           coalesce(pg_has_role(r.oid, t.relowner, 'MEMBER'), false) as member_of_owner,
           array(select p from unnest(${REWRITING_PRIVILEGES}::text[]) p
                 where t.oid is not null and exists (
                   select from (select t.oid union all select inhrelid from pg_inherits where inhparent = t.oid) rel(oid)
                   where has_table_privilege(r.oid, rel.oid, p))) as rewriting_privileges,
           array(select p || ' on ' || tbl from unnest(${REWRITING_PRIVILEGES.concat('INSERT')}::text[]) p,
                   unnest(${CHAIN_TABLES}::text[]) tbl
                 where to_regclass(tbl) is not null and has_table_privilege(r.oid, to_regclass(tbl), p)) as chain_writing_privileges
    from pg_roles r
    left join pg_class t on t.oid = to_regclass('audit_logs')
    where r.rolname = coalesce(${role ?? null}::name, session_user)`;
  if (!row) return undefined;
  return {
    role: row.role,
    tableExists: row.table_exists,
    superuser: row.superuser,
    owner: row.owner,
    owns: row.owns,
    memberOfOwner: row.member_of_owner,
    rewritingPrivileges: row.rewriting_privileges,
    chainWritingPrivileges: row.chain_writing_privileges,
  };
}

/** Why a role with `powers` could rewrite the trail, in one line; `undefined` if it cannot. */
export function rewriteRisk(powers: AuditTrailPowers): string | undefined {
  const who = `the database role "${powers.role}"`;
  if (powers.superuser) return `${who} is a superuser (or can become one), so it could rewrite the audit trail`;
  if (powers.owns) return `${who} owns audit_logs, so it could rewrite the audit trail`;
  if (powers.memberOfOwner) {
    return `${who} is a member of "${powers.owner}", the owner of audit_logs, so it could rewrite the audit trail`;
  }
  if (powers.rewritingPrivileges.length > 0) {
    return `${who} has ${powers.rewritingPrivileges.join(', ')} on audit_logs (or one of its monthly partitions), so it could rewrite the audit trail`;
  }
  if (powers.chainWritingPrivileges.length > 0) {
    return `${who} has ${powers.chainWritingPrivileges.join(', ')}, so it could bend the seal chain (run "npm run db:create-serving-role" again to repair its grants)`;
  }
  return undefined;
}

/** What to do when `audit_logs` is missing: the schema was never migrated. */
export const NOT_MIGRATED = 'audit_logs does not exist: run "npm run db:migrate" first, or set MIGRATION_DATABASE_URL';

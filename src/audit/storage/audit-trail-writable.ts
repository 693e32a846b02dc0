import type postgres from 'postgres';
import { WRITTEN_COLUMN_NAMES } from './audit-sink';

/**
 * Whether this session could write audit rows now, found without writing one: its role may INSERT
 * every column the writer fills, and the session is not read-only (a standby, or
 * `default_transaction_read_only`). A missing `audit_logs` table counts as not writable. Throws
 * when the database does not answer.
 */
export async function auditTrailWritable(sql: postgres.Sql): Promise<boolean> {
  const [row] = await sql<{ writable: boolean | null }[]>`
    select bool_and(has_column_privilege(current_user, to_regclass('audit_logs'), column_name, 'INSERT'))
           and current_setting('transaction_read_only') = 'off' as writable
    from unnest(string_to_array(${WRITTEN_COLUMN_NAMES.join(',')}, ',')) as column_name`;
  return row?.writable === true;
}

import type postgres from 'postgres';

/** The triggers of a table's audit backstop, by name suffix (src/audit/storage/backstop.ts). */
const BACKSTOP_TRIGGERS = ['insert', 'update', 'delete', 'truncate', 'mark', 'claims'];

/**
 * Runs `change` in a transaction of `sql` with `table`'s audit backstop switched off, as only its
 * owner or a superuser can: what it changes goes unrecorded. The triggers are switched back on
 * (ALWAYS, as installed) before it commits, so nothing in the catalog shows it happened.
 */
export function withBackstopOff<T>(sql: postgres.Sql, table: string, change: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  const each = (verb: string) => BACKSTOP_TRIGGERS.map((suffix) => `${verb} TRIGGER "${table}_audit_backstop_${suffix}"`).join(', ');
  return sql.begin(async (tx) => {
    await tx.unsafe(`ALTER TABLE "${table}" ${each('DISABLE')}`);
    const result = await change(tx);
    await tx.unsafe(`ALTER TABLE "${table}" ${each('ENABLE ALWAYS')}`);
    return result as T;
  }) as Promise<T>;
}

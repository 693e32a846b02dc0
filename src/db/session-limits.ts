import type postgres from 'postgres';
import type { SessionTimeouts } from '../config/database-timeouts';

/**
 * The limits as startup parameters, so they hold from a session's first statement, reconnects
 * included. Strings, because postgres.js leaves out falsy parameters and `0` must still override
 * a limit set on the role or database.
 */
export function timeoutParameters(timeouts: SessionTimeouts): Record<string, string> {
  return {
    statement_timeout: String(timeouts.statementTimeoutMs),
    lock_timeout: String(timeouts.lockTimeoutMs),
    idle_in_transaction_session_timeout: String(timeouts.idleInTransactionSessionTimeoutMs),
  };
}

/** The longest a request waits for a dropped connection to be re-established, in seconds. */
const MAX_RECONNECT_DELAY_S = 1;

/**
 * postgres.js `backoff`: seconds before a closed connection reconnects, after `retries` failed
 * attempts across the pool. Its default grows to 20 s, and a database restart under load (or
 * terminated sessions) counts many attempts, so requests kept waiting that long after the database
 * was back. Doubling from 50 ms to a 1 s ceiling, with jitter, still spares a database that is down.
 */
export function reconnectBackoff(retries: number): number {
  return Math.min(MAX_RECONNECT_DELAY_S, 0.05 * 2 ** retries) * (0.5 + Math.random() / 2);
}

/**
 * Behind a pooler in transaction mode the limits cannot travel as startup parameters, and a `SET`
 * would outlive the transaction on a session another client gets next: they become the serving
 * role's own defaults in this database, which PostgreSQL applies to every session it opens for the
 * role. Sessions the pooler opened before keep theirs until it recycles them (PgBouncer's
 * `server_lifetime`, or `RECONNECT` on its console); returns whether the session that ran this
 * already has them.
 */
export async function applyRoleTimeouts(sql: postgres.Sql, timeouts: SessionTimeouts): Promise<boolean> {
  const [{ database }] = await sql<{ database: string }[]>`select current_database() as database`;
  const quoted = `"${database!.replaceAll('"', '""')}"`;
  const parameters = timeoutParameters(timeouts);
  for (const [name, value] of Object.entries(parameters)) {
    // Utility statements take no parameters: the name is ours and the value an integer.
    await sql.unsafe(`alter role current_user in database ${quoted} set ${name} = ${Number(value)}`);
  }
  const current = await sql<{ name: string; value: string }[]>`
    select name, setting as value from pg_settings where name in ${sql(Object.keys(parameters))}`;
  return current.every(({ name, value }) => value === parameters[name as keyof typeof parameters]);
}

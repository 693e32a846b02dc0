/**
 * Bounds on how long a serving connection may wait on PostgreSQL, so a lock held elsewhere, a slow
 * statement or a stalled transaction fails its request instead of holding a pool connection (and
 * the rows it locked) indefinitely. `0` turns a limit off, as in PostgreSQL.
 */
export interface SessionTimeouts {
  /** `statement_timeout`: the longest any statement may run, lock waits included. */
  readonly statementTimeoutMs: number;
  /** `lock_timeout`: the longest a statement may wait for a lock, e.g. on `audit_logs` or a row being changed. */
  readonly lockTimeoutMs: number;
  /** `idle_in_transaction_session_timeout`: ends a session whose transaction sits idle, releasing its locks. */
  readonly idleInTransactionSessionTimeoutMs: number;
}

/**
 * Every statement the API runs takes milliseconds and every transaction holds its locks only
 * while its few statements run, so these only ever fire when something is wrong.
 */
export const DEFAULT_SESSION_TIMEOUTS: SessionTimeouts = {
  statementTimeoutMs: 10_000,
  lockTimeoutMs: 2_000,
  idleInTransactionSessionTimeoutMs: 30_000,
};

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

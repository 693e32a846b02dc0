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

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

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

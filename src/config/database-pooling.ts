import { ConfigError } from './settings';

/**
 * How the serving connections reach PostgreSQL. `session`: directly, or through a pooler that
 * gives each client a server session of its own (PgBouncer's `pool_mode = session`). `transaction`:
 * through a pooler that lends a server session for one transaction at a time (PgBouncer's
 * `pool_mode = transaction`), which carries nothing from one transaction to the next — no
 * protocol-level prepared statements, no startup parameters but a few, no session settings.
 */
export type PoolMode = 'session' | 'transaction';

const MODES: readonly PoolMode[] = ['session', 'transaction'];

/** `DATABASE_POOL_MODE`; `session` when unset. */
export function parsePoolMode(value: string | undefined): PoolMode {
  const mode = value?.trim() || 'session';
  if (!MODES.includes(mode as PoolMode)) throw new ConfigError(`DATABASE_POOL_MODE must be one of ${MODES.join(', ')}, got "${value}"`);
  return mode as PoolMode;
}

import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
export type Db = PostgresJsDatabase;
import type { SessionTimeouts } from '../config/database-timeouts';
import { trackPoolUsage, type PoolUsage } from './pool-usage';
import { reconnectBackoff, timeoutParameters } from './session-limits';
/** A Drizzle handle that may be the pool or an open transaction. */
export type DbExecutor = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

/** The application's connection to PostgreSQL. */
export interface Database {
  readonly db: Db;
  readonly sql: postgres.Sql;
  /** Queries and transactions in flight on the pool right now (see {@link PoolUsage}). */
  poolUsage(): PoolUsage;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Pool size. The embedded server multiplexes one PGlite, which needs exactly one connection. */
  maxConnections?: number;
  /** Limits for every session of the pool; none when omitted (migrations, tools). */
  timeouts?: SessionTimeouts;
  /** How the sessions show in `pg_stat_activity`; defaults to `audited-graphql-api`. */
  applicationName?: string;
}

/** Opens a postgres.js pool with Drizzle on top; the one code path for every kind of server. */
export function connectDatabase(url: string, options: DatabaseOptions = {}): Database {
  const pool = postgres(url, {
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    backoff: reconnectBackoff,
    connection: { application_name: options.applicationName ?? 'audited-graphql-api', ...(options.timeouts && timeoutParameters(options.timeouts)) },
  });
  // Every statement of the server goes through this handle, so the counts cover them all.
  const { sql, usage } = trackPoolUsage(pool);
  const db = drizzle(sql);
  return {
    db,
    sql,
    poolUsage: usage,
    close: () => pool.end({ timeout: 5 }),
  };
}

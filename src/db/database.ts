import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
export type Db = PostgresJsDatabase;
import type { SessionTimeouts } from '../config/database-timeouts';
import { reconnectBackoff, timeoutParameters } from './session-limits';
/** A Drizzle handle that may be the pool or an open transaction. */
export type DbExecutor = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

/** The application's connection to PostgreSQL. */
export interface Database {
  readonly db: Db;
  readonly sql: postgres.Sql;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Pool size. The embedded server multiplexes one PGlite, which needs exactly one connection. */
  maxConnections?: number;
  /** Limits for every session of the pool; none when omitted (migrations, tools). */
  timeouts?: SessionTimeouts;
}

/** Opens a postgres.js pool with Drizzle on top; the one code path for every kind of server. */
export function connectDatabase(url: string, options: DatabaseOptions = {}): Database {
  const sql = postgres(url, {
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    backoff: reconnectBackoff,
    connection: { application_name: 'audited-graphql-api', ...(options.timeouts && timeoutParameters(options.timeouts)) },
  });
  const db = drizzle(sql);
  return {
    db,
    sql,
    close: () => sql.end({ timeout: 5 }),
  };
}

import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
export type Db = PostgresJsDatabase;
import type { SessionTimeouts } from '../config/database-timeouts';
import type { PoolMode } from '../config/database-pooling';
import { trackPoolUsage, type PoolUsage } from './pool-usage';
import { preparingStatements } from './prepared-statements';
import { reconnectBackoff, timeoutParameters } from './session-limits';
/** A Drizzle handle that may be the pool or an open transaction. */
export type DbExecutor = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

/** The application's connection to PostgreSQL. */
export interface Database {
  /**
   * Drizzle for the server's own statements, whose shape fixes their plan (a record by id, a
   * change, an audit row): each is prepared once per session, and PostgreSQL keeps its plan.
   */
  readonly db: Db;
  /**
   * Drizzle for searches of the trail, whose best plan depends on their values: each is sent
   * unnamed and planned for them. A plan kept for any value can use none of the trail's partial
   * indexes (each holds one value's rows) nor tell a rare action from a common one, and
   * PostgreSQL would switch to one after five executions when it looks about as cheap.
   */
  readonly searches: Db;
  readonly sql: postgres.Sql;
  /** Queries and transactions in flight on the pool right now (see {@link PoolUsage}). */
  poolUsage(): PoolUsage;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Pool size. The embedded server multiplexes one PGlite, which needs exactly one connection. */
  maxConnections?: number;
  /**
   * Limits for every session of the pool, sent as startup parameters; none when omitted
   * (migrations, tools). In `transaction` pool mode they cannot be: see {@link applyRoleTimeouts}.
   */
  timeouts?: SessionTimeouts;
  /**
   * `transaction`: `url` is a pooler in transaction mode (PgBouncer), which carries no prepared
   * statement and refuses session parameters at startup, so neither is used. Defaults to `session`.
   */
  poolMode?: PoolMode;
  /** How the sessions show in `pg_stat_activity`; defaults to `audited-graphql-api`. */
  applicationName?: string;
}

/** Opens a postgres.js pool with Drizzle on top; the one code path for every kind of server. */
export function connectDatabase(url: string, options: DatabaseOptions = {}): Database {
  const pooled = options.poolMode === 'transaction';
  const pool = postgres(url, {
    max: options.maxConnections ?? 10,
    onnotice: () => {},
    backoff: reconnectBackoff,
    prepare: !pooled,
    connection: {
      // PgBouncer 1.18 passes application_name on and closes a client that sends any other.
      application_name: options.applicationName ?? 'audited-graphql-api',
      ...(options.timeouts && !pooled && timeoutParameters(options.timeouts)),
    },
  });
  // Every statement of the server goes through this handle, so the counts cover them all.
  const { sql, usage } = trackPoolUsage(pool);
  const db = drizzle(preparingStatements(sql));
  return {
    db,
    searches: drizzle(sql),
    sql,
    poolUsage: usage,
    close: () => pool.end({ timeout: 5 }),
  };
}

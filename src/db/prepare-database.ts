import { ConfigError, type AppConfig } from '../config/config';
import type { Logger } from '../config/logger';
import { auditTrailPowers, NOT_MIGRATED, rewriteRisk } from './audit-trail-powers';
import type { Database } from './database';
import { migrateDatabaseAt } from './migrate';
import { applyRoleTimeouts } from './session-limits';

export interface PrepareDatabaseOptions {
  /**
   * `false` skips production's check of the serving role. Only for the embedded PGlite in tests
   * and the benchmark's fallback: it has a single (superuser) role, so it cannot pass the check.
   */
  readonly checkServingRole: boolean;
}

/**
 * Brings the schema up to date (on a connection of its own, without the serving pool's timeouts),
 * then makes sure the serving connection (`serving`, at `servingUrl`) is fit to
 * serve. Throws {@link ConfigError} (one line, for operators) when it is not.
 *
 * Migrations run as the owner (`MIGRATION_DATABASE_URL`) when one is configured; otherwise as the
 * serving role if it may create schemas (development: one role, as before). A serving role that
 * may not has its schema migrated beforehand by `npm run db:migrate`.
 *
 * In production the serving role must not be able to rewrite the trail: not a superuser, not the
 * owner of `audit_logs` or a member of it, no UPDATE/DELETE/TRUNCATE/TRIGGER on it.
 */
export async function prepareDatabase(
  config: AppConfig,
  serving: Database,
  servingUrl: string,
  logger: Logger,
  options: PrepareDatabaseOptions,
): Promise<void> {
  const pooled = config.databasePoolMode === 'transaction';
  if (config.migrationDatabaseUrl) {
    await migrateDatabaseAt(config.migrationDatabaseUrl);
  } else if (pooled) {
    // Runs take turns under a session-level lock, which a pooler in transaction mode does not keep.
    logger.info('DATABASE_POOL_MODE=transaction and MIGRATION_DATABASE_URL is not set: not migrating (migrations need a direct connection)');
  } else if (await mayCreateSchemas(serving)) {
    await migrateDatabaseAt(servingUrl);
  } else {
    logger.info('MIGRATION_DATABASE_URL is not set and the role of DATABASE_URL cannot migrate: not migrating');
  }

  const powers = await auditTrailPowers(serving.sql);
  if (!powers?.tableExists) throw new ConfigError(NOT_MIGRATED);
  const risk = rewriteRisk(powers);
  if (risk && config.production && options.checkServingRole) {
    throw new ConfigError(`${risk}; serve as a role made by "npm run db:create-serving-role" (docs/security.md, Database roles)`);
  }
  if (pooled && !(await applyRoleTimeouts(serving.sql, config.databaseTimeouts))) {
    logger.warn('DATABASE_POOL_MODE=transaction: the database timeouts are now the serving role\'s defaults, which sessions the pooler opened before keep out of until it recycles them (docs/operations.md, Connection poolers)');
  }
}

/** Whether the connection's role may create schemas, which drizzle's migrator does first. */
async function mayCreateSchemas(database: Database): Promise<boolean> {
  const [row] = await database.sql<{ allowed: boolean }[]>`select has_database_privilege(current_database(), 'CREATE') as allowed`;
  return row!.allowed;
}

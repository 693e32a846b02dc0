import { sql } from 'drizzle-orm';
import { ConfigError } from '../../config/config';
import type { Logger } from '../../config/logger';
import type { Db } from '../../db/database';
import { describeFailure } from '../../core/failure';

/**
 * How often each server tends the trail's months. They are created three months ahead, so a
 * missed round, or a day of them, changes nothing.
 */
export const AUDIT_UPKEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Creates the partitions of this month and the next three that do not exist yet (as the owner,
 * through `audit_logs_ensure_partitions()`, migration 0007), and returns how many it created. An
 * audit row for a month without a partition would be refused, and with it the request it records.
 */
export async function ensureAuditMonths(db: Db): Promise<number> {
  try {
    const [row] = await db.execute<{ created: number }>(sql`select audit_logs_ensure_partitions() as created`);
    return row!.created;
  } catch (error) {
    if (describeFailure(error).code !== '42501') throw error;
    throw new ConfigError(
      'the serving role may not create the coming months of audit_logs (EXECUTE on audit_logs_ensure_partitions()); run "npm run db:create-serving-role" (docs/security.md, Database roles)',
    );
  }
}

/**
 * Analyzes the months changed by more than a tenth since their last ANALYZE and merges their GIN
 * pending lists (`audit_logs_refresh_statistics()`), for servers that run without autovacuum.
 * Returns how many months it refreshed.
 */
async function refreshAuditStatistics(db: Db): Promise<number> {
  const [row] = await db.execute<{ refreshed: number }>(sql`select audit_logs_refresh_statistics() as refreshed`);
  return row!.refreshed;
}

/**
 * Every `intervalMs` until stopped: {@link ensureAuditMonths}, then {@link refreshAuditStatistics}.
 * Failures are logged; the next round retries.
 */
export function startAuditUpkeep(db: Db, logger: Logger, intervalMs = AUDIT_UPKEEP_INTERVAL_MS): { stop(): void } {
  const round = async () => {
    const created = await ensureAuditMonths(db);
    if (created > 0) logger.info({ created }, 'created the coming months of audit_logs');
    const refreshed = await refreshAuditStatistics(db);
    if (refreshed > 0) logger.info({ refreshed }, 'refreshed the statistics of busy months of audit_logs');
  };
  const timer = setInterval(() => {
    round().catch((error: unknown) => logger.error({ err: error }, 'audit_logs upkeep failed'));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

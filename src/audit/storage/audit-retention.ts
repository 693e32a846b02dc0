import type { KeyObject } from 'node:crypto';
import { and, gte, lt, sql } from 'drizzle-orm';
import type { Db, DbExecutor } from '../../db/database';
import { AUDIT_RETENTION } from '../model/built-in-actions';
import type { RequestAudit } from '../record/request-audit';
import { auditStatsDaily, auditStatsHourly, auditStatsUserDaily } from './audit-stats.table';
import { signRetention, type RemovedFromSeal } from '../integrity/retention-record';
import { SEALED_HORIZON_SQL } from '../integrity/chain-store';


/** One month of `audit_logs` (partition `audit_logs_YYYY_MM`), covering [from, to) in UTC. */
export interface AuditMonth {
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
}

/** A dropped month, as the retention row records it. */
export interface DroppedAuditMonth extends AuditMonth {
  readonly rows: number;
  /** Null for an empty month. */
  readonly firstId: string | null;
  readonly lastId: string | null;
  /** The seals whose rows it held, and how many of each. */
  readonly seals: readonly RemovedFromSeal[];
}

export interface RetentionResult {
  readonly dropped: readonly DroppedAuditMonth[];
  /** The id of the `audit_retention` row; undefined when nothing was dropped. */
  readonly recordId?: string;
}

/** A retention request that cannot be carried out, in one line for the operator. */
export class RetentionError extends Error {
  override readonly name = 'RetentionError';
}

/** How long retention waits for the trail's lock, rather than stall every writer queued behind it. */
const LOCK_TIMEOUT = '5s';

const MONTH_NAME = /^audit_logs_(\d{4})_(\d{2})$/;

/** The months of `audit_logs` that end on or before `before`, oldest first. */
export async function auditMonthsBefore(db: DbExecutor, before: Date): Promise<AuditMonth[]> {
  const partitions = await db.execute<{ name: string }>(sql`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'audit_logs'::regclass order by c.relname`);
  return partitions
    .map(({ name }) => monthOf(name))
    .filter((month): month is AuditMonth => month !== undefined && month.to.getTime() <= before.getTime());
}

function monthOf(name: string): AuditMonth | undefined {
  const match = MONTH_NAME.exec(name);
  if (!match) return undefined;
  const [year, month] = [Number(match[1]), Number(match[2])];
  return { name, from: new Date(Date.UTC(year, month - 1, 1)), to: new Date(Date.UTC(year, month, 1)) };
}

/**
 * Drops every month of the trail that ends on or before `before` and records what it dropped as
 * an `audit_retention` row, in one transaction: either the months are gone (with their counts in
 * the rollups) and the row says so, or nothing changed. The record names, for each month, the seals
 * whose rows it removed and how many, and is signed with `signingKey`, the key that signs the seals:
 * verify accepts rows missing from the chain only as a signed retention removed them, once the next
 * seal covers its row. The row is `audit`'s, written in the transaction through its sink like
 * every other row (a command line run's: `commandLineRun`). Only the owner of `audit_logs` may drop
 * its partitions; the current month is never dropped.
 */
export async function dropAuditMonthsBefore(db: Db, before: Date, signingKey: KeyObject, audit: RequestAudit, now = new Date()): Promise<RetentionResult> {
  const thisMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  if (before.getTime() > thisMonth.getTime()) {
    throw new RetentionError(`--before must be on or before ${thisMonth.toISOString().slice(0, 10)}: the current month is never dropped`);
  }
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('lock_timeout', ${LOCK_TIMEOUT}, true)`);
    // Dropping a partition locks the whole table; taking that lock first means no writer can slip
    // in between two drops, and a long reader makes retention give up instead of queueing writers.
    await tx.execute(sql`lock table audit_logs in access exclusive mode`);
    const dropped: DroppedAuditMonth[] = [];
    // Rows no seal covers yet would leave the trail without ever having been sealed: verify could
    // not tell them from rows that never existed.
    const [sealed] = await tx.execute<{ horizon: string }>(sql`select ${sql.raw(SEALED_HORIZON_SQL)}::text as horizon`);
    for (const month of await auditMonthsBefore(tx, before)) {
      const table = sql.identifier(month.name);
      const [unsealed] = await tx.execute<{ rows: number }>(
        sql`select count(*)::int as rows from ${table} where xact_id >= ${sealed!.horizon}::xid8`,
      );
      if (unsealed!.rows > 0) {
        throw new RetentionError(`${month.name} holds ${unsealed!.rows} row(s) no seal covers yet; run again once the sealer has sealed them (docs/integrity.md)`);
      }
      const [stats] = await tx.execute<{ rows: number; first_id: string | null; last_id: string | null }>(
        sql`select count(*)::int as rows, min(id)::text as first_id, max(id)::text as last_id from ${table}`,
      );
      const seals = await tx.execute<{ seal: number; rows: number }>(
        sql`select h.seal::int as seal, count(*)::int as rows from ${table} a join audit_row_hashes h on h.id = a.id group by h.seal order by h.seal`,
      );
      await tx.execute(sql`drop table ${table}`);
      // The month's counts go with its rows: auditStats counts the sealed rows the trail still holds.
      for (const rollup of [auditStatsHourly, auditStatsDaily, auditStatsUserDaily]) {
        await tx.delete(rollup).where(and(gte(rollup.bucketStart, month.from), lt(rollup.bucketStart, month.to)));
      }
      dropped.push({ ...month, rows: stats!.rows, firstId: stats!.first_id, lastId: stats!.last_id, seals: seals.map(({ seal, rows }) => ({ seal, rows })) });
    }
    if (dropped.length === 0) return { dropped };
    const [who] = await tx.execute<{ role: string }>(sql`select current_user as role`);
    const { requestId } = audit.request;
    const details = signRetention(
      {
        retentionId: requestId,
        before: before.toISOString(),
        databaseRole: who!.role,
        partitions: dropped.map((month) => ({ ...month, from: month.from.toISOString(), to: month.to.toISOString() })),
      },
      signingKey,
    );
    await audit.recordInTransaction(tx, { action: AUDIT_RETENTION, details: { ...details } });
    const [record] = await tx.execute<{ id: string }>(sql`select id::text from audit_logs where request_id = ${requestId}`);
    return { dropped, recordId: record!.id };
  });
}

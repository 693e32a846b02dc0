import type { SealWatcher } from '../../audit/operations';
import type { AuditLogRow } from '../../audit/operations';
import type { Logger } from '../../config/logger';
import { InvalidInput } from '../../core/errors';
import type { Db } from '../../db/database';
import { AuditIntegrityService } from '../integrity/audit-integrity.service';
import { AuditLogService } from '../query/audit-log.service';
import { AuditLog } from '../query/audit-log.type';

/** A sealed row as the feed delivers it, with its place in the seal order. */
export interface SealedEntry {
  readonly row: AuditLogRow;
  readonly seal: number;
  readonly node: AuditLog;
}

/** Rows read from the sealed stream per statement. */
export const STREAM_BATCH = 200;

/** Whether `entry` comes after `position` in the seal order (seal, then id). */
export const isAfter = (entry: SealedEntry, position: { seal: number; id: bigint } | undefined): boolean =>
  !position || entry.seal > position.seal || (entry.seal === position.seal && entry.row.id > position.id);

/**
 * One process's reader of the sealed stream, shared by all its live feeds: each newly sealed row is
 * read from the database once (with its hash and seal) and handed to every listener, however many
 * subscriptions are open; each applies its own filter in memory. It reads only while someone
 * listens, after each new seal the {@link SealWatcher} sees (one look at the chain's head per poll,
 * per process).
 */
export class SealedStream {
  private readonly listeners = new Set<(entries: readonly SealedEntry[]) => void>();
  private running: Promise<void> | undefined;
  private stopped = new AbortController();

  /**
   * `reads` is where it reads (a read replica while it keeps up: `TrailReads`); `seals` watches the
   * primary's chain, so a seal the replica has not replayed yet is read on a later wake.
   */
  constructor(
    private readonly reads: { readonly database: { readonly searches: Db }; readonly primary: { readonly searches: Db } },
    private readonly seals: SealWatcher,
    private readonly logger: Logger,
  ) {}

  private get service(): AuditLogService {
    return new AuditLogService(this.reads.database.searches);
  }

  /** Rows sealed from now on go to `listener` in seal order, in batches, until the returned function is called. */
  listen(listener: (entries: readonly SealedEntry[]) => void): () => void {
    this.listeners.add(listener);
    this.running ??= this.run().finally(() => (this.running = undefined));
    return () => void this.listeners.delete(listener);
  }

  /**
   * The sealed rows after `afterId` that match, read from `db` (where the stream reads, by default):
   * one feed catching up from its cursor reads the primary, which has every row the stream passed.
   */
  async page(filter: Parameters<AuditLogService['listSealed']>[0], afterId: bigint | undefined, db: Db = this.reads.database.searches): Promise<{ entries: SealedEntry[]; more: boolean }> {
    const page = await new AuditLogService(db).listSealed(filter, { first: STREAM_BATCH, afterId });
    return { entries: await this.entries(db, page.rows), more: page.hasNextPage };
  }

  /** Stops reading (the server is shutting down); listeners get nothing more. */
  async stop(): Promise<void> {
    this.stopped.abort();
    this.seals.pause();
    await this.running;
  }

  private async run(): Promise<void> {
    let position: bigint | undefined;
    try {
      position = await this.service.lastSealedId();
    } catch (error) {
      this.logger.error({ err: error }, 'live feed: could not read where the sealed stream ends');
    }
    while (this.listeners.size > 0 && !this.stopped.signal.aborted) {
      try {
        const { entries, more } = await this.page(null, position);
        if (entries.length > 0) {
          position = entries.at(-1)!.row.id;
          for (const listener of [...this.listeners]) listener(entries);
        }
        if (!more) await this.seals.nextSeal(this.stopped.signal);
      } catch (error) {
        // Retention removed the row the stream stood at: go on from the newest sealed row. On a
        // replica the row may not be replayed yet (the primary served before): wait for it.
        if (error instanceof InvalidInput && (await this.onPrimaryMissing(position))) position = await this.service.lastSealedId().catch(() => position);
        else this.logger.warn({ err: error }, 'live feed: reading the sealed stream failed; trying again');
        await this.seals.nextSeal(this.stopped.signal);
      }
    }
  }

  /** Whether the row at `position` is gone from the primary too: removed, not just not replayed yet. */
  private async onPrimaryMissing(position: bigint | undefined): Promise<boolean> {
    if (position === undefined) return true;
    return !(await new AuditLogService(this.reads.primary.searches).findById(position).catch(() => undefined));
  }

  private async entries(db: Db, rows: readonly AuditLogRow[]): Promise<SealedEntry[]> {
    const hashes = await new AuditIntegrityService(db).ofRows(rows);
    return rows.map((row) => {
      const integrity = hashes.get(row.id)!;
      return { row, seal: integrity.seal!, node: AuditLog.fromRow(row, integrity) };
    });
  }
}

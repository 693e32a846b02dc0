import type { Logger } from '../config/logger';
import type { Database } from './database';

/** How {@link TrailReads} chooses. */
export interface TrailReadsOptions {
  /** Where everything is written, and where reads go when the replica cannot serve them. */
  readonly primary: Database;
  /** A streaming replica of the primary (`DATABASE_READ_URL`); none: every read goes to the primary. */
  readonly replica?: Database;
  /** The replica serves reads only while it is at most this far behind (`DATABASE_READ_MAX_LAG_MS`). */
  readonly maxLagMs: number;
  /** Told when reads move between the replica and the primary; only needed with a replica. */
  readonly logger?: Logger;
  /**
   * How often the replica's lag is measured, in milliseconds.
   * @defaultValue 1000
   */
  readonly intervalMs?: number;
}

/**
 * Where the trail's own queries read — `auditLogs`, `auditStats`, `myDataAccess`, exports and the
 * live feed: a streaming replica while it keeps up, so reporting does not load the primary that
 * takes every audited write, else the primary. Writes (the rows recording those very reads
 * included), denials, sealing and item reads never come here: they stay on the primary.
 *
 * The lag is measured every second: none while the replica has replayed all the primary has
 * written, else the time since the last transaction it replayed committed. Past `maxLagMs`, or while
 * the replica does not answer, reads fall back to the primary until it catches up again.
 */
export class TrailReads {
  private lag: number | undefined;
  /** When {@link lag} was measured: a sample ages, and counts as lag itself. */
  private measuredAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private measuring: Promise<void> | undefined;

  constructor(private readonly options: TrailReadsOptions) {}

  /** Every read on `primary`: a server without a replica, or a context in process. */
  static primaryOnly(primary: Database): TrailReads {
    return new TrailReads({ primary, maxLagMs: 0 });
  }

  /** The database a trail query should read from now. */
  get database(): Database {
    const { replica, maxLagMs } = this.options;
    const behindMs = this.lag === undefined ? Number.POSITIVE_INFINITY : this.lag * 1000 + (performance.now() - this.measuredAt);
    return replica && behindMs <= maxLagMs ? replica : this.options.primary;
  }

  /**
   * Where to read a page that continues after the row `rowId` (a cursor): {@link database}, unless
   * that is a replica which has not replayed the row yet — the client got it from the primary, or
   * from another server — where the page would look like the end of the trail.
   */
  async databaseWith(rowId: bigint | undefined): Promise<Database> {
    const chosen = this.database;
    if (rowId === undefined || chosen === this.options.primary) return chosen;
    const [row] = await chosen.sql`select 1 as found from audit_logs where id = ${rowId.toString()}::bigint`.catch(() => []);
    return row ? chosen : this.options.primary;
  }

  /** Where everything is written. */
  get primary(): Database {
    return this.options.primary;
  }

  /** Seconds the replica is behind; `null` without one, `undefined` while it cannot be measured. */
  get lagSeconds(): number | null | undefined {
    return this.options.replica ? this.lag : null;
  }

  /** Measures now, then every interval until {@link stop}. */
  async start(): Promise<void> {
    if (!this.options.replica) return;
    await this.measure();
    this.timer = setInterval(() => void (this.measuring ??= this.measure().finally(() => (this.measuring = undefined))), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.measuring;
  }

  private async measure(): Promise<void> {
    const wasServing = this.database === this.options.replica;
    // A replica that hangs must not keep serving on its last good sample: one that does not answer
    // within the bound (or a second) counts as unreachable.
    const timeoutMs = Math.min(this.options.maxLagMs, 1000);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), timeoutMs)));
    try {
      this.lag = await Promise.race([this.replicaLag(), timedOut]);
      this.measuredAt = performance.now();
    } catch {
      this.lag = undefined;
    } finally {
      clearTimeout(timer);
    }
    const serving = this.database === this.options.replica;
    if (serving !== wasServing) {
      const lagMs = this.lag === undefined ? null : Math.round(this.lag * 1000);
      if (serving) this.options.logger?.info({ lagMs }, 'trail reads: the read replica serves them again');
      else this.options.logger?.warn({ lagMs, maxLagMs: this.options.maxLagMs }, 'trail reads: the read replica is behind or unreachable, reading from the primary');
    }
  }

  /** None while the replica has replayed all the primary has written, else the age of the last transaction it replayed. */
  private async replicaLag(): Promise<number> {
    const [primary] = await this.options.primary.sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
    const [replica] = await this.options.replica!.sql<{ caught_up: boolean; age: number | null }[]>`
      select pg_last_wal_replay_lsn() >= ${primary!.lsn}::pg_lsn as caught_up,
             extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as age`;
    return replica!.caught_up ? 0 : Math.max(0, replica!.age ?? Number.POSITIVE_INFINITY);
  }
}

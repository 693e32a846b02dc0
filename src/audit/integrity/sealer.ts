import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import type postgres from 'postgres';
import type { Logger } from '../../config/logger';
import { headSeal } from './chain-store';
import { hashedColumnsSql, microsecondsUtc, ROW_ENCODING, rowHash, type HashedRow } from './row-hash';
import { GENESIS_HASH, publicKeyText, sealHash, signSealHash, type Seal } from './seal-encoding';

/** Rows read, hashed and recorded per statement while sealing, so a large window never sits in memory. */
const BATCH_ROWS = 5_000;

export interface SealOptions {
  readonly signingKey: KeyObject;
  /** Who seals, as the lease names it: one name per process. */
  readonly holder: string;
  /** How long the lease lasts from each sealing: another process takes over once it lapses. */
  readonly leaseMs: number;
}

/** What {@link sealOnce} did: whether it held the lease, and the seal it made, if there was anything to seal. */
export interface SealOutcome {
  readonly leased: boolean;
  readonly seal?: Seal;
}

/**
 * Seals the finished rows not sealed yet, in one transaction: the rows whose `xact_id` lies in
 * [the last seal's horizon, `pg_snapshot_xmin` now). Every transaction below that xmin has ended, so
 * no row can join the window later. Only the lease's holder seals; the chain's tables are written
 * through the owner's functions, which refuse anything that does not continue the chain.
 */
export async function sealOnce(sql: postgres.Sql, options: SealOptions): Promise<SealOutcome> {
  return (await sql.begin(async (tx) => {
    const [lease] = await tx<{ held: boolean }[]>`select audit_seal_begin(${options.holder}, ${options.leaseMs}, ${ROW_ENCODING}) as held`;
    if (!lease!.held) return { leased: false };
    const nothing = { leased: true };
    const head = await headSeal(tx);
    const [snapshot] = await tx<{ horizon: string }[]>`select pg_snapshot_xmin(pg_current_snapshot())::text as horizon`;
    const fromXact = head?.horizon ?? '0';
    const horizon = snapshot!.horizon;
    if (BigInt(horizon) < BigInt(fromXact)) {
      // Impossible in one cluster: the database was restored into another, whose ids start lower.
      throw new Error(`transaction ids (${horizon}) are below the seal chain's horizon (${fromXact}): restored into another cluster? (docs/integrity.md)`);
    }
    if (horizon === fromXact) return nothing;

    const sequence = (head?.sequence ?? 0) + 1;
    const rowsDigest = createHash('sha256');
    let rowCount = 0;
    let firstId: string | undefined;
    let lastId: string | undefined;
    for (;;) {
      const rows = await tx.unsafe<HashedRow[]>(
        `select ${hashedColumnsSql('a')} from audit_logs a
         where a.xact_id >= $1::xid8 and a.xact_id < $2::xid8 and a.id > $3::bigint order by a.id limit ${BATCH_ROWS}`,
        [fromXact, horizon, lastId ?? '0'],
      );
      if (rows.length === 0) break;
      const hashes = rows.map(rowHash);
      for (const hash of hashes) rowsDigest.update(hash);
      await tx`
        select audit_seal_row_hashes(${sequence}, ${rows.map((row) => row.id)}::bigint[],
                                     array(select decode(h, 'hex') from unnest(${hashes.map((hash) => hash.toString('hex'))}::text[]) h))`;
      rowCount += rows.length;
      firstId ??= rows[0]!.id;
      lastId = rows.at(-1)!.id;
    }
    // Nothing committed in the window: the next seal starts from the same horizon.
    if (rowCount === 0) return nothing;

    const [clock] = await tx.unsafe<{ sealed_at: string }[]>(`select ${microsecondsUtc('clock_timestamp()')} as sealed_at`);
    const content = {
      sequence,
      fromXact,
      horizon,
      rowCount,
      firstId: firstId!,
      lastId: lastId!,
      rowsHash: rowsDigest.digest('hex'),
      previousHash: head?.hash ?? GENESIS_HASH,
      sealedAt: clock!.sealed_at,
      publicKey: publicKeyText(options.signingKey),
    };
    const hash = sealHash(content);
    const seal: Seal = { ...content, hash, signature: signSealHash(hash, options.signingKey) };
    // The time as text: a driver left to its defaults would send a timestamptz parameter as a Date,
    // which keeps milliseconds only, and the stored seal would no longer match its hash.
    await tx`
      select audit_seal_append(${seal.sequence}, ${seal.fromXact}::xid8, ${seal.horizon}::xid8, ${seal.rowCount}, ${seal.firstId}::bigint,
                               ${seal.lastId}::bigint, ${seal.rowsHash}, ${seal.previousHash}, ${seal.sealedAt}::text::timestamptz,
                               ${seal.publicKey}, ${seal.hash}, ${seal.signature})`;
    return { leased: true, seal };
  })) as SealOutcome;
}

export interface SealerOptions {
  readonly signingKey: KeyObject;
  /** The connection sealing runs on: one of its own, so a long seal holds no connection of the API's pool. */
  readonly sql: postgres.Sql;
  /** Between the end of one sealing and the start of the next. */
  readonly intervalMs: number;
  readonly logger: Logger;
}

/**
 * Seals the trail every `intervalMs` while this process holds the sealer lease. Every server
 * process runs one and asks for the lease at each interval; its holder renews it each time, for
 * three intervals (at least 2 s), so when the sealing process dies another takes over once it lapses.
 */
export class Sealer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private holding = false;
  private readonly seal: SealOptions;

  constructor(private readonly options: SealerOptions) {
    this.seal = {
      signingKey: options.signingKey,
      holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      leaseMs: Math.max(3 * options.intervalMs, 2_000),
    };
  }

  /** Seals for the first time one interval from now, as the server has just started. */
  start(): void {
    this.schedule(this.options.intervalMs);
  }

  /**
   * Stops sealing. A seal in progress is not waited for: closing the connection it runs on ends it,
   * and its transaction rolls back, so a large first seal never holds up a shutdown.
   */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick().finally(() => this.schedule(this.options.intervalMs)), delayMs);
  }

  private async tick(): Promise<void> {
    try {
      const outcome = await sealOnce(this.options.sql, this.seal);
      if (outcome.leased && !this.holding) this.options.logger.info('this process seals the audit trail (it holds the sealer lease)');
      this.holding = outcome.leased;
      if (outcome.seal) this.options.logger.debug({ seal: outcome.seal.sequence, rows: outcome.seal.rowCount }, 'sealed audit rows');
    } catch (error) {
      if (!this.stopped) this.options.logger.warn({ err: error }, 'sealing the audit trail failed; trying again at the next interval');
    }
  }
}

import { createHash, type KeyObject } from 'node:crypto';
import type postgres from 'postgres';
import type { Logger } from '../../config/logger';
import { hashedColumnsSql, microsecondsUtc, rowHash, type HashedRow } from './row-hash';
import { GENESIS_HASH, publicKeyText, sealHash, signSealHash, type Seal } from './seal-encoding';

/**
 * The advisory lock only the sealing process holds, in the session of its own connection. Below
 * 2^31, so it shows in `pg_locks` as classid 0, objid this, objsubid 1. The other keys of the
 * family are the migrations' (…801), creating months (…802) and refreshing statistics (…803).
 */
export const SEALER_LOCK = 74_656_810;

/** Rows read, hashed and recorded per statement while sealing, so a large window never sits in memory. */
const BATCH_ROWS = 5_000;

export interface SealOptions {
  readonly signingKey: KeyObject;
  /** Seal only while this session holds {@link SEALER_LOCK}; false only where one process can reach the database (embedded). */
  readonly exclusive: boolean;
}

/**
 * Seals the finished rows not sealed yet, in one transaction: the rows whose `xact_id` lies in
 * [the last seal's horizon, `pg_snapshot_xmin` now). Every transaction below that xmin has ended, so
 * no row can join the window later. Returns the new seal, or `undefined` when there was nothing to
 * seal (or the lock was lost with the session).
 */
export async function sealOnce(sql: postgres.Sql, options: SealOptions): Promise<Seal | undefined> {
  return (await sql.begin(async (tx) => {
    if (options.exclusive) {
      const [lock] = await tx<{ held: boolean }[]>`
        select exists (select from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted
                       and classid = 0 and objid = ${SEALER_LOCK} and objsubid = 1) as held`;
      if (!lock!.held) return undefined;
    }
    const [head] = await tx<{ sequence: number; horizon: string; hash: string }[]>`
      select sequence::int as sequence, horizon::text as horizon, hash from audit_seals order by sequence desc limit 1`;
    const [snapshot] = await tx<{ horizon: string }[]>`select pg_snapshot_xmin(pg_current_snapshot())::text as horizon`;
    const fromXact = head?.horizon ?? '0';
    const horizon = snapshot!.horizon;
    if (BigInt(horizon) < BigInt(fromXact)) {
      // Impossible in one cluster: the database was restored into another, whose ids start lower.
      throw new Error(`transaction ids (${horizon}) are below the seal chain's horizon (${fromXact}): restored into another cluster? (README: Integrity)`);
    }
    if (horizon === fromXact) return undefined;

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
        insert into audit_row_hashes (id, seal, row_hash)
        select unnest(${rows.map((row) => row.id)}::bigint[]), ${sequence}, decode(unnest(${hashes.map((hash) => hash.toString('hex'))}::text[]), 'hex')`;
      rowCount += rows.length;
      firstId ??= rows[0]!.id;
      lastId = rows.at(-1)!.id;
    }
    // Nothing committed in the window: the next seal starts from the same horizon.
    if (rowCount === 0) return undefined;

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
    await tx`
      insert into audit_seals (sequence, from_xact, horizon, row_count, first_id, last_id, rows_hash, previous_hash,
                               sealed_at, public_key, hash, signature)
      values (${seal.sequence}, ${seal.fromXact}::xid8, ${seal.horizon}::xid8, ${seal.rowCount}, ${seal.firstId}::bigint,
              ${seal.lastId}::bigint, ${seal.rowsHash}, ${seal.previousHash}, ${seal.sealedAt}::timestamptz,
              ${seal.publicKey}, ${seal.hash}, ${seal.signature})`;
    return seal;
  })) as Seal | undefined;
}

export interface SealerOptions extends SealOptions {
  /** A connection of the sealer's own (one session, which holds the lock), or the embedded database's one. */
  readonly sql: postgres.Sql;
  /** Between the end of one sealing and the start of the next. */
  readonly intervalMs: number;
  readonly logger: Logger;
}

/**
 * Seals the trail every `intervalMs` while this process holds {@link SEALER_LOCK}. Every server
 * process runs one; the others try for the lock at each interval, so when the sealing process
 * dies (and PostgreSQL ends its session, releasing the lock) another takes over within one interval.
 */
export class Sealer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private holding = false;

  constructor(private readonly options: SealerOptions) {}

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
      if (this.options.exclusive && !(await this.takeLock())) return;
      const seal = await sealOnce(this.options.sql, this.options);
      if (seal) this.options.logger.debug({ seal: seal.sequence, rows: seal.rowCount }, 'sealed audit rows');
    } catch (error) {
      if (!this.stopped) this.options.logger.warn({ err: error }, 'sealing the audit trail failed; trying again at the next interval');
    }
  }

  /**
   * Whether this process's session holds the lock, taking it if free. Asked at every interval: a
   * reconnected session no longer holds it. Session locks stack, so one already held is not taken again.
   */
  private async takeLock(): Promise<boolean> {
    const [row] = await this.options.sql<{ held: boolean }[]>`
      select case when exists (select from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted
                                 and classid = 0 and objid = ${SEALER_LOCK} and objsubid = 1)
                  then true else pg_try_advisory_lock(${SEALER_LOCK}::bigint) end as held`;
    const held = row!.held;
    if (held && !this.holding) this.options.logger.info('this process seals the audit trail (it holds the sealer lock)');
    this.holding = held;
    return held;
  }
}

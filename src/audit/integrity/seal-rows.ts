import { createHash, type Hash } from 'node:crypto';
import type postgres from 'postgres';
import type { RetainedRange } from './retention-record';
import { hashedColumnsSql, rowHash, type HashedRow } from './row-hash';
import type { Seal } from './seal-encoding';

/*
 * verify's reading of the rows of a group of consecutive seals (verify.ts walks the chain): each
 * row in the seals' windows against its stored hash, and what the stored hashes say of each seal.
 */

/** The first bad row of a group: the seal and row verify names, and why. */
export interface RowFault {
  readonly seal: number;
  readonly row: string;
  readonly reason: string;
}

/** The rows signed retention records excuse, over the whole walk: the ranges and, by seal, the rows found missing in each. */
export class RetainedRows {
  /** Sealed rows found missing and excused. */
  rows = 0;
  private readonly missing: Map<number, number>[];

  constructor(readonly ranges: readonly RetainedRange[]) {
    this.missing = ranges.map(() => new Map());
  }

  /** Counts the missing row `id` of `seal` against the range that removed it; false when none did. */
  excuse(id: bigint, seal: number): boolean {
    const range = this.ranges.findIndex((r) => id >= r.firstId && id <= r.lastId && r.seals.has(seal));
    if (range < 0) return false;
    const missing = this.missing[range]!;
    missing.set(seal, (missing.get(seal) ?? 0) + 1);
    this.rows += 1;
    return true;
  }

  /** The rows of `seal` found missing in range `index`. */
  missingIn(index: number, seal: number): number {
    return this.missing[index]!.get(seal) ?? 0;
  }
}

/** A row of the group's windows joined to its stored hash; the row's columns are null when it is missing, the hash's when unsealed. */
type RowAndHash = HashedRow & { seal: number | null; row_hash: Buffer | null; hashed_id: string | null };

/**
 * Checks each row in the windows of `group` against its stored hash (and each stored hash of the
 * group's seals for a row): the fault of the lowest id, or how many rows matched.
 *
 * The join is not sorted: a sort of the rows' encodings took PostgreSQL about as long as reading
 * and encoding them, and produced nothing until done, while the unsorted hash join streams the
 * rows as the `xact_id` index gives them, so they are hashed here while PostgreSQL reads on. The
 * fault reported stays the one a walk in id order meets first: every row is checked, and the
 * fault of the lowest id kept (no row after it is hashed).
 */
export async function checkSealRows(sql: postgres.Sql, group: readonly Seal[], retained: RetainedRows): Promise<{ fault: RowFault } | { sealedRows: number }> {
  const horizons = group.map((seal) => BigInt(seal.horizon));
  let first: { id: bigint; fault: RowFault } | undefined;
  const found = (id: string, seal: number, reason: string) => {
    const at = BigInt(id);
    if (!first || at < first.id) first = { id: at, fault: { seal, row: id, reason } };
  };
  let sealedRows = 0;
  const checkRow = (row: RowAndHash) => {
    const id = row.id ?? row.hashed_id!;
    if (first && BigInt(id) > first.id) return;
    if (row.id === null) {
      if (!retained.excuse(BigInt(id), row.seal!)) found(id, row.seal!, 'the row was sealed but is missing: deleted');
      return;
    }
    const window = sealOf(group, horizons, BigInt(row.xact_id));
    if (row.row_hash === null) return found(row.id, window, `the row lies in seal ${window}'s window but was not sealed: inserted afterwards`);
    if (row.seal !== window) {
      return found(row.id, row.seal!, `the row was sealed in seal ${row.seal} but its xact_id ${row.xact_id} now places it in seal ${window}'s window`);
    }
    if (!rowHash(row).equals(row.row_hash)) return found(row.id, row.seal, 'the row differs from what was sealed: its hash does not match');
    sealedRows += 1;
  };
  const rowsAndHashes = sql.unsafe<RowAndHash[]>(
    `select h.seal::int as seal, h.id::text as hashed_id, h.row_hash, a.*
     from (select ${hashedColumnsSql('l')} from audit_logs l where l.xact_id >= $1::xid8 and l.xact_id < $2::xid8) a
     full join (select seal, id, row_hash from audit_row_hashes where seal between $3 and $4) h on h.id = a.id::bigint`,
    [group[0]!.fromXact, group.at(-1)!.horizon, group[0]!.sequence, group.at(-1)!.sequence],
  );
  await streamRows(rowsAndHashes, checkRow);
  return first ? { fault: first.fault } : { sealedRows };
}

/** What the stored row hashes say of a seal: checked against the seal's count, id range and rows hash. */
export interface SealTally {
  readonly digest: Hash;
  count: number;
  firstId: string | undefined;
  lastId: string | undefined;
}

/** Ids per run of row hashes {@link tallySeals} reads as one value: at most 512 KiB of hashes. */
const IDS_PER_RUN = 16_384;

/**
 * The tally of each seal of `group` from its stored row hashes, in id order as the rows hash covers
 * them. PostgreSQL hands them over concatenated in runs of consecutive ids (one value a run, not
 * one row a hash: the rows cost the verifier more than the digest), and memory stays flat however
 * large a seal; the digest of the runs in order is the digest of the hashes in id order.
 */
export async function tallySeals(sql: postgres.Sql, group: readonly Seal[]): Promise<Map<number, SealTally>> {
  const tallies = new Map(group.map((seal) => [seal.sequence, { digest: createHash('sha256'), count: 0, firstId: undefined, lastId: undefined } as SealTally]));
  const runs = sql.unsafe<{ seal: number; count: number; first_id: string; last_id: string; hashes: Buffer }[]>(
    `select h.seal::int as seal, count(*)::int as count, min(h.id)::text as first_id, max(h.id)::text as last_id,
            string_agg(h.row_hash, ''::bytea order by h.id) as hashes
     from audit_row_hashes h where h.seal between $1 and $2
     group by h.seal, h.id / ${IDS_PER_RUN} order by h.seal, h.id / ${IDS_PER_RUN}`,
    [group[0]!.sequence, group.at(-1)!.sequence],
  );
  await streamRows(runs, ({ seal, count, first_id, last_id, hashes }) => {
    const tally = tallies.get(seal)!;
    tally.digest.update(hashes);
    tally.count += count;
    tally.firstId ??= first_id;
    tally.lastId = last_id;
  });
  return tallies;
}

/**
 * Runs `query`, calling `each` with its rows as they arrive, and memory stays flat. Nothing may
 * be thrown in the callback (postgres.js calls it from its socket handler): an error is kept, the
 * query cancelled, and the error thrown once it has stopped.
 */
async function streamRows<Row extends postgres.Row>(query: postgres.PendingQuery<Row[]>, each: (row: Row) => void): Promise<void> {
  let error: unknown;
  await query
    .forEach((row) => {
      if (error !== undefined) return;
      try {
        each(row);
      } catch (thrown) {
        error = thrown;
        void query.cancel();
      }
    })
    .catch((thrown: unknown) => {
      if (error === undefined) throw thrown;
    });
  if (error !== undefined) throw error;
}

/** The seal of `group` whose window holds `xactId`, given the group's `horizons` (windows are contiguous and checked before). */
function sealOf(group: readonly Seal[], horizons: readonly bigint[], xactId: bigint): number {
  let low = 0;
  let high = group.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (horizons[middle]! > xactId) high = middle;
    else low = middle + 1;
  }
  return group[low]!.sequence;
}

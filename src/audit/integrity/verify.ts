import { createHash, type Hash, type KeyObject } from 'node:crypto';
import type postgres from 'postgres';
import { reviewAnchors, type Anchor } from './anchor';
import { sealsAfter } from './chain-store';
import { rollupFault, rollupRecount } from './rollup-recount';
import { hashedColumnsSql, rowHash, type HashedRow } from './row-hash';
import type { AuditedResource } from '../model/audited-resource';
import { retainedRanges } from './retention-record';
import { GENESIS_HASH, publicKeyText, sealHash, sealSignatureValid, type Seal } from './seal-encoding';
import { checkRecordsAgainstTrail } from './unrecorded-changes';

export interface VerifyOptions {
  /** The key seals must be signed with: the one you trust, not the one the database names. */
  readonly publicKey: KeyObject;
  /** Heads published earlier; each must still be in the chain, unchanged. */
  readonly anchors?: readonly Anchor[];
  /** Seals read per batch; their rows are checked together. */
  readonly sealsPerBatch?: number;
  /**
   * The audited resources whose records are checked against the trail (`unrecorded-changes.ts`):
   * each live record must be what its versions last made it. Defaults to none.
   */
  readonly records?: readonly AuditedResource[];
}

export type VerifyResult =
  | {
      readonly ok: true;
      readonly seals: number;
      /** Rows present and matching their sealed hash. */
      readonly sealedRows: number;
      /** Sealed rows gone with a recorded retention. */
      readonly retainedRows: number;
      /** Rows newer than the head seal's horizon, not sealed yet. */
      readonly unsealedRows: number;
      readonly head: { readonly sequence: number; readonly hash: string } | null;
      /** Records of `records` the trail accounts for; undefined when none were given. */
      readonly records?: number;
      /** What the anchors say about themselves that does not fail the check: repeated or out-of-order lines. */
      readonly warnings: readonly string[];
    }
  | {
      readonly ok: false;
      /** The first bad seal, when the fault is in one. */
      readonly seal?: number;
      /** The first bad row's id, when the fault is in one. */
      readonly row?: string;
      /** The first record the trail does not account for, as `<type> <id>`, when the fault is there. */
      readonly record?: string;
      readonly reason: string;
      readonly warnings?: readonly string[];
    };

type Failure = Extract<VerifyResult, { ok: false }>;
class Tampered extends Error {
  constructor(readonly failure: Failure) {
    super(failure.reason);
  }
}
const fail = (failure: Omit<Failure, 'ok'>): never => {
  throw new Tampered({ ok: false, ...failure });
};

/** Rows one query checks, about: a seal's rows are never split, so a larger seal makes a larger query. */
const ROWS_PER_QUERY = 5_000;

/** A row of a batch's windows joined to its stored hash; the row's columns are null when it is missing, the hash's when unsealed. */
type RowAndHash = HashedRow & { seal: number | null; row_hash: Buffer | null; hashed_id: string | null };

type StoredSeal = Seal;

/** What a batch of seals says about its rows, checked once the batch's rows were read. */
interface SealTally {
  readonly digest: Hash;
  count: number;
  firstId: string | undefined;
  lastId: string | undefined;
}

/**
 * Recomputes every row hash and the seal chain, checks each seal's signature against `publicKey`
 * and each anchor, and returns the counts or the first fault found (docs/integrity.md). Reads
 * a batch of seals and streams their rows, so memory stays flat however long the trail.
 *
 * Order of checks: anchor lines that disagree with each other; per batch of seals, the chain
 * (sequence, window, previous hash, own hash, signature, anchors), then the rows in the batch's
 * windows against the stored row hashes (id order), then each seal's row count, id range and rows
 * hash against those stored hashes; after the walk, the rollups against a recount of the sealed
 * rows (run alongside the walk), then the `records` against their versions. Anchor lines repeated or out of order come back as `warnings`.
 */
export async function verifyTrail(sql: postgres.Sql, options: VerifyOptions): Promise<VerifyResult> {
  const trustedKey = publicKeyText(options.publicKey);
  // Each sequence's first line; a second line disagreeing with it fails below, before the chain is read.
  const anchorReview = reviewAnchors(options.anchors ?? []);
  const anchors = anchorReview.bySequence;
  // Recounted while the walk below reads the rows (on a connection of its own when the pool has
  // one), and reported after it, so that a bad seal or row is named first.
  const recount = rollupRecount(sql);
  let recounted = false;
  recount.then(
    () => (recounted = true),
    () => (recounted = true), // awaited below; unread when the walk fails first
  );
  const retention = await retainedRanges(sql, options.publicKey);
  const retained = 'reason' in retention ? [] : retention;
  /** The rows missing from each retained range, by seal. */
  const retainedUsed = retained.map(() => new Map<number, number>());
  /** The newest seal retention removed rows of, and its horizon once walked: no older transaction need have kept its rows. */
  const newestRetainedSeal = Math.max(0, ...retained.flatMap((range) => [...range.seals.keys()]));
  let retainedBefore = '0';
  let previous: StoredSeal | undefined;
  let seals = 0;
  let sealedRows = 0;
  let retainedRows = 0;
  try {
    if ('reason' in retention) fail(retention);
    const { conflict } = anchorReview;
    if (conflict) {
      fail({
        seal: conflict.sequence,
        reason: `the anchors disagree on it: line ${conflict.first.line} has ${conflict.first.hash}, line ${conflict.second.line} has ${conflict.second.hash}; at most one was published from this chain`,
      });
    }
    const batchSize = options.sealsPerBatch ?? 500;
    for (;;) {
      // Seals in keyset batches; the rows of each batch are streamed below.
      const batch = await sealsAfter(sql, previous?.sequence ?? 0, batchSize);
      if (batch.length === 0) break;
      for (const seal of batch) {
        checkChainLink(seal, previous, trustedKey, options.publicKey);
        if (seal.sequence === newestRetainedSeal) retainedBefore = seal.horizon;
        const anchor = anchors.get(seal.sequence);
        if (anchor && anchor.hash !== seal.hash) {
          fail({ seal: seal.sequence, reason: `its hash ${seal.hash} differs from the anchored ${anchor.hash}: the chain was rewritten` });
        }
        previous = seal;
      }
      // The rows of a few thousand at a time: each query's sort then fits in memory.
      for (const group of byRowCount(batch, ROWS_PER_QUERY)) {
        const horizons = group.map((seal) => BigInt(seal.horizon));
        const tallies = new Map(group.map((seal) => [seal.sequence, { digest: createHash('sha256'), count: 0, firstId: undefined, lastId: undefined } as SealTally]));
        /** One row of the batch's windows and its stored hash (either may be missing), in id order. */
        const checkRow = (row: RowAndHash) => {
          if (row.row_hash && row.seal !== null) tally(tallies.get(row.seal)!, row.hashed_id!, row.row_hash);
          if (row.id === null) {
            const id = BigInt(row.hashed_id!);
            const range = retained.findIndex((r) => id >= r.firstId && id <= r.lastId && r.seals.has(row.seal!));
            if (range < 0) fail({ seal: row.seal!, row: row.hashed_id!, reason: 'the row was sealed but is missing: deleted' });
            const used = retainedUsed[range]!;
            used.set(row.seal!, (used.get(row.seal!) ?? 0) + 1);
            retainedRows += 1;
            return;
          }
          const window = sealOf(group, horizons, BigInt(row.xact_id));
          if (row.row_hash === null) {
            fail({ seal: window, row: row.id, reason: `the row lies in seal ${window}'s window but was not sealed: inserted afterwards` });
          }
          if (row.seal !== window) {
            fail({ seal: row.seal!, row: row.id, reason: `the row was sealed in seal ${row.seal} but its xact_id ${row.xact_id} now places it in seal ${window}'s window` });
          }
          if (!rowHash(row).equals(row.row_hash!)) {
            fail({ seal: row.seal!, row: row.id, reason: 'the row differs from what was sealed: its hash does not match' });
          }
          sealedRows += 1;
        };
        const rowsAndHashes = sql.unsafe<RowAndHash[]>(
          `select h.seal::int as seal, h.id::text as hashed_id, h.row_hash, a.*
           from (select ${hashedColumnsSql('l')} from audit_logs l where l.xact_id >= $1::xid8 and l.xact_id < $2::xid8) a
           full join (select seal, id, row_hash from audit_row_hashes where seal between $3 and $4) h on h.id = a.id::bigint
           order by coalesce(h.id, a.id::bigint)`,
          [group[0]!.fromXact, group.at(-1)!.horizon, group[0]!.sequence, group.at(-1)!.sequence],
        );
        // Streamed row by row, so PostgreSQL produces rows while they are hashed here; nothing may be
        // thrown in the callback (postgres.js calls it from its socket handler), so the first failure
        // is kept, the query cancelled, and the failure thrown once it has stopped.
        let failure: unknown;
        await rowsAndHashes
          .forEach((row) => {
            if (failure !== undefined) return;
            try {
              checkRow(row);
            } catch (error) {
              failure = error;
              void rowsAndHashes.cancel();
            }
          })
          .catch((error: unknown) => {
            if (failure === undefined) throw error;
          });
        if (failure !== undefined) throw failure;
        for (const seal of group) checkTally(seal, tallies.get(seal.sequence)!);
      }
      seals += batch.length;
    }

    for (const [index, range] of retained.entries()) {
      // Exactly the rows it says it removed, seal by seal: a record naming seals or rows that never were excuses nothing.
      for (const [seal, rows] of range.seals) {
        const missing = retainedUsed[index]!.get(seal) ?? 0;
        if (missing !== rows) {
          fail({ seal, row: range.recordId, reason: `the retention recorded in this row removed ${rows} rows of seal ${seal} from ids ${range.firstId}–${range.lastId}, but ${missing} of them are missing` });
        }
      }
      // A record of a month dropped while rows of it remain is not a record of retention.
      const [left] = await sql<{ id: string }[]>`
        select id::text from audit_logs where occurred_at >= ${range.from}::timestamptz and occurred_at < ${range.to}::timestamptz limit 1`;
      if (left) fail({ row: left.id, reason: `a retention says it dropped ${range.from}–${range.to}, but this row of that month remains` });
    }
    const head = previous;
    for (const anchor of anchors.values()) {
      if (!head || anchor.sequence > head.sequence) {
        fail({ seal: anchor.sequence, reason: `the anchored seal ${anchor.sequence} is gone: the chain ends at ${head?.sequence ?? 'no seal'}, so its tail was cut` });
      }
    }
    const [orphan] = await sql<{ seal: number }[]>`select seal::int as seal from audit_row_hashes where seal > ${head?.sequence ?? 0} order by seal limit 1`;
    if (orphan) fail({ seal: orphan.seal, reason: `row hashes name seal ${orphan.seal}, which is not in the chain: its tail was cut` });
    const [bucket] = await recount;
    if (bucket) fail({ reason: rollupFault(bucket) });
    const records = options.records && (await checkRecordsAgainstTrail(sql, options.records, retainedBefore));
    if (records?.first) {
      const { type, id, reason } = records.first;
      const others = records.unaccounted > 1 ? ` (${records.unaccounted - 1} more records likewise)` : '';
      fail({ record: `${type} ${id}`, reason: `${reason}: changed where nothing recorded it, as with its audit backstop switched off${others}` });
    }
    const [unsealed] = await sql<{ count: number }[]>`
      select count(*)::int as count from audit_logs where xact_id >= ${head?.horizon ?? '0'}::xid8`;
    return {
      ok: true,
      seals,
      sealedRows,
      retainedRows,
      unsealedRows: unsealed!.count,
      head: head ? { sequence: head.sequence, hash: head.hash } : null,
      ...(records && { records: records.records }),
      warnings: anchorReview.warnings,
    };
  } catch (error) {
    // A walk that failed first does not wait for the recount (a minute on a trail of millions).
    if (!recounted) void recount.cancel();
    if (error instanceof Tampered) return { ...error.failure, warnings: anchorReview.warnings };
    throw error;
  }
}

function checkChainLink(seal: StoredSeal, previous: StoredSeal | undefined, trustedKey: string, publicKey: KeyObject): void {
  const expected = (previous?.sequence ?? 0) + 1;
  const at = { seal: seal.sequence };
  if (seal.sequence !== expected) fail({ seal: expected, reason: `seal ${expected} is missing: the chain goes from ${expected - 1} to ${seal.sequence}` });
  if (seal.previousHash !== (previous?.hash ?? GENESIS_HASH)) fail({ ...at, reason: "its previous hash is not the previous seal's hash" });
  if (seal.fromXact !== (previous?.horizon ?? '0')) fail({ ...at, reason: "its window does not start at the previous seal's horizon" });
  if (BigInt(seal.horizon) <= BigInt(seal.fromXact)) fail({ ...at, reason: 'its window is empty or reversed' });
  if (sealHash(seal) !== seal.hash) fail({ ...at, reason: 'its hash does not match its content' });
  if (seal.publicKey !== trustedKey) fail({ ...at, reason: `it names public key ${seal.publicKey}, not the trusted ${trustedKey}` });
  if (!sealSignatureValid(seal, publicKey)) fail({ ...at, reason: 'its signature is not valid for the trusted public key' });
}

/** `seals` in consecutive groups of about `rows` rows (at least one seal each). */
function byRowCount(seals: readonly StoredSeal[], rows: number): StoredSeal[][] {
  const groups: StoredSeal[][] = [];
  let count = Infinity;
  for (const seal of seals) {
    if (count + seal.rowCount > rows) {
      groups.push([]);
      count = 0;
    }
    groups.at(-1)!.push(seal);
    count += seal.rowCount;
  }
  return groups;
}

/** Adds a stored row hash to its seal's tally; they arrive in id order. */
function tally(tally: SealTally, id: string, hash: Buffer): void {
  tally.digest.update(hash);
  tally.count += 1;
  tally.firstId ??= id;
  tally.lastId = id;
}

function checkTally(seal: StoredSeal, tally: SealTally): void {
  const at = { seal: seal.sequence };
  if (tally.count !== seal.rowCount) fail({ ...at, reason: `it seals ${seal.rowCount} rows but ${tally.count} row hashes name it` });
  if (tally.firstId !== seal.firstId || tally.lastId !== seal.lastId) {
    fail({ ...at, reason: `its ids run ${seal.firstId}–${seal.lastId} but its row hashes' run ${tally.firstId}–${tally.lastId}` });
  }
  if (tally.digest.digest('hex') !== seal.rowsHash) fail({ ...at, reason: 'its rows hash does not match the stored row hashes: a row hash was rewritten' });
}

/** The seal of `batch` whose window holds `xactId`, given the batch's `horizons` (windows are contiguous and checked before). */
function sealOf(batch: readonly StoredSeal[], horizons: readonly bigint[], xactId: bigint): number {
  let low = 0;
  let high = batch.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (horizons[middle]! > xactId) high = middle;
    else low = middle + 1;
  }
  return batch[low]!.sequence;
}

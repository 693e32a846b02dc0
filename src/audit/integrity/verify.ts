import type { KeyObject } from 'node:crypto';
import type postgres from 'postgres';
import { reviewAnchors, type Anchor } from './anchor';
import { sealsAfter } from './chain-store';
import { rollupFault, rollupRecount } from './rollup-recount';
import type { AuditedResource } from '../model/audited-resource';
import { retainedRanges } from './retention-record';
import { checkSealRows, RetainedRows, tallySeals, type SealTally } from './seal-rows';
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
const ROWS_PER_QUERY = 20_000;

type StoredSeal = Seal;

/**
 * Recomputes every row hash and the seal chain, checks each seal's signature against `publicKey`
 * and each anchor, and returns the counts or the first fault found (docs/integrity.md). Reads
 * a batch of seals and streams their rows, so memory stays flat however long the trail.
 *
 * Order of checks: anchor lines that disagree with each other; per batch of seals, the chain
 * (sequence, window, previous hash, own hash, signature, anchors), then the rows in the batch's
 * windows against the stored row hashes (the bad row of the lowest id first), then each seal's row count, id range and rows
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
  const retained = new RetainedRows('reason' in retention ? [] : retention);
  /** The newest seal retention removed rows of, and its horizon once walked: no older transaction need have kept its rows. */
  const newestRetainedSeal = Math.max(0, ...retained.ranges.flatMap((range) => [...range.seals.keys()]));
  let retainedBefore = '0';
  let previous: StoredSeal | undefined;
  let seals = 0;
  let sealedRows = 0;
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
      // The rows of some thousands at a time: the stored hashes they are joined with then fit in
      // PostgreSQL's memory for the join, and few queries start and end with one side waiting.
      const groups = byRowCount(batch, ROWS_PER_QUERY);
      // Each group's rows are read while the one before is checked: on the other connection once
      // the recount is done, so that PostgreSQL uses the core the checking leaves idle.
      const read = (group: readonly StoredSeal[]) => {
        const checking = checkSealRows(sql, group, retained);
        checking.catch(() => undefined); // awaited in turn: failing before then is no unhandled rejection
        return checking;
      };
      let reading = read(groups[0]!);
      for (const [index, group] of groups.entries()) {
        const current = reading;
        if (index + 1 < groups.length) reading = read(groups[index + 1]!);
        try {
          const checked = await current;
          if ('fault' in checked) fail(checked.fault);
          else sealedRows += checked.sealedRows;
          const tallies = await tallySeals(sql, group);
          for (const seal of group) checkTally(seal, tallies.get(seal.sequence)!);
        } catch (error) {
          // The group read ahead is let finish, so that no query of the walk runs on after it.
          if (reading !== current) await reading.catch(() => undefined);
          throw error;
        }
      }
      seals += batch.length;
    }

    for (const [index, range] of retained.ranges.entries()) {
      // Exactly the rows it says it removed, seal by seal: a record naming seals or rows that never were excuses nothing.
      for (const [seal, rows] of range.seals) {
        const missing = retained.missingIn(index, seal);
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
      retainedRows: retained.rows,
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

function checkTally(seal: StoredSeal, tally: SealTally): void {
  const at = { seal: seal.sequence };
  if (tally.count !== seal.rowCount) fail({ ...at, reason: `it seals ${seal.rowCount} rows but ${tally.count} row hashes name it` });
  if (tally.firstId !== seal.firstId || tally.lastId !== seal.lastId) {
    fail({ ...at, reason: `its ids run ${seal.firstId}–${seal.lastId} but its row hashes' run ${tally.firstId}–${tally.lastId}` });
  }
  if (tally.digest.digest('hex') !== seal.rowsHash) fail({ ...at, reason: 'its rows hash does not match the stored row hashes: a row hash was rewritten' });
}

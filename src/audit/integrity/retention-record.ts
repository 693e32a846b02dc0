import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import type postgres from 'postgres';
import { publicKeyText } from './seal-encoding';

/** How many rows of one seal a retention removed. */
export interface RemovedFromSeal {
  readonly seal: number;
  readonly rows: number;
}

/** A dropped month, as an `audit_retention` row records it. */
export interface RetainedMonth {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly rows: number;
  /** Null for an empty month. */
  readonly firstId: string | null;
  readonly lastId: string | null;
  /** The seals whose rows the month held, and how many of each: every row it removed had been sealed. */
  readonly seals: readonly RemovedFromSeal[];
}

/** What a retention signs: what it removed, when asked, by whom, under which id. */
export interface RetentionRecord {
  readonly retentionId: string;
  readonly before: string;
  readonly databaseRole: string;
  readonly partitions: readonly RetainedMonth[];
}

/** A record as the `audit_retention` row's `details` hold it: signed with the key that signs the seals. */
export interface SignedRetention extends RetentionRecord {
  readonly publicKey: string;
  /** Base64url Ed25519 signature of the SHA-256 of the record's RFC 8785 encoding (without these two fields). */
  readonly signature: string;
}

const digestOf = (record: RetentionRecord) =>
  createHash('sha256')
    .update(canonicalize({ retentionId: record.retentionId, before: record.before, databaseRole: record.databaseRole, partitions: record.partitions })!)
    .digest();

/**
 * Signs a retention with the seal-signing key: only who holds that key can excuse rows missing from
 * the chain. An owner who drops rows and writes an `audit_retention` row without it gets the row
 * sealed like any other, but verify refuses it.
 */
export function signRetention(record: RetentionRecord, privateKey: KeyObject): SignedRetention {
  return { ...record, publicKey: publicKeyText(privateKey), signature: sign(null, digestOf(record), privateKey).toString('base64url') };
}

function signatureValid(record: SignedRetention, publicKey: KeyObject): boolean {
  try {
    return verify(null, digestOf(record), publicKey, Buffer.from(record.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** Ids a signed retention removed on purpose, seal by seal: missing rows in here are not tampering. */
export interface RetainedRange {
  /** The `audit_retention` row that records it. */
  readonly recordId: string;
  readonly firstId: bigint;
  readonly lastId: bigint;
  /** How many rows of each seal it removed: exactly that many of them must be missing. */
  readonly seals: ReadonlyMap<number, number>;
  /** The month it removed, [from, to): no row of it may remain. */
  readonly from: string;
  readonly to: string;
}

/** Why a retention record cannot excuse anything; verify fails with it. */
export interface RetentionProblem {
  readonly row: string;
  readonly reason: string;
}

/**
 * The ranges recorded retentions removed, from the `audit_retention` rows that are sealed and signed
 * with `publicKey`, or the first row that is not: a record no seal covers yet, or one whose
 * signature does not hold (forged, or written before retentions were signed), is a failure.
 */
export async function retainedRanges(sql: postgres.Sql, publicKey: KeyObject): Promise<RetainedRange[] | RetentionProblem> {
  const rows = await sql<{ id: string; details: Partial<SignedRetention>; sealed: boolean }[]>`
    select a.id::text, a.details, exists (select from audit_row_hashes h where h.id = a.id) as sealed
    from audit_logs a where a.action = 'audit_retention' and a.outcome = 'success' order by a.id`;
  const ranges: RetainedRange[] = [];
  for (const { id, details, sealed } of rows) {
    if (!sealed) return { row: id, reason: 'a retention record no seal covers yet: verify again once the next seal has covered it' };
    const record = details as SignedRetention;
    if (typeof record.signature !== 'string' || !Array.isArray(record.partitions) || !signatureValid(record, publicKey)) {
      return { row: id, reason: 'a retention record not signed with the trusted key: forged, or written before retentions were signed' };
    }
    for (const month of record.partitions) {
      if (month.firstId === null || month.lastId === null) continue;
      ranges.push({
        recordId: id,
        firstId: BigInt(month.firstId),
        lastId: BigInt(month.lastId),
        seals: new Map(month.seals.map((removed: RemovedFromSeal) => [removed.seal, removed.rows])),
        from: month.from,
        to: month.to,
      });
    }
  }
  return ranges;
}

import { sql as drizzleSql } from 'drizzle-orm';
import type postgres from 'postgres';
import type { DbExecutor } from '../../db/database';
import { microsecondsUtc } from './row-hash';
import type { Seal } from './seal-encoding';

/**
 * The one reader of the seal chain's table, `audit_seals`: the sealer, verify, anchors, bundles,
 * retention, the live feed's watcher and `auditIntegrity` read the head, a run of seals or the
 * horizon that tells sealed rows from the rest here, and nowhere else. Seals come back in the form
 * they are checked in: `sealedAt` as the six-digit UTC text the hash covers, ids and horizons as
 * decimal text. Readers on Drizzle use the SQL texts; the others, the functions.
 */

const SEAL_COLUMNS =
  `sequence::int as sequence, from_xact::text as "fromXact", horizon::text as horizon, row_count as "rowCount", ` +
  `first_id::text as "firstId", last_id::text as "lastId", rows_hash as "rowsHash", previous_hash as "previousHash", ` +
  `${microsecondsUtc('sealed_at')} as "sealedAt", public_key as "publicKey", hash, signature`;

/** A statement: the head seal as a {@link Seal}, no row before the first seal. */
const HEAD_SEAL_SQL = `select ${SEAL_COLUMNS} from audit_seals order by sequence desc limit 1`;

/** An expression: the head seal's sequence, 0 before the first seal. */
export const HEAD_SEQUENCE_SQL = `(select coalesce(max(sequence), 0)::int from audit_seals)`;

/** An expression (`xid8`): the head seal's horizon, 0 before the first: a row with a smaller `xact_id` is sealed. */
export const SEALED_HORIZON_SQL = `coalesce((select horizon from audit_seals order by sequence desc limit 1), '0'::xid8)`;

/**
 * An expression (`xid8`): the horizon of the newest seal the database could have made, one no later
 * than the oldest running transaction; 0 when there is none. A bogus head beyond it (a horizon no
 * database reached) cannot make rows it never covered look sealed.
 */
const REACHABLE_HORIZON_SQL =
  `coalesce((select s.horizon from audit_seals s where s.horizon <= pg_snapshot_xmin(pg_current_snapshot()) ` +
  `order by s.sequence desc limit 1), '0'::xid8)`;

type Reader = postgres.Sql | postgres.TransactionSql;

/** The head seal; `undefined` before the first. */
export async function headSeal(sql: Reader): Promise<Seal | undefined> {
  const [head] = await sql.unsafe<Seal[]>(HEAD_SEAL_SQL);
  return head;
}

/** Up to `limit` seals after sequence `after` and through `through`, in order. */
export function sealsAfter(sql: Reader, after: number, limit: number, through = Number.MAX_SAFE_INTEGER): Promise<Seal[]> {
  return sql.unsafe<Seal[]>(`select ${SEAL_COLUMNS} from audit_seals where sequence > $1 and sequence <= $2 order by sequence limit ${limit}`, [after, through]);
}

/** The public keys seals `first` to `last` name. */
export async function sealKeys(sql: Reader, first: number, last: number): Promise<string[]> {
  const keys = await sql<{ key: string }[]>`select distinct public_key as key from audit_seals where sequence between ${first} and ${last}`;
  return keys.map(({ key }) => key);
}

/** How far sealing has come, as `auditIntegrity` and the lag metric show it. */
export interface ChainProgress {
  readonly head: Seal | undefined;
  /** Rows no seal covers. */
  readonly unsealedRows: number;
  /** Since the oldest of them began (its transaction's start); null when there is none. */
  readonly oldestUnsealedAgeSeconds: number | null;
}

/**
 * The head seal and the rows no seal covers: those after the newest seal that can be real (see
 * {@link REACHABLE_HORIZON_SQL}) with no row hash, so a bogus head cannot hide lag. Served by the
 * `xact_id` index, which reads only the rows not sealed yet.
 */
export async function chainProgress(db: DbExecutor): Promise<ChainProgress> {
  const [head] = await db.execute<Seal & Record<string, unknown>>(drizzleSql.raw(HEAD_SEAL_SQL));
  const [unsealed] = await db.execute<{ count: number; age: number | null }>(
    drizzleSql`select count(*)::int as count, extract(epoch from clock_timestamp() - min(a.occurred_at))::float8 as age
               from audit_logs a
               where a.xact_id >= ${drizzleSql.raw(REACHABLE_HORIZON_SQL)} and not exists (select from audit_row_hashes h where h.id = a.id)`,
  );
  return { head, unsealedRows: unsealed!.count, oldestUnsealedAgeSeconds: unsealed!.age };
}

import { sql } from 'drizzle-orm';
import { hashedColumnsSql, rowHash, type AuditLogRow, type HashedRow } from '../../audit/operations';
import type { Db } from '../../db/database';
import type { AuditIntegrity, AuditSeal } from './audit-integrity.type';
import type { RowIntegrity } from '../query/audit-log.type';

/** The seal chain as the API shows it: each row's hash and seal, and how far sealing has come. */
export class AuditIntegrityService {
  constructor(private readonly db: Db) {}

  /** Each row's hash as it reads now and the seal holding it (one query for the page). */
  async ofRows(rows: readonly AuditLogRow[]): Promise<Map<bigint, RowIntegrity>> {
    if (rows.length === 0) return new Map();
    const ids = sql.join(
      rows.map((row) => sql`${row.id}`),
      sql`, `,
    );
    const hashed = await this.db.execute<HashedRow & { seal: number | null } & Record<string, unknown>>(
      sql`select ${sql.raw(hashedColumnsSql('a'))}, h.seal::int as seal
          from audit_logs a left join audit_row_hashes h on h.id = a.id where a.id in (${ids})`,
    );
    return new Map(hashed.map((row) => [BigInt(row.id), { rowHash: rowHash(row).toString('hex'), seal: row.seal }]));
  }

  async status(): Promise<AuditIntegrity> {
    const [head] = await this.db.execute<Omit<AuditSeal, 'sealedAt'> & { sealedAt: string } & Record<string, unknown>>(
      sql`select sequence::int as sequence, hash, previous_hash as "previousHash", horizon::text as horizon, row_count as "rowCount",
                 first_id::text as "firstId", last_id::text as "lastId", sealed_at as "sealedAt", public_key as "publicKey", signature
          from audit_seals order by sequence desc limit 1`,
    );
    // The rows no seal covers: those after the newest seal that can be real (a horizon past the
    // transactions that have ended was never a database's, so it cannot hide them), with no row hash.
    // Served by the xact_id index, which reads only the rows not sealed yet.
    const [unsealed] = await this.db.execute<{ count: number; age: number | null }>(
      sql`select count(*)::int as count, extract(epoch from clock_timestamp() - min(a.occurred_at))::float8 as age
          from audit_logs a
          where a.xact_id >= coalesce((select s.horizon from audit_seals s where s.horizon <= pg_snapshot_xmin(pg_current_snapshot())
                                       order by s.sequence desc limit 1), '0'::xid8)
            and not exists (select from audit_row_hashes h where h.id = a.id)`,
    );
    return {
      headSeal: head ? { ...head, sealedAt: new Date(head.sealedAt) } : null,
      publicKey: head?.publicKey ?? null,
      unsealedRows: unsealed!.count,
      oldestUnsealedAgeSeconds: unsealed!.age,
    };
  }
}

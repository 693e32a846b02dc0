import { sql } from 'drizzle-orm';
import { chainProgress, hashedColumnsSql, rowHash, type AuditLogRow, type HashedRow } from '../../audit/operations';
import type { Db } from '../../db/database';
import type { AuditIntegrity } from './audit-integrity.type';
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

  /** The chain's progress; the read replica's lag is the caller's to add. */
  async status(): Promise<Omit<AuditIntegrity, 'readReplicaLagSeconds'>> {
    const { head, unsealedRows, oldestUnsealedAgeSeconds } = await chainProgress(this.db);
    return {
      headSeal: head ? { ...head, sealedAt: new Date(head.sealedAt) } : null,
      publicKey: head?.publicKey ?? null,
      unsealedRows,
      oldestUnsealedAgeSeconds,
    };
  }
}

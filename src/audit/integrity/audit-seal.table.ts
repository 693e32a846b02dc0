import { bigint, boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { bytea, xid8 } from './column-types';

/**
 * The seal chain: each seal covers the audit rows whose writing transaction lies in
 * [from_xact, horizon), holds the hash of the one before it, and is signed (docs/integrity.md: Tamper
 * evidence). Append-only like the trail (a trigger rejects UPDATE, DELETE and TRUNCATE).
 */
export const auditSeals = pgTable('audit_seals', {
  sequence: bigint('sequence', { mode: 'number' }).primaryKey(),
  /** The previous seal's horizon ('0' for the first): every window starts where the last one ended. */
  fromXact: xid8('from_xact').notNull(),
  /** `pg_snapshot_xmin` when sealed: every transaction below it had ended. */
  horizon: xid8('horizon').notNull(),
  rowCount: integer('row_count').notNull(),
  firstId: bigint('first_id', { mode: 'bigint' }).notNull(),
  lastId: bigint('last_id', { mode: 'bigint' }).notNull(),
  /** Hex SHA-256 of the seal's row hashes, in id order, one after another (32 bytes each). */
  rowsHash: text('rows_hash').notNull(),
  /** Hex `hash` of the previous seal; 64 zeros for the first. */
  previousHash: text('previous_hash').notNull(),
  /** Database time of sealing, at microseconds as it is hashed. */
  sealedAt: timestamp('sealed_at', { withTimezone: true, precision: 6 }).notNull(),
  /** The signer's Ed25519 public key, base64url of its 32 bytes. */
  publicKey: text('public_key').notNull(),
  /** Hex SHA-256 of the seal's canonical encoding. */
  hash: text('hash').notNull(),
  /** Base64url Ed25519 signature of the 32 bytes of `hash`. */
  signature: text('signature').notNull(),
});

/**
 * Each sealed row's hash and the seal that holds it. Kept apart from the row, which may not change,
 * and kept when retention drops the row's partition, so old seals stay checkable.
 */
export const auditRowHashes = pgTable(
  'audit_row_hashes',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey(),
    seal: bigint('seal', { mode: 'number' }).notNull(),
    rowHash: bytea('row_hash').notNull(),
  },
  // Seal order, for the verifier and for reading the trail in the order it was sealed.
  (table) => [index('audit_row_hashes_seal_idx').on(table.seal, table.id)],
);

/**
 * Which process seals, as a lease: one row, renewed by its holder in each sealing transaction and
 * taken over once it expires. The row's lock in that transaction keeps sealers apart; only the
 * owner's `audit_seal_begin()` touches it, so no other login can hold sealing up (an advisory lock
 * could be taken by anyone), and it works through a transaction-mode pooler.
 */
export const auditSealerLease = pgTable('audit_sealer_lease', {
  /** Always true: the table holds one row. */
  id: boolean('id').primaryKey().default(true),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

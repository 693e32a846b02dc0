import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The columns every row is encoded with, in order (docs/integrity.md). Never reorder: old hashes would break. */
export const BASE_COLUMNS = [
  'id',
  'occurred_at',
  'xact_id',
  'user_id',
  'user_role',
  'action',
  'resource_type',
  'resource_id',
  'resource_ids',
  'owner_ids',
  'outcome',
  'admin_bypass',
  'details',
  'request_id',
  'operation_name',
  'ip',
  'user_agent',
] as const;

/**
 * The columns added with access reasons, encoded after {@link BASE_COLUMNS} only when a row has
 * one of them (a reason code, a reference or the break-glass flag): rows without, those written
 * before the columns existed included, keep the encoding and the hash they were sealed with.
 */
export const ACCESS_REASON_COLUMNS = ['access_reason', 'access_reference', 'break_glass'] as const;

/**
 * The encoding {@link hashedColumnsSql} writes: 2 since access reasons. A sealing transaction names
 * it, and the chain refuses a sealer that hashes with another (migration 0018).
 */
export const ROW_ENCODING = 2;

/** Every hashed column, in the order encoded: what an export bundle's manifest lists. */
export const HASHED_COLUMNS = [...BASE_COLUMNS, ...ACCESS_REASON_COLUMNS] as const;

type HashedColumn = (typeof HASHED_COLUMNS)[number];

/**
 * An audit row as {@link hashedColumnsSql} reads it for hashing: its canonical encoding but for
 * `details`, in two pieces around it, and its id and transaction id as decimal text.
 */
export interface HashedRow {
  readonly id: string;
  readonly xact_id: string;
  /** `[` and the encoded columns before `details`, each followed by `,`. */
  readonly encoded_head: string;
  readonly details: unknown;
  /** The encoded columns after `details` (the access-reason ones when the row has any), each preceded by `,`, and `]`. */
  readonly encoded_tail: string;
}

/** A timestamp as hashed: `2026-11-27T19:19:19.123456Z`. postgres.js reads timestamps as milliseconds, so they are read as text. */
export const microsecondsUtc = (column: string): string =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The select list giving a {@link HashedRow} of `audit_logs` aliased `alias`. PostgreSQL writes each
 * column but `details` as JSON (`to_json`): for strings, booleans, null and arrays of strings its
 * output is exactly RFC 8785's, which is `JSON.stringify`'s (the same escapes, lowercase `\u00xx`
 * for other control characters, nothing else escaped), and the verifier, which encodes every row,
 * then parses five values a row instead of seventeen. `details` must have its keys sorted at every
 * level and its numbers in ECMAScript form, which jsonb's output does not do: `canonicalize` does.
 */
export function hashedColumnsSql(alias: string): string {
  const value = (column: HashedColumn) =>
    column === 'id' || column === 'xact_id'
      ? `${alias}.${column}::text`
      : column === 'occurred_at'
        ? microsecondsUtc(`${alias}.occurred_at`)
        : `${alias}.${column}`;
  const encoded = (columns: readonly HashedColumn[]) =>
    columns.map((column) => `coalesce(to_json(${value(column)})::text, 'null')`).join(` || ',' || `);
  const split = BASE_COLUMNS.indexOf('details');
  const hasAccessReason = `not (${alias}.access_reason is null and ${alias}.access_reference is null and ${alias}.break_glass = false)`;
  return [
    `${alias}.id::text as id`,
    `${alias}.xact_id::text as xact_id`,
    `'[' || ${encoded(BASE_COLUMNS.slice(0, split))} || ',' as encoded_head`,
    `${alias}.details`,
    `',' || ${encoded(BASE_COLUMNS.slice(split + 1))}` +
      ` || case when ${hasAccessReason} then ',' || ${encoded(ACCESS_REASON_COLUMNS)} else '' end || ']' as encoded_tail`,
  ].join(', ');
}

/** The row's canonical encoding: the RFC 8785 JSON array of its columns in {@link HASHED_COLUMNS} order (see {@link ACCESS_REASON_COLUMNS}). */
export function encodeRow(row: HashedRow): string {
  return row.encoded_head + canonicalize(row.details)! + row.encoded_tail;
}

/** SHA-256 of the row's canonical encoding (UTF-8). */
export function rowHash(row: HashedRow): Buffer {
  return hash('sha256', encodeRow(row), 'buffer') as unknown as Buffer;
}

import { createHash, createPublicKey, verify } from 'node:crypto';
import type postgres from 'postgres';

/**
 * An auditor's check of the trail, written from README "Integrity" alone (no production code):
 * RFC 8785 for the values the trail holds (JSON.stringify is ES6 number and string serialization;
 * object keys sorted by UTF-16 code units), SHA-256, Ed25519.
 */
const jcs = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(jcs).join(',')}]`
    : v !== null && typeof v === 'object'
      ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs((v as Record<string, unknown>)[k])}`).join(',')}}`
      : JSON.stringify(v);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();
const US = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Each row's hash (hex) by id, recomputed from the row as stored. */
export async function independentRowHashes(sql: postgres.Sql): Promise<Map<string, string>> {
  const rows = await sql.unsafe(`select id::text, ${US('occurred_at')} as t, xact_id::text as x, user_id, user_role, action, resource_type,
    resource_id, resource_ids, owner_ids, outcome, admin_bypass, details, request_id, operation_name, ip, user_agent from audit_logs`);
  return new Map(rows.map((r) => [r.id, sha256(jcs([r.id, r.t, r.x, r.user_id, r.user_role, r.action, r.resource_type, r.resource_id,
    r.resource_ids, r.owner_ids, r.outcome, r.admin_bypass, r.details, r.request_id, r.operation_name, r.ip, r.user_agent])).toString('hex')]));
}

/** The seal chain checked against `publicKey` (base64url, 32 bytes): one problem string per bad seal, none when it holds. */
export async function independentChainProblems(sql: postgres.Sql, publicKey: string): Promise<string[]> {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
  const seals = await sql.unsafe(`select sequence::int as sequence, from_xact::text as "fromXact", horizon::text as horizon, row_count as "rowCount",
    first_id::text as "firstId", last_id::text as "lastId", rows_hash as "rowsHash", previous_hash as "previousHash", ${US('sealed_at')} as "sealedAt",
    public_key as "publicKey", hash, signature, (select string_agg(encode(row_hash, 'hex'), '' order by id) from audit_row_hashes h where h.seal = s.sequence) as hashes
    from audit_seals s order by sequence`);
  let previous = '0'.repeat(64);
  return seals.flatMap(({ hash, signature, hashes, ...content }) => {
    const problems = [
      content.previousHash !== previous && 'previous hash',
      sha256(jcs(content)).toString('hex') !== hash && 'hash',
      sha256(Buffer.from(hashes ?? '', 'hex')).toString('hex') !== content.rowsHash && 'rows hash',
      !verify(null, Buffer.from(hash, 'hex'), key, Buffer.from(signature, 'base64url')) && 'signature',
    ].filter(Boolean);
    previous = hash;
    return problems.map((problem) => `seal ${content.sequence}: ${problem}`);
  });
}

/**
 * What an attacker who controls the database does to hide an edit: recompute the row hashes of
 * seal `from` and every seal after it, their hashes and links, and sign them with `sign`. Needs
 * the trail's triggers off (`session_replication_role = replica`).
 */
export async function rewriteChainFrom(sql: postgres.Sql, from: number, sign: (hash: Buffer) => Buffer): Promise<void> {
  const current = await independentRowHashes(sql);
  for (const [id, hash] of current) await sql`update audit_row_hashes set row_hash = decode(${hash}, 'hex') where id = ${id}`;
  const seals = await sql.unsafe(`select sequence::int as sequence, from_xact::text as "fromXact", horizon::text as horizon, row_count as "rowCount",
    first_id::text as "firstId", last_id::text as "lastId", previous_hash as "previousHash", ${US('sealed_at')} as "sealedAt", public_key as "publicKey",
    hash, (select string_agg(encode(row_hash, 'hex'), '' order by id) from audit_row_hashes h where h.seal = s.sequence) as hashes
    from audit_seals s where sequence >= ${from - 1} order by sequence`);
  let previous = seals[0]!.sequence === from ? '0'.repeat(64) : seals.shift()!.hash;
  for (const { hash: _old, hashes, ...seal } of seals) {
    const content = { ...seal, previousHash: previous, rowsHash: sha256(Buffer.from(hashes, 'hex')).toString('hex') };
    const hash = sha256(jcs(content));
    await sql`update audit_seals set rows_hash = ${content.rowsHash}, previous_hash = ${previous}, hash = ${hash.toString('hex')},
      signature = ${sign(hash).toString('base64url')} where sequence = ${seal.sequence}`;
    previous = hash.toString('hex');
  }
}

import { createHash, createPublicKey, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
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
    resource_id, resource_ids, owner_ids, outcome, admin_bypass, details, request_id, operation_name, ip, user_agent,
    access_reason, access_reference, break_glass from audit_logs`);
  return new Map(
    rows.map((r) => {
      const columns = [r.id, r.t, r.x, r.user_id, r.user_role, r.action, r.resource_type, r.resource_id, r.resource_ids, r.owner_ids,
        r.outcome, r.admin_bypass, r.details, r.request_id, r.operation_name, r.ip, r.user_agent];
      // The three access-reason columns follow only on rows that hold one of them.
      if (r.access_reason !== null || r.access_reference !== null || r.break_glass) columns.push(r.access_reason, r.access_reference, r.break_glass);
      return [r.id, sha256(jcs(columns)).toString('hex')];
    }),
  );
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

/** The rollups and the length of the UTC timestamp prefix that names their bucket (hour or day). */
const ROLLUPS = [
  { table: 'audit_stats_hourly', prefix: 13, perUser: false },
  { table: 'audit_stats_daily', prefix: 10, perUser: false },
  { table: 'audit_stats_user_daily', prefix: 10, perUser: true },
] as const;

/**
 * The rollups recounted from the sealed rows (those with a row hash), by UTC hour or day and key:
 * one problem string per bucket whose stored count differs, is missing, or is stored twice. Read in
 * one statement, so a seal committed meanwhile is in both or neither.
 */
export async function independentRollupProblems(sql: postgres.Sql): Promise<string[]> {
  const stored = (table: string) => `(select coalesce(json_agg(json_build_array(${US('bucket_start')}, ${table === 'audit_stats_user_daily' ? 'user_id' : 'null'},
    action, outcome, user_role, resource_type, admin_bypass, access_reason, count::text)), '[]') from ${table})`;
  const [read] = await sql.unsafe(`select
    (select coalesce(json_agg(json_build_array(${US('a.occurred_at')}, a.user_id, a.action, a.outcome, a.user_role, a.resource_type, a.admin_bypass, a.access_reason)), '[]')
       from audit_logs a join audit_row_hashes h on h.id = a.id) as rows,
    ${ROLLUPS.map(({ table }) => `${stored(table)} as ${table}`).join(', ')}`);
  return ROLLUPS.flatMap(({ table, prefix, perUser }) => {
    const counted = new Map<string, number>();
    for (const [at, user, ...key] of read!.rows as unknown[][]) {
      const bucket = `${(at as string).slice(0, prefix)}${'T00:00:00.000000Z'.slice(prefix - 10)}`;
      const id = JSON.stringify([bucket, perUser ? user : null, ...key]);
      counted.set(id, (counted.get(id) ?? 0) + 1);
    }
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const [bucket, user, action, outcome, role, type, bypass, reason, count] of read![table] as unknown[][]) {
      const id = JSON.stringify([bucket, user, action, outcome, role, type, bypass, reason]);
      if (seen.has(id)) problems.push(`${table} ${id}: stored twice`);
      seen.add(id);
      if (Number(count) !== counted.get(id)) problems.push(`${table} ${id}: stored ${count}, sealed rows ${counted.get(id) ?? 0}`);
    }
    for (const [id, count] of counted) if (!seen.has(id)) problems.push(`${table} ${id}: not stored, sealed rows ${count}`);
    return problems;
  });
}

/** Anchor lines (JSON with `sequence` and `hash`) against each other and the chain: a sequence anchored with two hashes, an anchored seal gone or different. */
export async function independentAnchorProblems(sql: postgres.Sql, anchorLines: string): Promise<string[]> {
  const chain = new Map((await sql<{ sequence: number; hash: string }[]>`select sequence::int as sequence, hash from audit_seals`).map((s) => [s.sequence, s.hash]));
  const anchored = new Map<number, string>();
  const problems = new Set<string>();
  for (const { sequence, hash } of anchorLines.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as { sequence: number; hash: string })) {
    if (anchored.has(sequence) && anchored.get(sequence) !== hash) problems.add(`seal ${sequence}: anchored as ${anchored.get(sequence)} and as ${hash}`);
    if (!anchored.has(sequence)) anchored.set(sequence, hash);
    if (chain.get(sequence) !== hash) problems.add(`seal ${sequence}: anchored ${hash}, the chain has ${chain.get(sequence) ?? 'no such seal'}`);
  }
  return [...problems];
}

/**
 * An export bundle (`npm run audit:export -- --bundle DIR`) checked from README "Export bundles"
 * alone, with no database, against `publicKey` (base64url): one problem string per fault found,
 * none when it holds. Reads each file whole (test-sized bundles).
 */
export function independentBundleProblems(dir: string, publicKey: string): string[] {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
  const file = (name: string) => readFileSync(path.join(dir, name));
  const lines = (name: string) => file(name).toString('utf8').split('\n').slice(0, -1).map((line) => JSON.parse(line));
  const problems: string[] = [];
  let manifest: any;
  try {
    manifest = JSON.parse(file('manifest.json').toString('utf8'));
  } catch {
    return ['manifest.json: not JSON'];
  }
  const { signature: manifestSignature, ...signed } = manifest;
  if (file('manifest.json').toString('utf8') !== `${jcs(manifest)}\n`) problems.push('manifest.json: not its RFC 8785 encoding and a line break');
  if (manifest.publicKey !== publicKey) problems.push(`manifest.json: public key ${manifest.publicKey}`);
  if (!verify(null, sha256(jcs(signed)), key, Buffer.from(String(manifestSignature), 'base64url'))) problems.push('manifest.json: signature');
  if (problems.length > 0) return problems;
  const names = readdirSync(dir).filter((name) => name !== 'manifest.json').sort();
  if (jcs(names) !== jcs(Object.keys(manifest.files).sort())) problems.push(`files: ${names.join(', ')} but the manifest lists ${Object.keys(manifest.files).join(', ')}`);
  for (const [name, listed] of Object.entries<{ sha256: string; bytes: number }>(manifest.files)) {
    if (!names.includes(name)) continue;
    const bytes = file(name);
    if (sha256(bytes).toString('hex') !== listed.sha256 || bytes.length !== listed.bytes) problems.push(`${name}: SHA-256 or size`);
  }
  if (problems.length > 0) return problems;
  if (file('public-key.txt').toString('utf8') !== `${publicKey}\n`) problems.push('public-key.txt');

  // The seals: a contiguous run, each hashed, signed and linked; the listed row hashes of each in id order.
  const listed: { id: string; hash: string; seal: number }[] = [];
  let previous: any;
  lines('seals.ndjson').forEach(({ hash, signature, rows, ...content }, index) => {
    const at = `seal ${content.sequence}`;
    if (content.sequence !== manifest.firstSeal + index) problems.push(`${at}: sequence, expected ${manifest.firstSeal + index}`);
    if (previous && (content.previousHash !== previous.hash || content.fromXact !== previous.horizon)) problems.push(`${at}: link`);
    if (content.sequence === 1 && (content.previousHash !== '0'.repeat(64) || content.fromXact !== '0')) problems.push(`${at}: not the chain's start`);
    if (sha256(jcs(content)).toString('hex') !== hash) problems.push(`${at}: hash`);
    if (!verify(null, Buffer.from(hash, 'hex'), key, Buffer.from(signature, 'base64url'))) problems.push(`${at}: signature`);
    if (rows) {
      const ids = rows.map(([id]: [string]) => BigInt(id));
      if (rows.length !== content.rowCount || rows[0][0] !== content.firstId || rows.at(-1)[0] !== content.lastId) problems.push(`${at}: row count or id range`);
      if (ids.some((id: bigint, i: number) => i > 0 && id <= ids[i - 1])) problems.push(`${at}: row hashes not in id order`);
      if (sha256(Buffer.concat(rows.map(([, h]: [string, string]) => Buffer.from(h, 'hex')))).toString('hex') !== content.rowsHash) problems.push(`${at}: rows hash`);
      for (const [id, h] of rows) listed.push({ id, hash: h, seal: content.sequence });
    }
    previous = { hash, ...content };
  });
  // The exported entries: between a run's first and last id, inclusive, in that order.
  const exported = new Map<string, { hash: string; seal: number }>();
  let run = 0;
  let inRun = false;
  for (const entry of listed) {
    inRun ||= manifest.exported[run]?.[0] === entry.id;
    if (inRun) exported.set(entry.id, entry);
    if (inRun && manifest.exported[run][1] === entry.id) {
      inRun = false;
      run += 1;
    }
  }
  if (run !== manifest.exported.length) problems.push('manifest.json: exported runs not all found in the listed row hashes');
  // The rows: each an exported entry, its hash recomputed, in the window; every exported entry present.
  const from = manifest.window.from.replace('Z', '000Z');
  const to = manifest.window.to.replace('Z', '000Z');
  const seen = new Set<string>();
  for (const { id, seal, row } of lines('rows.ndjson')) {
    const entry = exported.get(id);
    if (seen.has(id)) problems.push(`row ${id}: twice`);
    seen.add(id);
    if (!entry) problems.push(`row ${id}: not an exported row of the listed seals`);
    else if (entry.seal !== seal || row[0] !== id || sha256(jcs(row)).toString('hex') !== entry.hash) problems.push(`row ${id}: hash`);
    if (!(row[1] >= from && row[1] < to)) problems.push(`row ${id}: outside the window`);
  }
  for (const id of exported.keys()) if (!seen.has(id)) problems.push(`row ${id}: missing`);
  if (jcs([...seen]) !== jcs([...exported.keys()])) problems.push('rows.ndjson: not in the order of the listed row hashes');
  if (seen.size !== manifest.rows || lines('seals.ndjson').length !== manifest.seals) problems.push('manifest.json: counts');
  if (names.includes('anchors.jsonl')) {
    const hashes = new Map(lines('seals.ndjson').map((seal) => [seal.sequence, seal.hash]));
    for (const { sequence, hash } of lines('anchors.jsonl')) if (hashes.has(sequence) && hashes.get(sequence) !== hash) problems.push(`seal ${sequence}: anchor`);
  }
  return problems;
}

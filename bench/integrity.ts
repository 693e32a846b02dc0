import { createPrivateKey, createPublicKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sealOnce, verifyTrail } from '#src/audit/operations';
import type { Database } from '#src/db/database';

/** How long after it was written a row was sealed, in seconds, over the rows of `action`. */
export interface SealLag {
  readonly rows: number;
  readonly p50Seconds: number;
  readonly p99Seconds: number;
  readonly maxSeconds: number;
}

/** Waits until every row is sealed (at most 60 s), then measures {@link SealLag}: `sealed_at` minus `occurred_at` (the row's transaction start). */
export async function sealLag(database: Database, action: string): Promise<SealLag> {
  for (let waited = 0; waited < 60_000; waited += 100) {
    const [row] = await database.sql<{ unsealed: number }[]>`
      select count(*)::int as unsealed from audit_logs where xact_id >= coalesce((select max(horizon) from audit_seals), '0'::xid8)`;
    if (row!.unsealed === 0) break;
    await sleep(100);
  }
  const [lag] = await database.sql<{ rows: number; p50: number; p99: number; max: number }[]>`
    select count(*)::int as rows,
           percentile_cont(0.5) within group (order by extract(epoch from s.sealed_at - a.occurred_at))::float8 as p50,
           percentile_cont(0.99) within group (order by extract(epoch from s.sealed_at - a.occurred_at))::float8 as p99,
           max(extract(epoch from s.sealed_at - a.occurred_at))::float8 as max
    from audit_logs a join audit_row_hashes h on h.id = a.id join audit_seals s on s.sequence = h.seal
    where a.action = ${action}`;
  return { rows: lag!.rows, p50Seconds: lag!.p50, p99Seconds: lag!.p99, maxSeconds: lag!.max };
}

/** What sealing and verifying a trail of `rows` rows took. */
export interface SealAndVerify {
  readonly rows: number;
  readonly sealRowsPerSecond: number;
  readonly verifiedRows: number;
  readonly verifyRowsPerSecond: number;
}

/** Rows per transaction and per seal while adding rows: about what one second of busy traffic seals. */
const ROWS_PER_SEAL = 2_000;

/**
 * Adds `rows` realistic rows (admin page reads listing 20 items, with their details) to the trail
 * of `database`, whose servers are stopped, sealing every {@link ROWS_PER_SEAL}, and times the
 * sealing and `audit:verify`'s check of the whole trail, as the CLI runs it.
 */
export async function sealAndVerify(database: Database, signingKeyBase64: string, rows: number): Promise<SealAndVerify> {
  const signingKey = createPrivateKey({ key: Buffer.from(signingKeyBase64, 'base64'), format: 'der', type: 'pkcs8' });
  let sealSeconds = 0;
  for (let added = 0; added < rows; added += ROWS_PER_SEAL) {
    await addRows(database, Math.min(ROWS_PER_SEAL, rows - added));
    const sealStarted = performance.now();
    while ((await sealOnce(database.sql, { signingKey, holder: 'bench', leaseMs: 60_000 })).seal);
    sealSeconds += (performance.now() - sealStarted) / 1000;
  }
  const verifyStarted = performance.now();
  const result = await verifyTrail(database.sql, { publicKey: createPublicKey(signingKey) });
  const verifySeconds = (performance.now() - verifyStarted) / 1000;
  if (!result.ok) throw new Error(`the benchmark's own trail did not verify: ${result.reason}`);
  return { rows, sealRowsPerSecond: rows / sealSeconds, verifiedRows: result.sealedRows, verifyRowsPerSecond: result.sealedRows / verifySeconds };
}

async function addRows(database: Database, rows: number): Promise<void> {
  await database.sql`
    insert into audit_logs (user_id, user_role, action, resource_type, resource_ids, owner_ids, outcome, admin_bypass, details,
                            request_id, operation_name, ip, user_agent)
    select 'admin' || (g % 20), 'ADMIN', 'admin_view_item', 'item',
           array(select (g * 20 + i)::text from generate_series(1, 20) i), array['user' || (g % 2000)], 'success', true,
           jsonb_build_object('fields', jsonb_build_array('id', 'title', 'description', 'ownerId', 'createdAt', 'updatedAt')),
           gen_random_uuid()::text, 'AdminPage', '10.0.' || (g % 250) || '.' || (g % 200), 'Mozilla/5.0 (X11; Linux x86_64) bench'
    from generate_series(1, ${rows}) g`;
}

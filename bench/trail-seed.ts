import type { Database } from '#src/db/database';

/** The seeded trail: 30 days of rows, 2,000 users of whom 20 admins, 1M items. */
export const SEED_START = new Date('2026-10-01T00:00:00Z');
export const SEED_DAYS = 30;
const USERS = 2_000;
const ADMINS = 20;
const ITEMS = 1_000_000;
const CHUNK = 1_000_000;

/**
 * One seeded row per `g` of `from`…`to` (of `rows` in all), every column a function of `g`, so a
 * run is reproducible: admin page reads list 20 items each, 3% of rows are denied and 1% errors,
 * two rows per request. Into `table`, which has the columns of `audit_logs`.
 */
export function seedChunkSql(from: number, to: number, rows: number, firstId: number, table = 'audit_logs'): string {
  return `
    insert into ${table} (id, occurred_at, user_id, user_role, action, resource_type, resource_id, resource_ids,
                            owner_ids, outcome, admin_bypass, details, request_id, operation_name, ip, user_agent)
    overriding system value
    select ${firstId - 1} + g,
           timestamptz '${SEED_START.toISOString()}' + interval '${SEED_DAYS} days' * (g::float8 / ${rows}),
           'user-' || u,
           case when u < ${ADMINS} then 'ADMIN' else 'USER' end,
           a.action,
           'item',
           case when a.action = 'admin_view_item' then null else (abs(hashint8extended(g, 2)) % ${ITEMS})::text end,
           case when a.action = 'admin_view_item'
                then array(select (abs(hashint8extended(g * 31 + k, 3)) % ${ITEMS})::text from generate_series(1, 20) k)
                else '{}' end,
           array['user-' || (abs(hashint8extended(g, 4)) % ${USERS})],
           case when o < 3 then 'denied' when o < 4 then 'error' else 'success' end,
           u < ${ADMINS} and a.action in ('admin_view_item', 'update_item', 'delete_item'),
           jsonb_build_object('fields', jsonb_build_array('id', 'title')),
           'req-' || (g / 2),
           'Op' || (g % 40),
           '10.' || (g % 200) || '.0.1',
           'seed-agent'
    from generate_series(${from}, ${to}) g,
         lateral (select abs(hashint8extended(g, 1)) % ${USERS} as u, abs(hashint8extended(g, 5)) % 100 as o,
                         abs(hashint8extended(g, 6)) % 100 as p) r,
         lateral (select case when r.p < 8 then 'admin_view_item' when r.p < 40 then 'update_item' when r.p < 60 then 'create_item'
                              when r.p < 65 then 'delete_item' when r.p < 75 then 'view_audit_logs' when r.p < 90 then 'authenticate'
                              else 'access_denied' end as action) a`;
}

/**
 * Seeds `rows` rows as the database owner, at chosen ids and times (the stamping trigger is for
 * everyone else) at ids after the rows already there, then VACUUM ANALYZE. The secondary indexes
 * are dropped first and built again from their definitions once the rows are in, which is several
 * times faster than inserting into them (and leaves them compact, as a long-lived trail's are not
 * quite). Returns the first seeded id, the seconds it took and the table's size with indexes.
 */
export async function seedTrail(owner: Database, rows: number): Promise<{ firstId: number; seconds: number; size: string }> {
  const start = performance.now();
  // Reserves the ids first: a server still finishing a request draws its ids past them.
  const [reserved] = await owner.sql<{ first: string }[]>`
    select (setval(pg_get_serial_sequence('audit_logs', 'id'), nextval(pg_get_serial_sequence('audit_logs', 'id')) + ${rows}) - ${rows} + 1)::text as first`;
  const firstId = Number(reserved!.first);
  // The months the seeded history falls in (the servers create only this month and those ahead).
  const seedEnd = new Date(SEED_START.getTime() + SEED_DAYS * 24 * 3600 * 1000);
  await owner.sql`select audit_logs_create_partitions(${SEED_START.toISOString()}::timestamptz, ${seedEnd.toISOString()}::timestamptz)`;
  const indexes = await owner.sql<{ name: string; definition: string }[]>`
    select c.relname as name, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i join pg_class c on c.oid = i.indexrelid
    where i.indrelid = 'audit_logs'::regclass and not i.indisprimary`;
  for (const { name } of indexes) await owner.sql.unsafe(`drop index "${name}"`);
  await owner.sql`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
  for (let from = 1; from <= rows; from += CHUNK) await owner.sql.unsafe(seedChunkSql(from, Math.min(rows, from + CHUNK - 1), rows, firstId));
  await owner.sql`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
  await owner.sql`set maintenance_work_mem = '512MB'`;
  // `ON ONLY` would build the parent's index alone, leaving every month without it.
  for (const { definition } of indexes) await owner.sql.unsafe(definition.replace(' ON ONLY ', ' ON '));
  await owner.sql`vacuum analyze audit_logs`;
  // A partitioned table holds nothing itself: its months do.
  const [size] = await owner.sql<{ size: string }[]>`
    select pg_size_pretty(sum(pg_total_relation_size(inhrelid))) as size from pg_inherits where inhparent = 'audit_logs'::regclass`;
  return { firstId, seconds: (performance.now() - start) / 1000, size: size!.size };
}

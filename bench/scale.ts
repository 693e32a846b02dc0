import './production-mode';
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { AuditLogService } from '#src/audit-logs/audit-log.service';
import { AuditStatsService } from '#src/audit-logs/audit-stats.service';
import type { AuditLogFilter } from '#src/audit-logs/audit-log.inputs';
import { connectDatabase, type Database } from '#src/db/database';
import { runMigrations } from '#src/db/migrate';
import { ITEM_NODE } from '#src/items/item.type';
import { auditStatsCases, rollUpSeededTrail, rollupSizes } from './audit-stats';
import { createBenchDatabase, DEFAULT_ADMIN_URL } from './database';
import { describeMachine } from './report';
import { percentile } from './stats';

/**
 * `npm run bench:scale -- --rows 10000000`: the trail's queries on a large, realistic trail.
 * Seeds `--rows` rows over 30 days (2,000 users of whom 20 admins, 1M items, admin page reads that
 * list 20 items each), then times, for every README query and single filter, the page the API
 * runs (`AuditLogService.pageQuery`) — page 1, page 1,000 (keyset), and `totalCount` — as the
 * database serves them (statement round trips from this process; no HTTP), p50 and p95; then the
 * rollups are filled as seals fill them and `auditStats` of 30 days is timed the same way.
 */

const SEED_DAYS = 30;
const USERS = 2_000;
const ADMINS = 20;
const ITEMS = 1_000_000;
const CHUNK = 1_000_000;

/** One seeded row per `g`: every column a function of `g`, so a run is reproducible. */
function seedChunkSql(from: number, to: number, rows: number): string {
  return `
    insert into audit_logs (id, occurred_at, user_id, user_role, action, resource_type, resource_id, resource_ids,
                            owner_ids, outcome, admin_bypass, details, request_id, operation_name, ip, user_agent)
    overriding system value
    select g,
           timestamptz '2026-10-01 00:00:00+00' + interval '${SEED_DAYS} days' * (g::float8 / ${rows}),
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

interface Case {
  readonly name: string;
  readonly filter: AuditLogFilter;
}

function cases(hot: string, rare: string): Case[] {
  const since = new Date('2026-10-30T00:00:00Z');
  return [
    { name: 'README AdminBypasses (last day)', filter: { adminBypass: true, from: since } },
    { name: 'README ItemHistory, hot item', filter: { resourceType: 'item', resourceId: ITEM_NODE.globalId(hot) } },
    { name: 'README ItemHistory, rare item', filter: { resourceType: 'item', resourceId: ITEM_NODE.globalId(rare) } },
    // No seeded item has an id this large.
    { name: 'README ItemHistory, never-accessed item', filter: { resourceType: 'item', resourceId: ITEM_NODE.globalId(9_000_000_000_000n) } },
    { name: 'README Denials (one month)', filter: { outcome: 'denied', from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') } },
    { name: 'README UserChanges', filter: { userId: 'user-42', actions: ['create_item', 'update_item', 'delete_item'] } },
    { name: 'README OneRequest', filter: { requestId: 'req-12345' } },
    { name: 'no filter', filter: {} },
    { name: 'userId', filter: { userId: 'user-42' } },
    { name: 'action', filter: { action: 'admin_view_item' } },
    { name: 'outcome: SUCCESS', filter: { outcome: 'success' } },
    { name: 'outcome: DENIED', filter: { outcome: 'denied' } },
    { name: 'adminBypass: true', filter: { adminBypass: true } },
    { name: 'adminBypass: false', filter: { adminBypass: false } },
    { name: 'from + to (one day)', filter: { from: new Date('2026-10-15T00:00:00Z'), to: new Date('2026-10-16T00:00:00Z') } },
  ];
}

/** Milliseconds of each of `runs` executions of `work`, after one warm-up. */
async function timings(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  await work();
  const times: number[] = [];
  for (let n = 0; n < runs; n++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return times;
}

const ms = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${percentile(sorted, 0.5).toFixed(1)} / ${percentile(sorted, 0.95).toFixed(1)}`;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '20' } } });
  const rows = Number(values.rows);
  const runs = Number(values.runs);
  const log = (line = '') => process.stdout.write(`${line}\n`);
  const database = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_ADMIN_URL);
  let direct: Database | undefined;
  try {
    direct = connectDatabase(database.url, { maxConnections: 1 });
    await runMigrations(direct.db);
    log(`Trail at scale: ${rows.toLocaleString('en-US')} rows`);
    log(`  machine : ${describeMachine()}`);
    log(`  database: ${database.description}`);

    const seedStart = performance.now();
    // The months the seeded history falls in (migrations create only this month and those ahead).
    await direct.sql`select audit_logs_create_partitions('2026-10-01', ${`2026-10-${1 + SEED_DAYS}`}::timestamptz)`;
    // The owner writes history at chosen ids and times: the stamping trigger is for everyone else.
    await direct.sql`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
    for (let from = 1; from <= rows; from += CHUNK) await direct.sql.unsafe(seedChunkSql(from, Math.min(rows, from + CHUNK - 1), rows));
    await direct.sql`alter table audit_logs enable trigger audit_logs_stamp_server_values`;
    await direct.sql`select setval(pg_get_serial_sequence('audit_logs', 'id'), ${rows})`;
    await direct.sql`vacuum analyze audit_logs`;
    const rollUpStart = performance.now();
    await rollUpSeededTrail(direct.sql);
    log(`  rollups : in ${((performance.now() - rollUpStart) / 1000).toFixed(0)} s; ${await rollupSizes(direct.sql)}`);
    const [size] = await direct.sql<{ size: string }[]>`select pg_size_pretty(pg_total_relation_size('audit_logs')) as size`;
    log(`  seeded  : in ${((performance.now() - seedStart) / 1000).toFixed(0)} s (generate_series, then VACUUM ANALYZE); table with indexes ${size!.size}`);

    const [hot] = await direct.sql<{ id: string }[]>`
      select resource_id as id from audit_logs where resource_id is not null group by resource_id order by count(*) desc limit 1`;
    const [rare] = await direct.sql<{ id: string }[]>`select resource_id as id from audit_logs where id = ${Math.floor(rows / 2)} and resource_id is not null`;
    const service = new AuditLogService(direct.db);
    log(`\n  p50 / p95 ms over ${runs} runs, statement round trips from this process`);
    log(`\n| Query | page 1 | page 1,000 | totalCount |`);
    log('| --- | ---: | ---: | ---: |');
    for (const testCase of cases(hot!.id, rare?.id ?? hot!.id)) {
      const first = 50;
      const page1 = await timings(runs, () => service.pageQuery(testCase.filter, { first, afterId: undefined }));
      // The cursor of page 1,000: walked to once, page by page, as a client would.
      let cursor: bigint | undefined;
      for (let page = 1; page < 1000; page++) {
        const rowsOfPage = await service.pageQuery(testCase.filter, { first, afterId: cursor });
        if (rowsOfPage.length < first + 1) {
          cursor = undefined;
          break;
        }
        cursor = rowsOfPage[first - 1]!.id;
      }
      const after = cursor;
      const page1000 = after === undefined ? '(fewer pages)' : ms(await timings(runs, () => service.pageQuery(testCase.filter, { first, afterId: after })));
      const count = await timings(Math.min(runs, 5), () => service.list(testCase.filter, { first, afterId: undefined }).then((page) => page.countTotal()));
      log(`| ${testCase.name} | ${ms(page1)} | ${page1000} | ${ms(count)} |`);
    }

    const stats = new AuditStatsService(direct.db);
    log(`\n| auditStats, 30 days | buckets | p50 / p95 ms |`);
    log('| --- | ---: | ---: |');
    for (const testCase of auditStatsCases(new Date('2026-10-01T00:00:00Z'), new Date('2026-10-31T00:00:00Z'))) {
      const { buckets } = await stats.stats(testCase.query);
      log(`| ${testCase.name} | ${buckets.length} | ${ms(await timings(runs, () => stats.stats(testCase.query)))} |`);
    }
  } finally {
    await direct?.close();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`scale benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

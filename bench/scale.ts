/**
 * `npm run bench:scale -- --rows 10000000`: the trail's queries on a large, realistic trail, through
 * HTTP against a production-mode server (audit ON, serving role) and as the database runs them.
 *
 * On a fresh database it seeds 1,000 items and `--rows` audit rows ({@link seedTrail}), and compares
 * `updateItem` throughput there with the same on a second database whose trail is empty (alternating
 * rounds), then for every README query and
 * single filter ({@link trailCases}) times, p50 / p95 over `--runs`: the page statement's server
 * time (EXPLAIN ANALYZE: planning + execution) for page 1 and page 1,000 (walked to by keyset, as a
 * client does) and the capped count's; and HTTP round trips of page 1 without and with
 * `totalCount`, and of page 1,000, and of page 1 from an audit-OFF server (the same API writing no
 * `view_audit_logs` row: what HTTP and the API cost on this machine). Last, what a trail query's own
 * `view_audit_logs` row costs:
 * `auditLog(id)` and a first page, against the audit-ON server and an audit-OFF one, alternating.
 */
import './production-mode';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AuditLogService } from '#src/audit-logs/query/audit-log.service';
import { AuditStatsService } from '#src/audit-logs/stats/audit-stats.service';
import { AUDIT_LOG_NODE, AUDIT_LOG_PAGE } from '#src/audit-logs/query/audit-log.type';
import { encodeCursor } from '#src/api/page';
import { connectDatabase, type Database } from '#src/db/database';
import { AUDIT_ACTIONS } from '#src/graphql/audit-actions';
import { auditStatsCases, rollUpSeededTrail, rollupSizes } from './audit-stats';
import { createBenchDatabase, DEFAULT_ADMIN_URL } from './database';
import { compareSideBySide, type SideStats } from './load';
import { describeMachine } from './report';
import { scenarios } from './scenarios';
import { seedDatabase } from './seed';
import { benchSigningKey, startBenchServer, type BenchServer } from './servers';
import { median, percentile } from './stats';
import { graphqlFilter, trailCases } from './trail-cases';
import { SEED_DAYS, SEED_START, seedTrail } from './trail-seed';

const PAGE = 50;
const DEEP_PAGE = 1000;
/** updateItem load on the big trail and on an empty one, in alternating rounds after a warm-up of each. */
const WRITE_LOAD = { connections: 10, warmupSeconds: 2, rounds: 4, roundSeconds: 5 };

const log = (line = '') => process.stdout.write(`${line}\n`);

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

const p = (sorted: number[], fraction: number) => percentile(sorted, fraction).toFixed(1);
const ms = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${p(sorted, 0.5)} / ${p(sorted, 0.95)}`;
};

/** A statement as drizzle builds it. */
interface Statement {
  toSQL(): { sql: string; params: unknown[] };
}

/** The server's own time for `statement`, planning and execution (EXPLAIN ANALYZE, per-node timing off). */
async function serverMs(database: Database, statement: Statement): Promise<number> {
  const { sql, params } = statement.toSQL();
  const [row] = await database.sql.unsafe(`explain (analyze, timing off, format json) ${sql}`, params as never[]);
  const output = row!['QUERY PLAN'];
  const [plan] = typeof output === 'string' ? JSON.parse(output) : output;
  return plan['Planning Time'] + plan['Execution Time'];
}

/** Server times of `runs` EXPLAIN ANALYZEs of `statement`, after one warm-up. */
async function serverTimings(database: Database, runs: number, statement: Statement): Promise<number[]> {
  await serverMs(database, statement);
  const times: number[] = [];
  for (let n = 0; n < runs; n++) times.push(await serverMs(database, statement));
  return times;
}

const TRAIL_QUERY = (withTotal: boolean) => `
  query ScaleTrail($filter: AuditLogFilter, $first: Int, $after: String) {
    auditLogs(filter: $filter, first: $first, after: $after) {
      ${withTotal ? 'totalCount totalCountIsExact' : ''}
      nodes { id timestamp userId action outcome resourceId adminBypass }
      pageInfo { hasNextPage endCursor }
    }
  }`;

/** POSTs one GraphQL request as `token`; throws on an HTTP error or GraphQL errors. */
async function graphql(server: BenchServer, token: string, query: string, variables: Record<string, unknown>): Promise<unknown> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
  if (!response.ok || body.errors) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

/** One side of the write comparison: its median req/s and p50, and each round's req/s. */
const describeWrites = (side: SideStats) =>
  `${side.requestsPerSecond.toFixed(0)} req/s (p50 ${side.p50Ms.toFixed(1)} ms; rounds ${side.runs.map((run) => run.requestsPerSecond.toFixed(0)).join(', ')})`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '20' } } });
  const rows = Number(values.rows);
  const runs = Number(values.runs);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const database = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_ADMIN_URL);
    cleanups.push(() => database.drop());
    const direct = connectDatabase(database.url, { maxConnections: 1 });
    cleanups.push(() => direct.close());
    const jwtSecret = randomBytes(32).toString('base64url');
    // The sealer is measured by `npm run bench` (P4); here it would only seal the seeded history.
    const signingKey = benchSigningKey();
    const fixture = await seedDatabase(direct, jwtSecret);
    const serving = await database.servingUrl();
    const start = async (audit: boolean) => {
      const server = await startBenchServer({ audit, seal: false, backstop: true, signingKey, databaseUrl: serving.url, checkServingRole: serving.checked, poolMax: database.poolMax, jwtSecret });
      cleanups.push(() => server.stop());
      return server;
    };
    const on = await start(true);
    const off = await start(false);
    // The same API on a database whose trail stays empty, for the write comparison.
    const emptyTrail = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_ADMIN_URL);
    cleanups.push(() => emptyTrail.drop());
    const emptyDirect = connectDatabase(emptyTrail.url, { maxConnections: 1 });
    cleanups.push(() => emptyDirect.close());
    await seedDatabase(emptyDirect, jwtSecret);
    const emptyServing = await emptyTrail.servingUrl();
    const onEmpty = await startBenchServer({ audit: true, seal: false, backstop: true, signingKey, databaseUrl: emptyServing.url, checkServingRole: emptyServing.checked, poolMax: emptyTrail.poolMax, jwtSecret });
    cleanups.push(() => onEmpty.stop());
    log(`Trail at scale: ${rows.toLocaleString('en-US')} rows`);
    log(`  machine : ${describeMachine()}`);
    log(`  database: ${database.description}`);
    log(`  servers : NODE_ENV=production, serving role, pool of ${database.poolMax}; audit ON ${on.url}, audit OFF ${off.url}`);

    const seeded = await seedTrail(direct, rows);
    log(`  seeded  : in ${seeded.seconds.toFixed(0)} s (generate_series, indexes built after, then VACUUM ANALYZE); table with indexes ${seeded.size}`);
    const rollUpStart = performance.now();
    await rollUpSeededTrail(direct.sql);
    log(`  rollups : in ${((performance.now() - rollUpStart) / 1000).toFixed(0)} s; ${await rollupSizes(direct.sql)}`);
    // Both databases hold the same 1,000 items, so the same updates apply to either.
    const update = scenarios(fixture).find((scenario) => scenario.id === 'P2')!;
    const writes = await compareSideBySide({ on, off: onEmpty }, update, WRITE_LOAD, () => {});
    log(`\n  updateItem (owner), audit ON, autocannon ${WRITE_LOAD.connections} connections, ${WRITE_LOAD.rounds} alternating rounds of ${WRITE_LOAD.roundSeconds} s, medians:`);
    log(`    big trail  : ${describeWrites(writes.on)}`);
    log(`    empty trail: ${describeWrites(writes.off)}`);
    log(`    big / empty: ${writes.ratio.toFixed(2)} (rounds ${writes.roundRatios.map((ratio) => ratio.toFixed(2)).join(', ')})`);

    const [hot] = await direct.sql<{ id: string }[]>`
      select resource_id as id from audit_logs where resource_id is not null group by resource_id order by count(*) desc limit 1`;
    const [rare] = await direct.sql<{ id: string }[]>`select resource_id as id from audit_logs where id = ${seeded.firstId + Math.floor(rows / 2)} and resource_id is not null`;
    const service = new AuditLogService(direct.db);
    const admin = fixture.adminToken;
    log(`\n  p50 / p95 ms over ${runs} runs. Server: EXPLAIN ANALYZE (planning + execution) of the statement the API runs. HTTP: one client, audit ON server.`);
    log(`\n| Query | server page 1 | server page 1,000 | server count | HTTP page 1 | HTTP page 1 + totalCount | HTTP page 1,000 | HTTP page 1, audit OFF |`);
    log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const testCase of trailCases(hot!.id, rare?.id ?? hot!.id)) {
      const page1 = await serverTimings(direct, runs, service.pageQuery(testCase.filter, { first: PAGE, afterId: undefined }));
      // The cursor of page 1,000: walked to once, page by page, as a client would.
      let cursor: bigint | undefined;
      for (let page = 1; page < DEEP_PAGE; page++) {
        const rowsOfPage = await service.pageQuery(testCase.filter, { first: PAGE, afterId: cursor });
        if (rowsOfPage.length < PAGE + 1) {
          cursor = undefined;
          break;
        }
        cursor = rowsOfPage[PAGE - 1]!.id;
      }
      const after = cursor;
      const count = await serverTimings(direct, runs, service.countQuery(testCase.filter));
      const variables = { filter: graphqlFilter(testCase.filter), first: PAGE };
      const http1 = await timings(runs, () => graphql(on, admin, TRAIL_QUERY(false), variables));
      const http1Total = await timings(runs, () => graphql(on, admin, TRAIL_QUERY(true), variables));
      const http1Off = await timings(runs, () => graphql(off, admin, TRAIL_QUERY(false), variables));
      const deep =
        after === undefined
          ? ['(fewer pages)', '(fewer pages)']
          : [
              ms(await serverTimings(direct, runs, service.pageQuery(testCase.filter, { first: PAGE, afterId: after }))),
              ms(await timings(runs, () => graphql(on, admin, TRAIL_QUERY(false), { ...variables, after: encodeCursor(AUDIT_LOG_PAGE.cursorKind, after) }))),
            ];
      log(`| ${testCase.name} | ${ms(page1)} | ${deep[0]} | ${ms(count)} | ${ms(http1)} | ${ms(http1Total)} | ${deep[1]} | ${ms(http1Off)} |`);
    }

    await viewRowCost(on, off, admin, runs * 10, AUDIT_LOG_NODE.globalId(String(seeded.firstId + 12345)));
    await commitCost(direct, runs * 10);

    const stats = new AuditStatsService(direct.db, AUDIT_ACTIONS);
    log(`\n| auditStats, 30 days | buckets | p50 / p95 ms |`);
    log('| --- | ---: | ---: |');
    for (const testCase of auditStatsCases(SEED_START, new Date(SEED_START.getTime() + SEED_DAYS * 86_400_000))) {
      const { buckets } = await stats.stats(testCase.query);
      log(`| ${testCase.name} | ${buckets.length} | ${ms(await timings(runs, () => stats.stats(testCase.query)))} |`);
    }
  } finally {
    for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) await cleanup().catch(() => {});
  }
}

/**
 * What a trail query's own `view_audit_logs` row adds to it: the same queries against the audit-ON
 * server (which writes and commits the row before answering) and the audit-OFF one, alternating.
 */
async function viewRowCost(on: BenchServer, off: BenchServer, admin: string, runs: number, auditLogId: string): Promise<void> {
  const queries = [
    { name: 'auditLog(id)', query: 'query ScaleOne($id: ID!) { auditLog(id: $id) { id action userId } }', variables: { id: auditLogId } },
    { name: 'auditLogs(first: 50), no filter', query: TRAIL_QUERY(false), variables: { first: PAGE } },
  ];
  log(`\n  A trail query's own view_audit_logs row: HTTP, one client, ${runs} requests per side, alternating ON and OFF; p50 / p95 ms.`);
  log('\n| Query | audit OFF | audit ON | ON − OFF at p50 |');
  log('| --- | ---: | ---: | ---: |');
  for (const { name, query, variables } of queries) {
    const times = new Map<BenchServer, number[]>([
      [on, []],
      [off, []],
    ]);
    for (const server of [on, off]) await graphql(server, admin, query, variables);
    for (let n = 0; n < runs; n++) {
      for (const server of n % 2 === 0 ? [on, off] : [off, on]) {
        const start = performance.now();
        await graphql(server, admin, query, variables);
        times.get(server)!.push(performance.now() - start);
      }
    }
    const added = median(times.get(on)!) - median(times.get(off)!);
    log(`| ${name} | ${ms(times.get(off)!)} | ${ms(times.get(on)!)} | ${added.toFixed(2)} |`);
  }
}

/**
 * The floor under any durable write here: one autocommitted single-row INSERT (a WAL flush) against
 * a `select 1`, from this process, alternating.
 */
async function commitCost(database: Database, runs: number): Promise<void> {
  await database.sql`create table commit_probe (n int)`;
  const select = () => database.sql`select 1`;
  const insert = () => database.sql`insert into commit_probe values (1)`;
  const times = new Map([
    [select, [] as number[]],
    [insert, [] as number[]],
  ]);
  for (let n = 0; n < runs; n++) {
    for (const statement of n % 2 === 0 ? [select, insert] : [insert, select]) {
      const start = performance.now();
      await statement();
      times.get(statement)!.push(performance.now() - start);
    }
  }
  const added = median(times.get(insert)!) - median(times.get(select)!);
  log(`| the database alone: select 1 vs a one-row INSERT committed | ${ms(times.get(select)!)} | ${ms(times.get(insert)!)} | ${added.toFixed(2)} |`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`scale benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

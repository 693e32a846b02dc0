import path from 'node:path';
import postgres from 'postgres';
import { signToken } from '../../src/auth/token-signer';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { postGraphQL } from '../support/graphql-http';
import { expectServedReadsRecorded, expectTrailMatchesItems, startMixedLoad, type LoadReport, type MixedLoadOptions } from '../support/mixed-load';
import { killAll, startApi, stopApi, type RunningApi } from '../support/node-process';
import { TEST_AUDIT_SIGNING_KEY, TEST_RATE_LIMITS, TEST_JWT_SECRET } from '../support/test-server';

/**
 * Two replicas of the built server on one PostgreSQL database, as behind a load balancer: both
 * start at once on a fresh database (both migrate), then owners change the same items and create
 * new ones through both, an admin lists them through both and anonymous callers are refused by
 * both. Afterwards the one trail must be complete and consistent: each committed change has exactly
 * its row, each served admin page its one row listing the items, every row belongs to exactly one
 * response of one process, and the database, not a replica's clock, dated every row. Replica B
 * runs its clock an hour ahead to show the last point.
 * Needs a real PostgreSQL (DATABASE_URL); the embedded one belongs to a single process.
 */

jest.setTimeout(60_000);

/** Long enough for each replica to answer some hundred requests of every kind, even on two busy cores. */
const LOAD_MS = 2_000;
const ITEMS = 6;
const CLOCK_AHEAD_MS = 3_600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('two server processes on one database', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;

  beforeAll(async () => {
    database = await createTestDatabase();
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    killAll();
    await sql?.end();
    await database?.drop();
  });

  it('keep one complete, consistent trail of reads and writes made through both', async () => {
    const [{ started }] = await sql<{ started: Date }[]>`select clock_timestamp() as started`;
    const env = { DATABASE_URL: database.url, DATABASE_POOL_MAX: '5', JWT_SECRET: TEST_JWT_SECRET, AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY, PORT: '0', ...TEST_RATE_LIMITS };
    const clockAhead = { NODE_OPTIONS: `--require ${path.join(__dirname, '../support/clock-ahead.cjs')}`, CLOCK_AHEAD_MS: String(CLOCK_AHEAD_MS) };
    // At once, on a database without tables: both run the migrations as they start.
    const replicas = await Promise.all([startApi(env), startApi({ ...env, ...clockAhead })]);
    const [a, b] = replicas as [RunningApi, RunningApi];
    for (const replica of replicas) expect(await fetch(new URL('/readyz', replica.url)).then((response) => response.status)).toBe(200);

    const ownerToken = await signToken(TEST_JWT_SECRET, { sub: 'alice' });
    const adminToken = await signToken(TEST_JWT_SECRET, { sub: 'root', role: 'admin' });
    const [seededA, seededB] = await Promise.all([seedItems(a.url, ownerToken, ITEMS / 2), seedItems(b.url, ownerToken, ITEMS / 2)]);
    const itemIds = [...seededA.itemIds, ...seededB.itemIds];
    const traffic = (url: string, label: string): MixedLoadOptions => ({ url, ownerToken, adminToken, itemIds, label });
    const loads = [startMixedLoad(traffic(a.url, 'a')), startMixedLoad(traffic(b.url, 'b'))];
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
    const [reportA, reportB] = (await Promise.all(loads.map((load) => load.stop()))) as [LoadReport, LoadReport];
    const answeredByA = [...seededA.requestIds, ...reportA.requestIds];
    const answeredByB = [...seededB.requestIds, ...reportB.requestIds];

    for (const report of [reportA, reportB]) {
      expect({ unanswered: report.unanswered, unclean: report.unclean }).toEqual({ unanswered: 0, unclean: [] });
      expect(report.adminReadsServed.length).toBeGreaterThan(0);
    }
    // Nothing failed: the only rows that are not successes are the anonymous callers' refusals.
    const notSuccesses = await sql`select distinct action, outcome, user_id from audit_logs where outcome <> 'success'`;
    expect(notSuccesses.map((row) => ({ ...row }))).toEqual([{ action: 'access_denied', outcome: 'denied', user_id: null }]);

    // Each committed change has exactly its row, whichever replica made it, and the rows of both
    // replicas chain into the items' state; each served admin page has its one row.
    await expectTrailMatchesItems(sql);
    await expectServedReadsRecorded(sql, [...reportA.adminReadsServed, ...reportB.adminReadsServed]);
    const [updates] = await sql<{ through_a: number; through_b: number }[]>`
      select count(*) filter (where request_id = any(${answeredByA}))::int as through_a,
             count(*) filter (where request_id = any(${answeredByB}))::int as through_b
      from audit_logs where action = 'update_item' and outcome = 'success'`;
    expect(Math.min(updates!.through_a, updates!.through_b)).toBeGreaterThan(0);

    // Request ids are generated per request (no trusted proxy supplies them): one process's own, never
    // shared with the other's, and every row belongs to a request one of them answered.
    const idsA = new Set(answeredByA);
    expect([...answeredByA, ...answeredByB].filter((id) => !UUID.test(id))).toEqual([]);
    expect(answeredByB.filter((id) => idsA.has(id))).toEqual([]);
    const answered = [...answeredByA, ...answeredByB];
    const rows = await sql<{ request_id: string | null }[]>`
      select request_id from audit_logs where request_id is null or not (request_id = any(${answered}))`;
    expect(rows).toEqual([]);
    const withRows = await sql<{ request_id: string }[]>`select distinct request_id from audit_logs`;
    const recorded = new Set(withRows.map((row) => row.request_id));
    expect(answered.filter((id) => !recorded.has(id))).toEqual([]); // every request here writes a row

    // The database dated every row: replica B's clock is an hour ahead, yet no row is.
    const [{ finished }] = await sql<{ finished: Date }[]>`select clock_timestamp() as finished`;
    const outside = await sql`
      select request_id, occurred_at from audit_logs where occurred_at < ${started} or occurred_at > ${finished} limit 5`;
    expect(outside).toEqual([]);
    // And one sequence numbered them: the ids of the two replicas' rows interleave.
    const [order] = await sql<{ a_min: string; a_max: string; b_min: string; b_max: string }[]>`
      select min(id) filter (where mine)::text as a_min, max(id) filter (where mine)::text as a_max,
             min(id) filter (where not mine)::text as b_min, max(id) filter (where not mine)::text as b_max
      from (select id, request_id = any(${answeredByA}) as mine from audit_logs) rows`;
    expect(BigInt(order!.b_min) < BigInt(order!.a_max) && BigInt(order!.a_min) < BigInt(order!.b_max)).toBe(true);

    for (const exit of await Promise.all(replicas.map(stopApi))) {
      expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    }
  });
});

/** Creates `count` items as the owner through one replica; their ids and the requests' ids. */
async function seedItems(url: string, ownerToken: string, count: number): Promise<{ itemIds: string[]; requestIds: string[] }> {
  const itemIds: string[] = [];
  const requestIds: string[] = [];
  for (let n = 0; n < count; n++) {
    const { headers, body } = await postGraphQL(url, { query: `mutation { createItem(input: {title: "initial-${n}"}) { id } }` }, { authorization: `Bearer ${ownerToken}` });
    itemIds.push(body.data.createItem.id);
    requestIds.push(headers.get('x-request-id')!);
  }
  return { itemIds, requestIds };
}

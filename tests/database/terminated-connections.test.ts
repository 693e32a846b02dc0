import postgres from 'postgres';
import { signToken } from '../../src/auth/token-signer';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { expectSurvived, seedItems, startMixedLoad } from '../support/mixed-load';
import { killAll, startApi, type RunningApi } from '../support/node-process';
import { TEST_AUDIT_SIGNING_KEY, TEST_RATE_LIMITS, TEST_JWT_SECRET } from '../support/test-server';

/**
 * The built server as a process, while PostgreSQL terminates its connections (`pg_terminate_backend`,
 * as an operator, a failover or a pooler does) every 50 ms for 4 s, some 80 rounds, under mixed
 * load: the process stays up, the requests hit get a clean error, the pool recovers and the trail
 * stays exact.
 * Needs a real PostgreSQL (DATABASE_URL); the embedded one has no backends to terminate.
 */

jest.setTimeout(90_000);

const STORM_MS = 4_000;
const STORM_INTERVAL_MS = 50;
const ITEMS = 8;
/** More requests at once than the pool has connections, so every connection must have recovered. */
const AFTER_STORM_REQUESTS = 30;

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('terminated database connections', () => {
  let database: TestDatabase;
  let api: RunningApi;
  let admin: postgres.Sql;
  let ownerToken: string;
  let adminToken: string;

  beforeAll(async () => {
    // Migrated already: the storm is what is tested, not the migrations at start.
    database = await createTestDatabase({ migrated: true });
    admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    ownerToken = await signToken(TEST_JWT_SECRET, { sub: 'alice' });
    adminToken = await signToken(TEST_JWT_SECRET, { sub: 'root', role: 'admin' });
    api = await startApi({ DATABASE_URL: database.url, DATABASE_POOL_MAX: '10', JWT_SECRET: TEST_JWT_SECRET, AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY, PORT: '0', ...TEST_RATE_LIMITS });
  });
  afterAll(async () => {
    killAll();
    await admin?.end();
    await database?.drop();
  });

  /** Terminates every backend of the API's pool, as often as `intervalMs`, for `durationMs`. */
  async function terminateBackends(durationMs: number, intervalMs: number): Promise<number> {
    const { pathname } = new URL(database.url);
    const name = pathname.slice(1);
    let terminated = 0;
    for (const end = Date.now() + durationMs; Date.now() < end && api.proc.child.exitCode === null; ) {
      const [row] = await admin<{ n: number }[]>`
        select count(*) filter (where pg_terminate_backend(pid))::int as n from pg_stat_activity
        where datname = ${name} and application_name = 'audited-graphql-api'`;
      terminated += row!.n;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    return terminated;
  }

  it('stays up, answers cleanly, recovers, and keeps every change with exactly its row', async () => {
    const itemIds = await seedItems(api.url, ownerToken, ITEMS);

    const traffic = { url: api.url, ownerToken, adminToken, itemIds };
    const load = startMixedLoad(traffic);
    const terminated = await terminateBackends(STORM_MS, STORM_INTERVAL_MS);
    const report = await load.stop();

    expect(terminated).toBeGreaterThan(0);
    await expectSurvived(api, report, traffic, database.url, AFTER_STORM_REQUESTS);
  });
});

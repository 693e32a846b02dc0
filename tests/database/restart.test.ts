import { signToken } from '../../src/auth/token-signer';
import { expectSurvived, seedItems, startMixedLoad } from '../support/mixed-load';
import { killAll, startApi, type RunningApi } from '../support/node-process';
import { TEST_AUDIT_SIGNING_KEY, TEST_RATE_LIMITS, TEST_JWT_SECRET } from '../support/test-server';
import { canCreateClusters, createThrowawayCluster, type ThrowawayCluster } from '../support/throwaway-cluster';

/**
 * The built server as a process while its PostgreSQL restarts three times under mixed load (a
 * fast shutdown, a crash, a fast shutdown): the process stays up, requests get a clean error while
 * the database is away, the pool reconnects, and the trail stays exact. The database is a
 * throwaway cluster of this test's own; the machine's shared server is never restarted.
 */

jest.setTimeout(120_000);

const ITEMS = 8;
const RESTARTS = ['fast', 'immediate', 'fast'] as const;
/** Load between restarts, so requests are in flight when each one starts (fourteen clients send them). */
const LOAD_BETWEEN_RESTARTS_MS = 500;
const AFTER_RESTARTS_REQUESTS = 30;

const describeWithClusters = process.env.DATABASE_URL && canCreateClusters() ? describe : describe.skip;

describeWithClusters('database restarts', () => {
  let cluster: ThrowawayCluster;
  let api: RunningApi;
  let ownerToken: string;
  let adminToken: string;

  beforeAll(async () => {
    cluster = await createThrowawayCluster();
    ownerToken = await signToken(TEST_JWT_SECRET, { sub: 'alice' });
    adminToken = await signToken(TEST_JWT_SECRET, { sub: 'root', role: 'admin' });
    api = await startApi({ DATABASE_URL: cluster.url, DATABASE_POOL_MAX: '10', JWT_SECRET: TEST_JWT_SECRET, AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY, PORT: '0', ...TEST_RATE_LIMITS });
  });
  afterAll(async () => {
    killAll();
    await cluster?.drop();
  });

  it('stays up through three restarts, answers cleanly, reconnects, and keeps every change with exactly its row', async () => {
    const itemIds = await seedItems(api.url, ownerToken, ITEMS);

    const traffic = { url: api.url, ownerToken, adminToken, itemIds };
    const load = startMixedLoad(traffic);
    for (const mode of RESTARTS) {
      await new Promise((resolve) => setTimeout(resolve, LOAD_BETWEEN_RESTARTS_MS));
      await cluster.restart(mode);
    }
    await new Promise((resolve) => setTimeout(resolve, LOAD_BETWEEN_RESTARTS_MS));
    const report = await load.stop();

    await expectSurvived(api, report, traffic, cluster.url, AFTER_RESTARTS_REQUESTS);
  });
});

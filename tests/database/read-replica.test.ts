import 'reflect-metadata';
import { signToken, type TokenClaims } from '../../src/auth/token-signer';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/config/logger';
import { migrateDatabaseAt } from '../../src/db/migrate';
import { startServer, type Server } from '../../src/server';
import { dataOf } from '../support/errors';
import { postGraphQL } from '../support/graphql-http';
import { CREATE_ITEM, ITEM_QUERY } from '../support/items';
import { canRunThrowawayServers, createReplicaPair, type ReplicaPair } from '../support/replica-pair';
import { admin, alice, TEST_AUDIT_SIGNING_KEY, TEST_JWT_SECRET, TEST_RATE_LIMITS } from '../support/test-server';

// DATABASE_READ_URL: the trail's own queries (auditLogs, auditStats, myDataAccess, exports, the live
// feed) read a streaming replica while it keeps up, and the primary past DATABASE_READ_MAX_LAG_MS;
// writes, the rows recording those reads, and item reads stay on the primary. A real pair: a
// throwaway primary and a hot standby made by pg_basebackup, replay paused to make it lag.

const describeWithServers = canRunThrowawayServers() ? describe : describe.skip;
const MAX_LAG_MS = 3_000;
const REASON = { 'access-reason': 'support TICKET-11' };

describeWithServers('a read replica for the trail', () => {
  let pair: ReplicaPair;
  let server: Server;
  beforeAll(async () => {
    pair = await createReplicaPair();
    await migrateDatabaseAt(pair.primaryUrl);
    const config = loadConfig({
      DATABASE_URL: pair.primaryUrl,
      DATABASE_READ_URL: pair.standbyUrl,
      DATABASE_READ_MAX_LAG_MS: String(MAX_LAG_MS),
      JWT_SECRET: TEST_JWT_SECRET,
      AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY,
      AUDIT_SEAL_INTERVAL_MS: '100',
      PORT: '0',
      ...TEST_RATE_LIMITS,
    });
    server = await startServer(config, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await pair?.drop();
  });

  const graphql = async (query: string, as: TokenClaims, variables: Record<string, unknown> = {}) =>
    postGraphQL(`${server.url}/graphql`, { query, variables }, { authorization: `Bearer ${await signToken(TEST_JWT_SECRET, as)}`, ...REASON });
  const titlesInTrail = async () => {
    const page = dataOf(await graphql('{ auditLogs(first: 50, filter: { action: "create_item" }) { nodes { details } } }', admin)).auditLogs;
    return page.nodes.map((node: { details: { after: { title: string } } }) => node.details.after.title);
  };
  const lag = async () => dataOf(await graphql('{ auditIntegrity { readReplicaLagSeconds } }', admin)).auditIntegrity.readReplicaLagSeconds as number;
  const create = async (title: string) => dataOf(await graphql(CREATE_ITEM, alice, { input: { title } })).createItem;
  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('reads the trail from the replica while it keeps up; writes and item reads stay on the primary', async () => {
    await create('before the pause');
    await until(async () => (await titlesInTrail()).includes('before the pause'), 'the replica to replay the first item');
    await pair.pauseReplay();
    try {
      const paused = await create('while replay is paused');
      // The primary has it: the change, its row, and the admin's read of the item.
      expect(dataOf(await graphql(ITEM_QUERY, admin, { id: paused.id })).item.title).toBe('while replay is paused');
      // The trail, read from the replica within the lag bound, does not show it yet.
      expect(await lag()).toBeLessThanOrEqual(MAX_LAG_MS / 1000);
      expect(await titlesInTrail()).toEqual(['before the pause']);
      const exported = await fetch(`${server.url}/audit/export?${new URLSearchParams({ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() })}`, {
        headers: { authorization: `Bearer ${await signToken(TEST_JWT_SECRET, admin)}`, ...REASON },
      });
      expect((await exported.text()).includes('while replay is paused')).toBe(false);
    } finally {
      await pair.resumeReplay();
    }
    await until(async () => (await titlesInTrail()).includes('while replay is paused'), 'the replica to catch up');
  });

  it('reads the primary once the replica is further behind than the bound, and shows the lag', async () => {
    await pair.pauseReplay();
    try {
      await create('past the bound');
      await until(async () => (await lag()) > MAX_LAG_MS / 1000, 'the lag to pass the bound');
      expect(await titlesInTrail()).toContain('past the bound');
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const gauge = Number(/^audit_read_replica_lag_seconds (\S+)$/m.exec(metrics)?.[1]);
      expect(gauge).toBeGreaterThan(MAX_LAG_MS / 1000);
    } finally {
      await pair.resumeReplay();
    }
    await until(async () => (await lag()) === 0, 'the replica to catch up');
  });
});

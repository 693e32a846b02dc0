import 'reflect-metadata';
import { createPrivateKey } from 'node:crypto';
import { dropAuditMonthsBefore, sealOnce } from '../../src/audit/operations';
import { AuditTrail } from '../../src/audit/wiring';
import { connectDatabase } from '../../src/db/database';
import { AUDIT_ACTIONS } from '../../src/graphql/audit-actions';
import { commandLineRun } from '../../src/pipeline';
import { tracedRequest, TRACED_USER_AGENT, type StoredAuditRow } from '../support/audit-rows';
import { AUTHENTICATION_REQUIRED, dataOf, expectFieldError, expectInvalidInput } from '../support/errors';
import { admin, alice, startTestServer, TEST_AUDIT_SIGNING_KEY, type TestServer } from '../support/test-server';

/*
 * `auditStats` and `auditActions` over real HTTP. Expectations are counted here in TypeScript from
 * the sealed rows (a plain SELECT of audit_logs joined to audit_row_hashes), never with the rollups
 * or the service's SQL. The server's own sealer waits an hour between seals, so the test decides
 * when rows are sealed: rows it has not sealed must not be counted.
 */

jest.setTimeout(120_000);

const signingKey = createPrivateKey({ key: Buffer.from(TEST_AUDIT_SIGNING_KEY, 'base64'), format: 'der', type: 'pkcs8' });

let server: TestServer;
/**
 * Seals every row written so far. A seal's horizon waits for every writing transaction on the
 * cluster, and other test files hold some open for seconds, so this seals until none is left.
 */
async function seal(): Promise<void> {
  const [{ written }] = await server.sql<{ written: string }[]>`select coalesce(max(xact_id), '0')::text as written from audit_logs`;
  for (let attempt = 0; attempt < 900; attempt++) {
    await sealOnce(server.sql, { signingKey, holder: 'test', leaseMs: 60_000 });
    const [{ unsealed }] = await server.sql<{ unsealed: number }[]>`
      select count(*)::int as unsealed from audit_logs a
      where a.xact_id <= ${written}::xid8 and not exists (select from audit_row_hashes h where h.id = a.id)`;
    if (unsealed === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('rows still unsealed after 90 s');
}

/**
 * `rows` rows from `start`, one every 7 minutes (so across hours, days and, from March 25, into
 * April), written by one transaction that stamps its own id on them as the trigger would: the
 * owner's backfill of history the sealer then seals like any other rows.
 */
async function seedRows(start: string, rows: number, salt: number): Promise<void> {
  await server.sql.begin(async (tx) => {
    await tx`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
    await tx`
      insert into audit_logs (occurred_at, xact_id, user_id, user_role, action, resource_type, outcome, admin_bypass, request_id)
      select ${start}::timestamptz + g * interval '7 minutes', pg_current_xact_id(),
             case when g % 13 = 0 then null else 'user-' || ((g * 7 + ${salt}) % 9) end,
             case when g % 13 = 0 then null when (g * 7 + ${salt}) % 9 < 2 then 'ADMIN' else 'USER' end,
             (array['create_item', 'update_item', 'admin_view_item', 'authenticate', 'view_audit_logs'])[1 + (g * 3 + ${salt}) % 5],
             case when g % 11 = 0 then null else (array['item', 'audit_log'])[1 + g % 2] end,
             case when g % 5 = 0 then 'denied' when g % 17 = 0 then 'error' else 'success' end,
             (g * 7 + ${salt}) % 9 < 2 and g % 3 = 0,
             'seed-' || g
      from generate_series(1, ${rows}) g`;
    await tx`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
  });
}

interface SealedRow {
  hour: number;
  userId: string | null;
  userRole: string | null;
  action: string;
  resourceType: string | null;
  outcome: string;
  adminBypass: boolean;
}

const sealedRows = async (): Promise<SealedRow[]> =>
  (
    await server.sql<(Omit<SealedRow, 'hour'> & { at: Date })[]>`
      select a.occurred_at as at, a.user_id as "userId", a.user_role as "userRole", a.action, a.resource_type as "resourceType",
             a.outcome, a.admin_bypass as "adminBypass"
      from audit_logs a join audit_row_hashes h on h.id = a.id`
  ).map(({ at, ...row }) => ({ ...row, hour: Math.floor(at.getTime() / 3_600_000) * 3_600_000 }));

type Key = 'action' | 'outcome' | 'userId' | 'userRole' | 'resourceType' | 'adminBypass';
interface Filter {
  userId?: string;
  actions?: string[];
  resourceType?: string;
  outcome?: 'SUCCESS' | 'DENIED' | 'ERROR';
  adminBypass?: boolean;
  from?: string;
  to?: string;
}
interface Bucket {
  keys: Record<Key, unknown>;
  bucketStart: string | null;
  count: number;
}

/** The buckets `auditStats` must answer (at most 900 here: 1,000 with every field would exceed the query cost limit), counted from `rows` with the filter written out here. */
function expectedBuckets(rows: SealedRow[], groupBy: Key[], bucket: 'HOUR' | 'DAY' | null, filter: Filter): Bucket[] {
  const matches = (row: SealedRow) =>
    (filter.userId === undefined || row.userId === filter.userId) &&
    (filter.actions === undefined || filter.actions.includes(row.action)) &&
    (filter.resourceType === undefined || row.resourceType === filter.resourceType) &&
    (filter.outcome === undefined || row.outcome === filter.outcome.toLowerCase()) &&
    (filter.adminBypass === undefined || row.adminBypass === filter.adminBypass) &&
    (filter.from === undefined || row.hour >= Date.parse(filter.from)) &&
    (filter.to === undefined || row.hour < Date.parse(filter.to));
  const counts = new Map<string, Bucket>();
  for (const row of rows.filter(matches)) {
    const keys = { action: null, outcome: null, userId: null, userRole: null, resourceType: null, adminBypass: null } as Record<Key, unknown>;
    for (const key of groupBy) keys[key] = key === 'outcome' ? row.outcome.toUpperCase() : row[key];
    const start = bucket === null ? null : new Date(bucket === 'HOUR' ? row.hour : row.hour - (row.hour % 86_400_000)).toISOString();
    const id = JSON.stringify([keys, start]);
    const entry = counts.get(id) ?? { keys, bucketStart: start, count: 0 };
    entry.count++;
    counts.set(id, entry);
  }
  return [...counts.values()];
}

const STATS = `query Stats($filter: AuditLogFilter, $groupBy: [AuditStatsKey!]!, $bucket: AuditStatsBucketSize, $first: Int, $order: AuditStatsOrder) {
  auditStats(filter: $filter, groupBy: $groupBy, bucket: $bucket, first: $first, order: $order) {
    buckets { keys { action outcome userId userRole resourceType adminBypass } bucketStart count }
    hasMore
  }
}`;
const GROUP_KEYS: Record<Key, string> = {
  action: 'ACTION',
  outcome: 'OUTCOME',
  userId: 'USER_ID',
  userRole: 'USER_ROLE',
  resourceType: 'RESOURCE_TYPE',
  adminBypass: 'ADMIN_BYPASS',
};

async function stats(groupBy: Key[], bucket: 'HOUR' | 'DAY' | null, filter: Filter, extra: { first?: number; order?: string } = {}) {
  const response = await server.graphql(STATS, {
    as: admin,
    variables: { filter, groupBy: groupBy.map((key) => GROUP_KEYS[key]), bucket, first: extra.first ?? 900, order: extra.order },
  });
  return dataOf(response).auditStats as { buckets: Bucket[]; hasMore: boolean };
}

const byContent = (a: Bucket, b: Bucket) => JSON.stringify([a.bucketStart, a.keys]).localeCompare(JSON.stringify([b.bucketStart, b.keys]));

beforeAll(async () => {
  server = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '3600000' });
  await server.sql`select audit_logs_create_partitions('2024-03-01', '2024-05-01')`;
  await seedRows('2024-03-25T00:00:00Z', 3000, 0);
  await seal();
  // Written after the seal, on the same days: not sealed, so never counted.
  await seedRows('2024-03-25T00:00:00Z', 500, 4);
}, 60_000);
afterAll(() => server?.stop());

describe('auditStats counts exactly the sealed rows', () => {
  const cases: [string, Key[], 'HOUR' | 'DAY' | null, Filter][] = [
    ['events per day by action', ['action'], 'DAY', {}],
    ['denials per hour, one day', ['outcome'], 'HOUR', { outcome: 'DENIED', from: '2024-03-27T00:00:00Z', to: '2024-03-28T00:00:00Z' }],
    ['outcome × bypass × resourceType per hour for some actions', ['outcome', 'adminBypass', 'resourceType'], 'HOUR', { actions: ['update_item', 'admin_view_item'], from: '2024-03-31T12:00:00Z', to: '2024-04-02T12:00:00Z' }],
    ['role and resource type over everything', ['userRole', 'resourceType'], null, {}],
    ['days of a range of whole hours (summed from hours)', ['action', 'outcome'], 'DAY', { from: '2024-03-27T06:00:00Z', to: '2024-03-30T18:00:00Z' }],
    ['totals over a range of whole hours', ['resourceType'], null, { from: '2024-03-31T22:00:00Z', to: '2024-04-01T02:00:00Z' }],
    ['top admins by bypass', ['userId'], null, { adminBypass: true }],
    ['users per day', ['userId', 'userRole'], 'DAY', {}],
    ['one user, by action and day, in a day range', ['action'], 'DAY', { userId: 'user-3', from: '2024-03-26T00:00:00Z', to: '2024-04-02T00:00:00Z' }],
    ['every key, per day', ['action', 'outcome', 'userId', 'userRole', 'resourceType', 'adminBypass'], 'DAY', { from: '2024-03-30T00:00:00Z', to: '2024-04-03T00:00:00Z' }],
    ['all rows per day', [], 'DAY', { resourceType: 'item' }],
    ['the total', [], null, {}],
  ];

  it.each(cases)('%s', async (_name, groupBy, bucket, filter) => {
    const expected = expectedBuckets(await sealedRows(), groupBy, bucket, filter);
    const answer = await stats(groupBy, bucket, filter);
    expect(expected.length).toBeGreaterThan(0);
    expect(answer.hasMore).toBe(false);
    expect([...answer.buckets].sort(byContent)).toEqual(expected.sort(byContent));
  });

  it('leaves out the rows not sealed yet, and counts them once they are', async () => {
    const [{ unsealed }] = await server.sql<{ unsealed: number }[]>`
      select count(*)::int as unsealed from audit_logs a where not exists (select from audit_row_hashes h where h.id = a.id)`;
    expect(unsealed).toBeGreaterThanOrEqual(500);
    const total = async () => (await stats([], null, {})).buckets[0]!.count;
    const before = await total();
    expect(before).toBe((await sealedRows()).length);
    await seal();
    const sealed = (await sealedRows()).length;
    expect(await total()).toBe(sealed);
    expect(sealed - before).toBeGreaterThanOrEqual(500);
  });

  it('orders by count, largest first, or by time, and says when there were more buckets', async () => {
    const all = (await stats(['action'], 'DAY', {}, { order: 'TIME_ASC' })).buckets;
    const timeOrder = [...all].sort((a, b) => a.bucketStart!.localeCompare(b.bucketStart!) || b.count - a.count || String(a.keys.action).localeCompare(String(b.keys.action)));
    expect(all).toEqual(timeOrder);
    const top = await stats(['action'], 'DAY', {}, { first: 5 });
    const countOrder = [...all].sort((a, b) => b.count - a.count || a.bucketStart!.localeCompare(b.bucketStart!) || String(a.keys.action).localeCompare(String(b.keys.action)));
    expect(top).toEqual({ buckets: countOrder.slice(0, 5), hasMore: true });
  });
});

describe('auditStats is recorded and refused like auditLogs', () => {
  const viewRow = (fields: Partial<StoredAuditRow>): Partial<StoredAuditRow> => ({
    user_id: 'root',
    user_role: 'ADMIN',
    action: 'view_audit_logs',
    resource_type: 'audit_log',
    resource_id: null,
    resource_ids: [],
    owner_ids: [],
    admin_bypass: false,
    ip: '127.0.0.1',
    user_agent: TRACED_USER_AGENT,
    ...fields,
  });

  it('leaves one view_audit_logs row per request, with what it asked', async () => {
    const response = await tracedRequest(
      server,
      `{ a: auditStats(groupBy: [ACTION], bucket: DAY, filter: { outcome: DENIED }) { hasMore }
         b: auditStats(groupBy: [USER_ID], first: 3) { hasMore } }`,
      { as: admin },
    );
    dataOf(response);
    expect(await response.rows()).toEqual([
      expect.objectContaining(
        viewRow({
          outcome: 'success',
          details: {
            filter: { outcome: 'denied' },
            groupBy: ['action'],
            bucket: 'day',
            first: 100,
            order: 'COUNT_DESC',
            fields: ['Query.auditStats'],
            count: 2,
          },
        }),
      ),
    ]);
  });

  const refusals: [string, string, string][] = [
    ['a record', '{ auditStats(groupBy: [ACTION], filter: { resourceId: "42" }) { hasMore } }', 'filter.resourceId'],
    ['a request', '{ auditStats(groupBy: [ACTION], filter: { requestId: "r-1" }) { hasMore } }', 'filter.requestId'],
    ['hours of users', '{ auditStats(groupBy: [USER_ID], bucket: HOUR) { hasMore } }', 'bucket'],
    ['hours of one user', '{ auditStats(groupBy: [ACTION], bucket: HOUR, filter: { userId: "user-3" }) { hasMore } }', 'bucket'],
    ['a time inside an hour', '{ auditStats(groupBy: [ACTION], filter: { from: "2024-03-27T00:30:00Z" }) { hasMore } }', 'filter.from'],
    ['a time inside a day, by user', '{ auditStats(groupBy: [USER_ID], filter: { to: "2024-03-27T05:00:00Z" }) { hasMore } }', 'filter.to'],
    ['an action nobody records', '{ auditStats(groupBy: [ACTION], filter: { actions: ["update_item", "update_itme"] }) { hasMore } }', 'filter.actions[1]'],
    ['too many buckets', '{ auditStats(groupBy: [ACTION], first: 1001) { hasMore } }', 'first'],
  ];

  it.each(refusals)('refuses %s with BAD_USER_INPUT naming the field, recorded as refused', async (_name, query, field) => {
    const response = await tracedRequest(server, query, { as: admin });
    expectInvalidInput(response, { path: 'auditStats', field, data: null });
    expect(await response.rows()).toEqual([
      expect.objectContaining(viewRow({ outcome: 'denied', details: expect.objectContaining({ reason: 'invalid_input', field, fields: ['Query.auditStats'], count: 1 }) })),
    ]);
  });

  it('refuses users and anonymous callers, and records it', async () => {
    const asUser = await tracedRequest(server, '{ auditStats(groupBy: [USER_ID]) { hasMore } }', { as: alice });
    expectFieldError(asUser, { path: 'auditStats', data: null, code: 'FORBIDDEN' });
    expect(await asUser.rows()).toEqual([
      expect.objectContaining(
        viewRow({
          user_id: 'alice',
          user_role: 'USER',
          outcome: 'denied',
          details: expect.objectContaining({ groupBy: ['userId'], bucket: null, fields: ['Query.auditStats'] }),
        }),
      ),
    ]);
    const anonymous = await tracedRequest(server, '{ auditStats(groupBy: [USER_ID]) { hasMore } }');
    expectFieldError(anonymous, { path: 'auditStats', data: null, ...AUTHENTICATION_REQUIRED });
    expect(await anonymous.rows()).toEqual([expect.objectContaining({ action: 'view_audit_logs', outcome: 'denied', user_id: null })]);
  });
});

describe('auditActions', () => {
  it('lists every action the trail records, with its description, for admins', async () => {
    const { auditActions } = dataOf(await server.graphql('{ auditActions { name resourceType description details } }', { as: admin }));
    expect(auditActions.map((action: { name: string }) => action.name)).toEqual(
      expect.arrayContaining(['authenticate', 'access_denied', 'view_audit_logs', 'admin_view_item', 'create_item', 'update_item', 'delete_item', 'audit_retention']),
    );
    expect(auditActions).toContainEqual({
      name: 'update_item',
      resourceType: 'item',
      description: 'every item changed, or a refused attempt (`denied`, `details.reason`)',
      details: expect.stringContaining('changes'),
    });
  });

  it('is refused to users, and the refusal recorded', async () => {
    const response = await tracedRequest(server, '{ auditActions { name } }', { as: alice });
    expectFieldError(response, { path: 'auditActions', data: null, code: 'FORBIDDEN' });
    expect(await response.rows()).toEqual([
      expect.objectContaining({ action: 'view_audit_logs', outcome: 'denied', user_id: 'alice', details: expect.objectContaining({ actions: true }) }),
    ]);
  });
});

describe('retention of a month', () => {
  it('removes that month’s counts with its rows, and keeps the others exact', async () => {
    await seal();
    const march = { from: '2024-03-01T00:00:00Z', to: '2024-04-01T00:00:00Z' };
    expect((await stats(['action'], 'DAY', march)).buckets.length).toBeGreaterThan(0);
    const owner = connectDatabase(server.database.url, { maxConnections: 1 });
    try {
      const audit = commandLineRun(new AuditTrail({ db: owner.db, actions: AUDIT_ACTIONS }), 'audit:retention');
      const result = await dropAuditMonthsBefore(owner.db, new Date('2024-04-01T00:00:00Z'), signingKey, audit);
      expect(result.dropped.map((month) => month.name)).toContain('audit_logs_2024_03');
    } finally {
      await owner.close();
    }
    expect((await stats(['action'], 'DAY', march)).buckets).toEqual([]);
    expect((await stats(['action'], 'HOUR', march)).buckets).toEqual([]);
    expect((await stats(['userId'], 'DAY', march)).buckets).toEqual([]);
    for (const [groupBy, bucket] of [[['action', 'outcome'], 'DAY'], [['userId'], 'DAY'], [[], null]] as const) {
      const expected = expectedBuckets(await sealedRows(), [...groupBy], bucket, {});
      expect(expected.length).toBeGreaterThan(0);
      expect([...(await stats([...groupBy], bucket, {})).buckets].sort(byContent)).toEqual(expected.sort(byContent));
    }
  });
});

import fc from 'fast-check';
import { globalIdOfResource } from '../../src/api/global-id';
import { rowMatches } from '../../src/audit-logs/query/audit-log.match';
import { AuditLogService } from '../../src/audit-logs/query/audit-log.service';
import type { AuditLogFilter } from '../../src/audit-logs/query/audit-log.inputs';
import { connectDatabase, type Database } from '../../src/db/database';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

/*
 * The live feed reads each sealed row once per process and filters it in memory: that filter must
 * select exactly what the SQL of `auditLogs` selects, for every filter field and their combinations.
 */
jest.setTimeout(60_000);

let server: TestServer;
let database: Database;
let service: AuditLogService;

beforeAll(async () => {
  server = await startTestServer();
  database = connectDatabase(server.database.url, { maxConnections: 1 });
  service = new AuditLogService(database.db);
  // A trail of many kinds of row: changes, admin reads of one and of several items, denials, refusals.
  const create = async (as: typeof alice, title: string) =>
    (await server.graphql('mutation($t: String!) { createItem(input: { title: $t }) { id } }', { as, variables: { t: title } })).body.data.createItem.id as string;
  const a1 = await create(alice, 'a1');
  await create(alice, 'a2');
  const b1 = await create(bob, 'b1');
  await server.graphql('mutation($id: ID!) { updateItem(id: $id, input: { title: "x" }) { id } }', { as: bob, variables: { id: a1 } });
  await server.graphql('mutation($id: ID!) { updateItem(id: $id, input: { title: "y" }) { id } }', { as: admin, variables: { id: b1 } });
  await server.graphql('{ items(first: 10) { nodes { id title } } }', { as: admin });
  await server.graphql('query Named($id: ID!) { item(id: $id) { title } }', { as: admin, variables: { id: a1 } });
  await server.graphql('{ items { totalCount } }');
  await server.graphql('{ auditLogs(first: 5) { nodes { id } } }', { as: alice });
});

afterAll(async () => {
  await database?.close();
  await server?.stop();
});

it('selects in memory exactly the rows the SQL filter selects', async () => {
  const all = (await service.list(null, { first: 1000, afterId: undefined })).rows;
  expect(all.length).toBeGreaterThanOrEqual(10);
  const pick = <T>(values: T[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
  const distinct = <T>(values: (T | null)[]) => [...new Set(values.filter((value): value is T => value !== null))];
  const times = all.map((row) => row.occurredAt).sort((x, y) => x.getTime() - y.getTime());
  const records = distinct(all.flatMap((row) => (row.resourceType === 'item' ? [row.resourceId, ...row.resourceIds] : []))).map((key) => globalIdOfResource('item', key));
  const filters = fc.record(
    {
      userId: pick(distinct(all.map((row) => row.userId))),
      action: pick(distinct(all.map((row) => row.action))),
      actions: fc.option(fc.subarray(distinct(all.map((row) => row.action)), { minLength: 1 }), { nil: undefined }),
      excludeActions: fc.option(fc.subarray(distinct(all.map((row) => row.action))), { nil: undefined }),
      userRole: pick(distinct(all.map((row) => row.userRole))),
      resourceType: pick(distinct(all.map((row) => row.resourceType))),
      resourceId: pick(records),
      ownerId: pick(distinct(all.flatMap((row) => row.ownerIds))),
      outcome: pick(distinct(all.map((row) => row.outcome))),
      adminBypass: fc.option(fc.boolean(), { nil: undefined }),
      requestId: pick(distinct(all.map((row) => row.requestId))),
      ip: pick(distinct(all.map((row) => row.ip))),
      operationName: pick(distinct(all.map((row) => row.operationName))),
      from: pick(times),
      to: pick(times),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(filters, async (filter) => {
      if (filter.from && filter.to && filter.from >= filter.to) return;
      const bySql = (await service.list(filter as AuditLogFilter, { first: 1000, afterId: undefined })).rows.map((row) => row.id).sort();
      const inMemory = all.filter((row) => rowMatches(row, filter as AuditLogFilter)).map((row) => row.id).sort();
      expect(inMemory).toEqual(bySql);
    }),
    { numRuns: 300 },
  );
});

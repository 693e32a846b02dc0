import { COUNT_CAP } from '../../src/audit-logs/query/audit-log.service';
import { allowBackdatedRows } from '../support/audit-rows';
import { admin, startTestServer, type TestServer } from '../support/test-server';

/*
 * `auditLogs.totalCount` counts no further than a cap, so a count never reads the whole trail,
 * and says when it stopped there (`totalCountIsExact`). Below the cap it is exact.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await allowBackdatedRows(server.sql, '2026-01-01');
  await server.sql`
    insert into audit_logs (occurred_at, action, outcome, user_id)
    select timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second', 'count_probe', 'success',
           case when g % 1000 = 0 then 'rare-user' else 'busy-user' end
    from generate_series(1, ${COUNT_CAP + 500}) g`;
}, 60_000);
afterAll(() => server.stop());

async function counted(filter: Record<string, unknown>) {
  const { body } = await server.graphql('query($f: AuditLogFilter) { auditLogs(filter: $f, first: 1) { totalCount totalCountIsExact } }', {
    as: admin,
    variables: { f: filter },
  });
  return body.data.auditLogs;
}

it('stops counting at the cap and says so', async () => {
  expect(await counted({ action: 'count_probe' })).toEqual({ totalCount: COUNT_CAP, totalCountIsExact: false });
});

it('is exact below the cap', async () => {
  expect(await counted({ action: 'count_probe', userId: 'rare-user' })).toEqual({ totalCount: 10, totalCountIsExact: true });
  expect(await counted({ action: 'no_such_action' })).toEqual({ totalCount: 0, totalCountIsExact: true });
});

it('counts items exactly, as before', async () => {
  const { body } = await server.graphql('{ items { totalCount totalCountIsExact } }', { as: admin });
  expect(body.data.items).toEqual({ totalCount: 0, totalCountIsExact: true });
});

import type { TokenClaims } from '../../src/auth/token-signer';
import { tracedRequest } from '../support/audit-rows';
import { expectFieldError, expectInvalidInput, expectRequestError } from '../support/errors';
import { ITEM_NOT_FOUND, rawIdOf } from '../support/items';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

/*
 * Issue 7, findings 1, 4 and 5: the trail stays bounded under hostile input, nothing is answered
 * before its audit row exists, and every access is recorded — including access through the trail.
 */

let server: TestServer;
beforeAll(async () => {
  // The query limits would refuse these floods before they run (tests/security/query-limits.test.ts); raised
  // here so that the trail's own bounds are what is tested.
  server = await startTestServer({ GRAPHQL_MAX_ALIASES: '5000', GRAPHQL_MAX_TOKENS: '100000', GRAPHQL_MAX_RECURSIVE_SELECTIONS: '100000', GRAPHQL_MAX_COST: '1000000' });
});
afterAll(() => server.stop());

/** Sends one operation; returns the response and the rows its request wrote (found by the echoed request id). */
async function send(query: string, as?: TokenClaims, variables?: Record<string, unknown>) {
  const response = await tracedRequest(server, query, { as, variables });
  return { ...response, rows: await response.rows() };
}

async function createItem(owner: TokenClaims, title: string): Promise<string> {
  const { body } = await send('mutation($t: String!) { createItem(input: {title: $t}) { id } }', owner, { t: title });
  return body.data.createItem.id;
}

const tableBytes = async () => Number((await server.sql`select pg_total_relation_size('audit_logs') as bytes`)[0]!.bytes);
const rowCount = async () => Number((await server.sql`select count(*) from audit_logs`)[0]!.count);

describe('1. no request can flood the trail', () => {
  beforeAll(async () => {
    // Pages of the table and its indexes exist already, as on any live trail.
    for (let n = 0; n < 20; n++) await send('{ me { userId } }');
  });

  it('an anonymous 200 KB operation name with 1,000 aliases of a refused field adds at most 2 rows and 32 KB', async () => {
    const name = `Q${'x'.repeat(200_000)}`;
    const aliases = Array.from({ length: 1000 }, (_, n) => `a${n}: me { userId }`).join(' ');
    const [bytes, rows] = [await tableBytes(), await rowCount()];

    const response = await tracedRequest(server, `query ${name} { ${aliases} }`);

    expect(response.status).toBeLessThan(500);
    expect((await rowCount()) - rows).toBeLessThanOrEqual(2);
    expect((await tableBytes()) - bytes).toBeLessThanOrEqual(32 * 1024);
    const stored = await response.rows();
    for (const row of stored) {
      expect((row.operation_name ?? '').length).toBeLessThanOrEqual(200);
      expect(JSON.stringify(row.details).length).toBeLessThanOrEqual(8192);
    }
  });

  it('200 aliases of a refused auditLogs with a 250 KB filter add at most 2 rows and 32 KB, marking what was cut', async () => {
    const filter = { requestId: 'r'.repeat(250_000) };
    const aliases = Array.from({ length: 200 }, (_, n) => `a${n}: auditLogs(filter: $f) { totalCount }`).join(' ');
    const [bytes, rows] = [await tableBytes(), await rowCount()];

    const response = await tracedRequest(server, `query ($f: AuditLogFilter) { ${aliases} }`, { as: alice, variables: { f: filter } });

    expect(response.status).toBeLessThan(500);
    expect((await rowCount()) - rows).toBeLessThanOrEqual(2);
    expect((await tableBytes()) - bytes).toBeLessThanOrEqual(32 * 1024);
    const [row, ...others] = await response.rows();
    expect(others).toEqual([]);
    expect(row).toMatchObject({ action: 'view_audit_logs', outcome: 'denied', details: { count: 200, fields: ['Query.auditLogs'] } });
    expect(row!.details.filter.requestId).toHaveLength(256);
    expect(row!.details.truncated).toEqual({ 'filter.requestId': 250_000 });
  });

  it('writes one access_denied row per request listing the refused fields and how many there were', async () => {
    const { rows } = await send('{ a: me { userId } b: me { userId } items { totalCount } }');
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'access_denied',
        outcome: 'denied',
        details: { reason: 'unauthenticated', fields: ['Query.me', 'Query.items'], count: 3 },
      }),
    ]);
  });
});

describe('4. nothing is answered before its audit row exists', () => {
  it('every refusal of a request is in the trail when its answer arrives, though the answer came at the first', async () => {
    // `me` is non-null: graphql-js answers as soon as the first refusal fails it, while the other
    // root fields are still being refused.
    const query = `{ ${Array.from({ length: 8 }, (_, n) => `m${n}: me { userId } i${n}: items { totalCount }`).join(' ')} }`;
    for (let n = 0; n < 30; n++) {
      const rows = await (await tracedRequest(server, query)).rows();
      expect(rows).toEqual([expect.objectContaining({ action: 'access_denied', details: expect.objectContaining({ count: 16 }) })]);
    }
  });

  describe('when audit rows cannot be written', () => {
    /** DDL on the trail races the server's sealer, which reads its partitions: a deadlock is retried. */
    async function onTrail(statement: () => Promise<unknown>): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        try {
          await statement();
          return;
        } catch (error) {
          if ((error as { code?: string }).code !== '40P01' || attempt === 5) throw error;
        }
      }
    }

    afterEach(async () => {
      await onTrail(() => server.sql`drop trigger if exists fail_some_audit_rows on audit_logs`);
      await server.sql`drop function if exists fail_some_audit_rows()`;
    });

    /** Makes inserts of `action` fail; `outsideChanges` limits that to inserts not part of a change's transaction. */
    async function failAuditRows(action: string, outsideChanges = false) {
      // In a BEFORE trigger no transaction id is assigned yet to an insert that is its transaction's first write.
      await server.sql.unsafe(`
        create function fail_some_audit_rows() returns trigger language plpgsql as $$
        begin
          if new.action = '${action}' ${outsideChanges ? 'and txid_current_if_assigned() is null' : ''} then
            raise exception 'audit rows of % are refused for this test', new.action;
          end if;
          return new;
        end $$`);
      await onTrail(() => server.sql`create trigger fail_some_audit_rows before insert on audit_logs for each row execute function fail_some_audit_rows()`);
    }

    it('withholds the answer to refused calls (503, no data) when their row cannot be written', async () => {
      await failAuditRows('access_denied');
      expectRequestError(await server.graphql('{ me { userId } }'), { status: 503, code: 'INTERNAL_SERVER_ERROR' });
    });

    it("answers a committed change truthfully: an admin's read of the item it returns commits with it", async () => {
      const id = await createItem(alice, 'before');
      await failAuditRows('admin_view_item', true);

      const { status, body, rows } = await send('mutation($id: ID!) { updateItem(id: $id, input: {title: "after"}) { id title } }', admin, { id });

      expect(status).toBe(200);
      expect(body).toEqual({ data: { updateItem: { id, title: 'after' } } });
      expect(rows).toEqual([
        expect.objectContaining({ action: 'update_item', outcome: 'success', resource_id: rawIdOf(id), admin_bypass: true }),
        expect.objectContaining({ action: 'admin_view_item', resource_id: rawIdOf(id), owner_ids: ['alice'], details: { fields: ['id', 'title'] } }),
      ]);
    });
  });
});

describe('5. every access is in the trail, including through the trail', () => {
  let itemId: string;
  beforeAll(async () => {
    itemId = await createItem(alice, 'private');
    await send('mutation($id: ID!) { updateItem(id: $id, input: {title: "still private"}) { id } }', alice, { id: itemId });
  });

  it("names the items whose data a trail query disclosed, as an admin bypass found by the item's id", async () => {
    const { rows } = await send('query($f: AuditLogFilter) { auditLogs(filter: $f) { nodes { details } } }', admin, {
      f: { userId: 'alice', resourceType: 'item' },
    });
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'view_audit_logs',
        outcome: 'success',
        resource_type: 'item',
        resource_id: null,
        resource_ids: expect.arrayContaining([rawIdOf(itemId)]),
        owner_ids: ['alice'],
        admin_bypass: true,
      }),
    ]);

    const whoSaw = await send('query($f: AuditLogFilter) { auditLogs(filter: $f) { nodes { action userId } } }', admin, {
      f: { resourceType: 'item', resourceId: itemId, action: 'view_audit_logs' },
    });
    expect(whoSaw.body.data.auditLogs.nodes).toEqual([{ action: 'view_audit_logs', userId: 'root' }]);
  });

  it('does not re-list the records earlier trail queries named when it shows their rows', async () => {
    await send('query($f: AuditLogFilter) { auditLogs(filter: $f) { nodes { id } } }', admin, { f: { userId: 'alice', resourceType: 'item' } });
    const { rows } = await send('query($f: AuditLogFilter) { auditLogs(filter: $f) { nodes { resourceIds } } }', admin, {
      f: { action: 'view_audit_logs' },
    });
    expect(rows).toEqual([expect.objectContaining({ action: 'view_audit_logs', resource_type: 'audit_log', resource_ids: [], owner_ids: [] })]);
  });

  it('writes one view_audit_logs row for a request of many aliased trail queries', async () => {
    const aliases = Array.from({ length: 217 }, (_, n) => `a${n}: auditLogs(filter: {action: "no_such_action"}, first: 1) { totalCount }`).join(' ');
    const { rows } = await send(`{ ${aliases} }`, admin);
    expect(rows).toEqual([expect.objectContaining({ action: 'view_audit_logs', details: expect.objectContaining({ count: 217 }) })]);
  });

  it("records a user's item(id) of someone else's item as a denied view_item, and answers null", async () => {
    const { body, rows } = await send('query($id: ID!) { item(id: $id) { id } }', bob, { id: itemId });
    expect(body).toEqual({ data: { item: null } });
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'view_item',
        outcome: 'denied',
        resource_id: rawIdOf(itemId),
        owner_ids: ['alice'],
        details: { reason: 'not_owner', ownerId: 'alice' },
      }),
    ]);
  });

  it("records a user's items(ownerId: another user) as a denied list_items, and answers with none", async () => {
    const { body, rows } = await send('{ items(ownerId: "alice") { nodes { id } totalCount } }', bob);
    expect(body).toEqual({ data: { items: { nodes: [], totalCount: 0 } } });
    expect(rows).toEqual([
      expect.objectContaining({ action: 'list_items', outcome: 'denied', owner_ids: ['alice'], details: { reason: 'not_owner', ownerId: 'alice' } }),
    ]);
  });

  it("refuses bad input on someone else's item as NOT_FOUND, recorded as denied, before validating it", async () => {
    const response = await send('mutation($id: ID!) { updateItem(id: $id, input: {title: ""}) { id } }', bob, { id: itemId });
    expectFieldError(response, { path: 'updateItem', ...ITEM_NOT_FOUND, data: null });
    expect(response.rows).toEqual([expect.objectContaining({ action: 'update_item', outcome: 'denied', details: expect.objectContaining({ reason: 'not_owner' }) })]);
  });

  it.each([
    ['first: -1', '{ auditLogs(first: -1) { totalCount } }', 'auditLogs', 'first'],
    ['actions: []', '{ auditLogs(filter: {actions: []}) { totalCount } }', 'auditLogs', 'filter.actions'],
    ['from >= to', '{ auditLogs(filter: {from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z"}) { totalCount } }', 'auditLogs', 'filter.to'],
    ['a bad cursor', '{ auditLogs(after: "nope") { totalCount } }', 'auditLogs', 'after'],
    ['a bad id', '{ auditLog(id: "x") { id } }', 'auditLog', 'id'],
  ])('records a trail query refused for bad input (%s)', async (_label, query, path, field) => {
    const response = await send(query, admin);
    // auditLogs is non-null, so its failure nulls the whole data; auditLog is nullable.
    expectInvalidInput(response, { path, field, data: path === 'auditLog' ? { auditLog: null } : null });
    expect(response.rows).toEqual([
      expect.objectContaining({ action: 'view_audit_logs', outcome: 'denied', details: expect.objectContaining({ reason: 'invalid_input', field }) }),
    ]);
  });
});

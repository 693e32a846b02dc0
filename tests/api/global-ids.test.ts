import { tracedRequest, type StoredAuditRow } from '../support/audit-rows';
import { dataOf, expectFieldError, expectInvalidInput } from '../support/errors';
import { auditLogId } from '../support/global-ids';
import { CREATE_ITEM, ITEM_FIELDS, itemId, rawIdOf } from '../support/items';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

/*
 * Relay's Global Object Identification: every id the API returns is opaque and names its type, every
 * ID argument takes only such ids, and `node(id:)` / `nodes(ids:)` answer each id as its type's own
 * query does — scoped and audited exactly alike, row for row.
 */

let server: TestServer;
let aliceItem: string;

const NODE = `query($id: ID!) { node(id: $id) { __typename id ... on Item { ${ITEM_FIELDS} } ... on AuditLog { action resourceId } ... on Viewer { userId role } } }`;
const ITEM = `query($id: ID!) { item(id: $id) { __typename id ${ITEM_FIELDS} } }`;
const AUDIT_LOG = 'query($id: ID!) { auditLog(id: $id) { __typename id action resourceId } }';

/** A row without what differs between two requests that did the same (their ids, and the field named). */
const sameRead = ({ request_id: _request, details: { fields: _fields, ...details }, ...row }: StoredAuditRow) => ({ ...row, details });

beforeAll(async () => {
  server = await startTestServer();
  aliceItem = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'rent' } } })).createItem.id;
});
afterAll(() => server.stop());

describe('ids', () => {
  it('never collide across types: an item, an audit entry with the same row id, and a viewer named so have different ids', async () => {
    const entries = dataOf(await server.graphql('{ auditLogs(first: 200) { nodes { id } } }', { as: admin })).auditLogs.nodes;
    const entry = entries.at(-1).id;
    let item = aliceItem;
    while (Number(rawIdOf(item)) < Number(rawIdOf(entry))) {
      item = dataOf(await server.graphql(CREATE_ITEM, { as: bob, variables: { input: { title: 'filler' } } })).createItem.id;
    }
    expect(rawIdOf(item)).toBe(rawIdOf(entry));
    expect(item).not.toBe(entry);
    const { me } = dataOf(await server.graphql('{ me { id userId } }', { as: { sub: rawIdOf(item) } }));
    expect(me.userId).toBe(rawIdOf(item));
    expect([item, entry]).not.toContain(me.id);
  });

  it.each([
    ['a raw database id', () => '1'],
    ['an audit entry’s id', async () => dataOf(await server.graphql('{ auditLogs(first: 1) { nodes { id } } }', { as: admin })).auditLogs.nodes[0].id],
    ['a cursor', async () => dataOf(await server.graphql('{ items { edges { cursor } } }', { as: alice })).items.edges[0].cursor],
    ['an id with a non-canonical encoding', () => `${aliceItem}x`],
  ])('refuses %s where an item id is expected, in every argument, with BAD_USER_INPUT', async (_what, id) => {
    const value = await id();
    for (const [query, path, data] of [
      [ITEM, 'item', { item: null }],
      ['mutation($id: ID!) { updateItem(id: $id, input: { title: "x" }) { id } }', 'updateItem', null],
      ['mutation($id: ID!) { deleteItem(id: $id) { deletedItemId } }', 'deleteItem', null],
    ] as const) {
      expectInvalidInput(await server.graphql(query, { as: alice, variables: { id: value } }), { path, field: 'id', data });
    }
  });

  it('refuses an item id where an audit entry id is expected, and records the refusal like any bad input', async () => {
    const response = await tracedRequest(server, AUDIT_LOG, { as: admin, variables: { id: aliceItem } });
    expectInvalidInput(response, { path: 'auditLog', field: 'id', data: { auditLog: null } });
    expect(await response.rows()).toEqual([
      expect.objectContaining({ action: 'view_audit_logs', outcome: 'denied', details: expect.objectContaining({ id: aliceItem, reason: 'invalid_input', field: 'id' }) }),
    ]);
  });

  it('answers a raw id given to node() with BAD_USER_INPUT', async () => {
    expectInvalidInput(await server.graphql(NODE, { as: alice, variables: { id: '1' } }), { path: 'node', field: 'id', data: { node: null } });
  });
});

describe('node(id:) answers as the type’s own query, audited alike', () => {
  it('gives the owner their item', async () => {
    const viaItem = dataOf(await server.graphql(ITEM, { as: alice, variables: { id: aliceItem } })).item;
    expect(dataOf(await server.graphql(NODE, { as: alice, variables: { id: aliceItem } })).node).toEqual(viaItem);
  });

  it('records an admin’s read of someone else’s item exactly as item(id:) does', async () => {
    const viaItem = await tracedRequest(server, ITEM, { as: admin, variables: { id: aliceItem } });
    const viaNode = await tracedRequest(server, NODE, { as: admin, variables: { id: aliceItem } });
    expect(dataOf(viaNode).node).toEqual(dataOf(viaItem).item);
    const [itemRow] = await viaItem.rows();
    const nodeRows = await viaNode.rows();
    expect(nodeRows).toEqual([
      expect.objectContaining({ action: 'admin_view_item', resource_id: '1', owner_ids: ['alice'], admin_bypass: true }),
    ]);
    expect(nodeRows.map(sameRead)).toEqual([sameRead(itemRow!)]);
    expect(nodeRows[0]!.details.fields).toEqual(itemRow!.details.fields);
  });

  it('records only the fields selected on the item, through fragments on Node', async () => {
    const query = 'query($id: ID!) { node(id: $id) { ... on Node { id } ... on Item { title } } }';
    const response = await tracedRequest(server, query, { as: admin, variables: { id: aliceItem } });
    expect(dataOf(response).node).toEqual({ id: aliceItem, title: 'rent' });
    expect((await response.rows()).map((row) => row.details)).toEqual([{ fields: ['id', 'title'] }]);
  });

  it('answers null for someone else’s item and records the refusal as item(id:) does', async () => {
    const viaItem = await tracedRequest(server, ITEM, { as: bob, variables: { id: aliceItem } });
    const viaNode = await tracedRequest(server, NODE, { as: bob, variables: { id: aliceItem } });
    expect(dataOf(viaNode)).toEqual({ node: null });
    const [itemRow] = await viaItem.rows();
    expect((await viaNode.rows()).map(sameRead)).toEqual([sameRead(itemRow!)]);
    expect(itemRow).toMatchObject({ action: 'view_item', outcome: 'denied', resource_id: '1' });
  });

  it('lets only admins fetch an audit entry, recording both as auditLog(id:) does', async () => {
    await server.graphql('{ me { userId } }'); // an anonymous refusal: an entry about no one's records
    const entries = await server.graphql('{ auditLogs(filter: { action: "access_denied" }, first: 1) { nodes { id } } }', { as: admin });
    const entry = dataOf(entries).auditLogs.nodes[0].id;
    for (const caller of [admin, bob]) {
      const viaAuditLog = await tracedRequest(server, AUDIT_LOG, { as: caller, variables: { id: entry } });
      const viaNode = await tracedRequest(server, NODE, { as: caller, variables: { id: entry } });
      const [auditLogRow] = await viaAuditLog.rows();
      expect((await viaNode.rows()).map(sameRead)).toEqual([sameRead(auditLogRow!)]);
      expect(auditLogRow).toMatchObject({ action: 'view_audit_logs', resource_type: 'audit_log', resource_id: rawIdOf(entry), details: expect.objectContaining({ id: entry }) });
      if (caller === admin) {
        expect(dataOf(viaNode).node).toEqual(dataOf(viaAuditLog).auditLog);
        expect(auditLogRow!.outcome).toBe('success');
      } else {
        expectFieldError(viaNode, { path: 'node', code: 'FORBIDDEN', data: { node: null }, message: 'the audit trail is for admins only' });
        expect(auditLogRow!.outcome).toBe('denied');
      }
    }
  });

  it('gives the viewer themself, and nobody else’s viewer', async () => {
    const { me } = dataOf(await server.graphql('{ me { id userId role } }', { as: alice }));
    expect(dataOf(await server.graphql(NODE, { as: alice, variables: { id: me.id } })).node).toEqual({ __typename: 'Viewer', ...me });
    expect(dataOf(await server.graphql(NODE, { as: bob, variables: { id: me.id } })).node).toBeNull();
  });
});

describe('nodes(ids:) answers each id as node(id:) does', () => {
  const NODES = `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Item { title } } }`;

  it('answers in order, null for what the caller may not see, and records an admin’s reads as a page of items', async () => {
    const bobItem = dataOf(await server.graphql(CREATE_ITEM, { as: bob, variables: { input: { title: 'bob’s' } } })).createItem.id;
    const missing = itemId(999_999);
    const asAlice = await tracedRequest(server, NODES, { as: alice, variables: { ids: [bobItem, aliceItem, missing] } });
    expect(dataOf(asAlice).nodes).toEqual([null, { __typename: 'Item', id: aliceItem, title: 'rent' }, null]);
    expect(await asAlice.rows()).toEqual([expect.objectContaining({ action: 'view_item', outcome: 'denied', resource_id: rawIdOf(bobItem) })]);

    const asAdmin = await tracedRequest(server, NODES, { as: admin, variables: { ids: [aliceItem, bobItem] } });
    expect(dataOf(asAdmin).nodes.map((node: { id: string }) => node.id)).toEqual([aliceItem, bobItem]);
    const [row, ...others] = await asAdmin.rows();
    expect(others).toEqual([]);
    expect(row).toMatchObject({ action: 'admin_view_item', admin_bypass: true, resource_id: null, details: { fields: ['id', 'title'] } });
    expect([...row!.resource_ids].sort()).toEqual([rawIdOf(aliceItem), rawIdOf(bobItem)].sort());
    expect([...row!.owner_ids].sort()).toEqual(['alice', 'bob']);
  });

  it('refuses a user asking for an audit entry among other ids, recording it as a refused read of the trail', async () => {
    const response = await tracedRequest(server, NODES, { as: bob, variables: { ids: [aliceItem, auditLogId(1)] } });
    expectFieldError(response, { path: 'nodes', code: 'FORBIDDEN', data: null, message: 'the audit trail is for admins only' });
    expect(await response.rows()).toEqual([
      expect.objectContaining({ action: 'view_audit_logs', outcome: 'denied', details: expect.objectContaining({ ids: [aliceItem, auditLogId(1)] }) }),
    ]);
  });

  it('refuses a bad id by its position, and more than 100 ids, before fetching any', async () => {
    const bad = await tracedRequest(server, NODES, { as: admin, variables: { ids: [aliceItem, '1'] } });
    expectInvalidInput(bad, { path: 'nodes', field: 'ids[1]', data: null });
    expect(await bad.rows()).toEqual([]);
    const many = await server.graphql(NODES, { as: alice, variables: { ids: Array.from({ length: 101 }, () => aliceItem) } });
    expectInvalidInput(many, { path: 'nodes', field: 'ids', data: null });
  });
});

describe('the audit trail names records by global id', () => {
  it('shows resourceId as the id node() takes, and filters by it', async () => {
    const { auditLogs } = dataOf(
      await server.graphql('query($id: ID!) { auditLogs(filter: { resourceId: $id }, first: 200) { nodes { action resourceId resourceIds } } }', {
        as: admin,
        variables: { id: aliceItem },
      }),
    );
    expect(auditLogs.nodes.map((row: { action: string }) => row.action)).toContain('create_item');
    for (const row of auditLogs.nodes) expect([row.resourceId, ...row.resourceIds]).toContain(aliceItem);
    const created = auditLogs.nodes.find((row: { action: string }) => row.action === 'create_item');
    expect(dataOf(await server.graphql(NODE, { as: alice, variables: { id: created.resourceId } })).node.id).toBe(aliceItem);
  });

  it('refuses a raw id in the resourceId filter, recording the refusal', async () => {
    const response = await tracedRequest(server, '{ auditLogs(filter: { resourceId: "1" }) { totalCount } }', { as: admin });
    expectInvalidInput(response, { path: 'auditLogs', field: 'filter.resourceId', data: null });
    expect(await response.rows()).toEqual([expect.objectContaining({ action: 'view_audit_logs', outcome: 'denied' })]);
  });
});

describe('deleteItem', () => {
  it('answers the deleted item’s id', async () => {
    const { createItem } = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'gone' } } }));
    const { deleteItem } = dataOf(await server.graphql('mutation($id: ID!) { deleteItem(id: $id) { deletedItemId } }', { as: alice, variables: { id: createItem.id } }));
    expect(deleteItem).toEqual({ deletedItemId: createItem.id });
  });
});

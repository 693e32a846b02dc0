import { CREATE_ITEM, ITEM_QUERY, UPDATE_ITEM } from '../support/items';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

/*
 * Access transparency: `myDataAccess` shows every signed-in user the admins' reads and changes of
 * the records they own — with the fields, the reason and the admin (or only their role) — and
 * never another owner's records, even from a row that named several owners' records.
 */

const MY_DATA_ACCESS = `query($first: Int, $after: String) {
  myDataAccess(first: $first, after: $after) {
    nodes { action outcome resourceType records fields changes accessReason { code reference breakGlass } admin }
    pageInfo { hasNextPage endCursor }
  }
}`;

let server: TestServer;

async function createItem(owner: typeof alice, title: string): Promise<string> {
  return (await server.graphql(CREATE_ITEM, { as: owner, variables: { input: { title } } })).body.data.createItem.id;
}

const asAdmin = (query: string, variables: Record<string, unknown>, reason: string) =>
  server.graphql(query, { as: admin, variables, headers: { 'access-reason': reason } });

async function accessLogOf(owner: typeof alice, first = 20, after?: string) {
  const { body } = await server.graphql(MY_DATA_ACCESS, { as: owner, variables: { first, after } });
  expect(body.errors).toBeUndefined();
  return body.data.myDataAccess;
}

describe('myDataAccess', () => {
  let aliceItem: string;
  let bobItem: string;

  beforeAll(async () => {
    server = await startTestServer();
    aliceItem = await createItem(alice, 'alice private');
    bobItem = await createItem(bob, 'bob private');
  });
  afterAll(() => server.stop());

  it("shows an owner the admin's read of their item, with the fields and the reason, and the admin's role only", async () => {
    await asAdmin('query($id: ID!) { item(id: $id) { title description } }', { id: aliceItem }, 'support TICKET-7');
    const log = await accessLogOf(alice);
    expect(log.nodes[0]).toEqual({
      action: 'admin_view_item',
      outcome: 'SUCCESS',
      resourceType: 'item',
      records: [aliceItem],
      fields: ['title', 'description'],
      changes: null,
      accessReason: { code: 'support', reference: 'TICKET-7', breakGlass: false },
      admin: 'ADMIN',
    });
    expect(JSON.stringify(await accessLogOf(bob))).not.toContain(aliceItem);
  });

  it("shows each owner only their own records of a row that listed several owners' items", async () => {
    await asAdmin('{ items(first: 100) { nodes { id title } } }', {}, 'incident INC-3');
    const [aliceEntry] = (await accessLogOf(alice)).nodes;
    const [bobEntry] = (await accessLogOf(bob)).nodes;
    expect(aliceEntry).toMatchObject({ action: 'admin_view_item', accessReason: { code: 'incident', reference: 'INC-3' }, fields: ['id', 'title'] });
    expect(aliceEntry.records).toEqual([aliceItem]);
    expect(bobEntry.records).toEqual([bobItem]);
    // One trail row for both: it names both owners, and which records are whose.
    const [row] = await server.sql<{ owner_ids: string[]; details: any }[]>`
      select owner_ids, details from audit_logs where action = 'admin_view_item' and access_reason = 'incident'`;
    expect(row!.owner_ids.sort()).toEqual(['alice', 'bob']);
    expect(Object.keys(row!.details.recordsByOwner).sort()).toEqual(['alice', 'bob']);
  });

  it("shows an admin's change with what it changed", async () => {
    await asAdmin(UPDATE_ITEM, { id: aliceItem, input: { title: 'renamed by support' } }, 'support TICKET-8');
    const entries = (await accessLogOf(alice)).nodes;
    expect(entries[0]).toMatchObject({ action: 'admin_view_item', records: [aliceItem] }); // the read of the record it returned
    expect(entries[1]).toMatchObject({
      action: 'update_item',
      records: [aliceItem],
      fields: ['title'],
      changes: { title: { from: 'alice private', to: 'renamed by support' } },
      accessReason: { code: 'support', reference: 'TICKET-8' },
    });
  });

  it('leaves out what owners and admins did to their own records', async () => {
    await server.graphql(ITEM_QUERY, { as: alice, variables: { id: aliceItem } });
    const adminItem = await createItem(admin, 'admin own');
    await server.graphql(ITEM_QUERY, { as: admin, variables: { id: adminItem } });
    expect((await accessLogOf(alice)).nodes.map((entry: any) => entry.action)).toEqual(['admin_view_item', 'update_item', 'admin_view_item', 'admin_view_item']);
    expect((await accessLogOf(admin)).nodes).toEqual([]);
  });

  it('pages newest first by cursor', async () => {
    const first = await accessLogOf(alice, 1);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await accessLogOf(alice, 1, first.pageInfo.endCursor);
    expect(second.nodes[0].action).toBe('update_item');
  });

  it('records each reading of the log as a read of their own data, not a bypass', async () => {
    const response = await server.graphql(MY_DATA_ACCESS, { as: bob, variables: { first: 5 } });
    const rows = await server.sql`
      select action, outcome, owner_ids, admin_bypass, details from audit_logs where request_id = ${response.headers.get('x-request-id')}`;
    expect(rows).toEqual([
      {
        action: 'view_my_data_access',
        outcome: 'success',
        owner_ids: ['bob'],
        admin_bypass: false,
        details: { from: null, to: null, first: 5, after: null, count: 1, fields: ['Query.myDataAccess'] },
      },
    ]);
  });

  it('is for signed-in users only, and refuses a bad cursor with a row', async () => {
    const anonymous = await server.graphql(MY_DATA_ACCESS);
    expect(anonymous.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const bad = await server.graphql(MY_DATA_ACCESS, { as: alice, variables: { after: 'nonsense' } });
    expect(bad.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(await server.sql`select action, outcome, details->>'reason' as reason from audit_logs where request_id = ${bad.headers.get('x-request-id')}`).toEqual([
      { action: 'view_my_data_access', outcome: 'denied', reason: 'invalid_input' },
    ]);
  });
});

describe('myDataAccess with ACCESS_LOG_SHOWS_ADMIN=id', () => {
  beforeAll(async () => {
    server = await startTestServer({ ACCESS_LOG_SHOWS_ADMIN: 'id' });
  });
  afterAll(() => server.stop());

  it("names the admin's user id", async () => {
    const id = await createItem(alice, 'named');
    await asAdmin(ITEM_QUERY, { id }, 'legal');
    expect((await accessLogOf(alice)).nodes[0]).toMatchObject({ admin: 'root', accessReason: { code: 'legal', reference: null } });
  });
});

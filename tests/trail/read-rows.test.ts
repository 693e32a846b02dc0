import { tracedRequest } from '../support/audit-rows';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';
import { itemId, rawIdOf } from '../support/global-ids';

/*
 * An admin's reads are one row per request listing the records read (issue 8, item 1): "who
 * accessed item X?" must still find every read of X, whether X was read alone, among a page of
 * others, never, or many times.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

async function createItem(as: typeof alice, title: string): Promise<string> {
  const { body } = await server.graphql('mutation($t: String!) { createItem(input: {title: $t}) { id } }', { as, variables: { t: title } });
  return body.data.createItem.id;
}

/** The admin reads of `itemId`, as the README's "who accessed item X" query finds them. */
async function readsOf(itemId: string): Promise<{ userId: string; resourceId: string | null; resourceIds: string[] }[]> {
  const { body } = await server.graphql(
    `query($id: ID!) { auditLogs(filter: { resourceType: "item", resourceId: $id, action: "admin_view_item" }, first: 200) {
        nodes { userId resourceId resourceIds } totalCount } }`,
    { as: admin, variables: { id: itemId } },
  );
  expect(body.data.auditLogs.totalCount).toBe(body.data.auditLogs.nodes.length);
  return body.data.auditLogs.nodes;
}

it('finds every admin read of an item: never read, read alone, read among a page, read many times', async () => {
  const never = await createItem(alice, 'never read');
  const rare = await createItem(alice, 'read once');
  const hot = await createItem(bob, 'read often');

  const page = await tracedRequest(server, `{ items(first: 100) { nodes { id title } } }`, { as: admin });
  const [listing, ...more] = await page.rows();
  expect(more).toEqual([]);
  expect(listing).toMatchObject({ action: 'admin_view_item', resource_id: null });
  expect(listing!.resource_ids).toEqual(expect.arrayContaining([never, rare, hot].map(rawIdOf)));
  expect([...listing!.owner_ids].sort()).toEqual(['alice', 'bob']);

  for (let n = 0; n < 5; n++) await server.graphql(`{ item(id: "${hot}") { title } }`, { as: admin });

  expect(await readsOf(never)).toEqual([{ userId: 'root', resourceId: null, resourceIds: expect.arrayContaining([never]) }]);
  expect(await readsOf(rare)).toHaveLength(1);
  const hotReads = await readsOf(hot);
  expect(hotReads).toHaveLength(6);
  expect(hotReads.filter((read) => read.resourceId === hot)).toHaveLength(5);
  expect(await readsOf(itemId(999999999))).toEqual([]);
});

import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { dataOf } from '../support/errors';
import { CREATE_ITEM } from '../support/items';
import { alice, startTestServer, type TestServer } from '../support/test-server';

/*
 * Apollo Client 4 as an app would use it, over HTTP against the real server: items paged into one
 * cached list with `relayStylePagination`, an update normalized into that list by the item's
 * global id, and a deletion evicted with the id `deleteItem` answers, after which the cached list
 * no longer shows the item.
 */

const ITEMS = gql`
  query Items($first: Int, $after: String) {
    items(first: $first, after: $after) {
      edges { cursor node { id title } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;
const RENAME = gql`
  mutation Rename($id: ID!, $title: String!) { updateItem(id: $id, input: { title: $title }) { id title } }
`;
const DELETE = gql`
  mutation Delete($id: ID!) { deleteItem(id: $id) { deletedItemId } }
`;

interface ItemsData {
  items: { edges: { cursor: string; node: { id: string; title: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

let server: TestServer;
let client: ApolloClient;
let created: string[];

beforeAll(async () => {
  server = await startTestServer();
  created = [];
  for (let n = 0; n < 5; n++) {
    created.push(dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: `item ${n}` } } })).createItem.id);
  }
  client = new ApolloClient({
    link: new HttpLink({ uri: `${server.url}/graphql`, headers: { authorization: `Bearer ${await server.token(alice)}` } }),
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { items: relayStylePagination(['ownerId']) } } } }),
  });
});
afterAll(async () => {
  client.stop();
  await server.stop();
});

/** The cached list, as every page fetched so far made it. */
const cachedTitles = () =>
  client.readQuery<ItemsData>({ query: ITEMS, variables: { first: 2 } })!.items.edges.map((edge) => edge.node.title);

it('pages into one cached list, normalizes an update into it, and evicts a deleted item from it', async () => {
  // Each page goes to the server (a cache-first query would answer from the merged list) and is
  // merged into one list; the answer is that list, whose pageInfo continues after its last edge.
  let after: string | null = null;
  const seen: string[] = [];
  for (let pages = 1; pages <= 3; pages++) {
    const answer = await client.query<ItemsData>({ query: ITEMS, variables: { first: 2, after }, fetchPolicy: 'network-only' });
    const pageInfo: ItemsData['items']['pageInfo'] = answer.data!.items.pageInfo;
    seen.push(pageInfo.endCursor!);
    after = pageInfo.endCursor;
    expect(pageInfo.hasNextPage).toBe(pages < 3);
  }
  expect(new Set(seen).size).toBe(3);
  expect(cachedTitles()).toEqual(['item 0', 'item 1', 'item 2', 'item 3', 'item 4']);

  await client.mutate({ mutation: RENAME, variables: { id: created[1], title: 'renamed' } });
  expect(cachedTitles()).toEqual(['item 0', 'renamed', 'item 2', 'item 3', 'item 4']);

  const { data } = await client.mutate<{ deleteItem: { deletedItemId: string } }>({
    mutation: DELETE,
    variables: { id: created[2] },
    update(cache, { data: deleted }) {
      cache.evict({ id: cache.identify({ __typename: 'Item', id: deleted!.deleteItem.deletedItemId }) });
      cache.gc();
    },
  });
  expect(data!.deleteItem.deletedItemId).toBe(created[2]);
  expect(cachedTitles()).toEqual(['item 0', 'renamed', 'item 3', 'item 4']);
  // The server agrees: the item is gone.
  expect(dataOf(await server.graphql('query($id: ID!) { item(id: $id) { id } }', { as: alice, variables: { id: created[2] } }))).toEqual({ item: null });
});

import { cacheExchange, Client, fetchExchange, gql } from '@urql/core';
import { alice, startTestServer, type TestServer } from '../support/test-server';

/*
 * urql's default client, as its docs set it up: queries go by GET (`preferGetMethod`), mutations by
 * POST, the bearer token in `fetchOptions`. Nothing urql-specific is configured on the server.
 */

let server: TestServer;
let client: Client;
const requests: { method: string }[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const token = await server.token(alice);
  client = new Client({
    url: `${server.url}/graphql`,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
    fetch: (input, init) => {
      requests.push({ method: init?.method ?? 'GET' });
      return fetch(input, init);
    },
  });
});
afterAll(() => server?.stop());

it('queries by GET and changes by POST, answered like any client', async () => {
  const created = await client.mutation(gql`mutation { createItem(input: { title: "from urql" }) { id title } }`, {}).toPromise();
  expect(created.error).toBeUndefined();
  const listed = await client.query(gql`query Mine { items(first: 5) { nodes { title } } me { userId } }`, {}).toPromise();
  expect(listed.error).toBeUndefined();
  expect(listed.data).toEqual({ items: { nodes: [{ title: 'from urql', __typename: 'Item' }], __typename: 'ItemConnection' }, me: { userId: 'alice', __typename: 'Viewer' } });
  expect(requests.map((request) => request.method)).toEqual(['POST', 'GET']);
});

it('is refused without its token when a query by GET bears nothing that makes a browser preflight', async () => {
  const anonymous = new Client({ url: `${server.url}/graphql`, exchanges: [fetchExchange] });
  const answer = await anonymous.query(gql`{ __typename }`, {}).toPromise();
  expect(answer.error?.response?.status).toBe(400);
});

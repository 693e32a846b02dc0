import { alice, startTestServer, type TestServer } from './support/test-server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

it('creates and reads an item', async () => {
  const created = await server.graphql('mutation { createItem(input: {title: "a"}) { id title ownerId } }', { as: alice });
  expect(created.body).toEqual({ data: { createItem: { id: expect.any(String), title: 'a', ownerId: 'alice' } } });
});

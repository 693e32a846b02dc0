import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CREATE_ITEM, ITEM_QUERY } from '../support/items';
import { admin, alice, bob, startTestServer, type TestServer } from '../support/test-server';

/*
 * Owners are told as it happens: `myDataAccessed` over graphql-ws delivers each admin access to the
 * subscriber's records as `myDataAccess` shows it, through the same sealed stream, checks and
 * recording as the trail's own feed, resumable from a cursor without a gap or a repeat.
 */

jest.setTimeout(60_000);

const FEED = `subscription Mine($after: String) {
  myDataAccessed(after: $after) { cursor node { action records fields accessReason { code reference } admin } }
}`;

interface Delivered {
  cursor: string;
  node: { action: string; records: string[]; fields: string[]; accessReason: { code: string; reference: string | null } | null; admin: string };
}

// On PostgreSQL only: embedded test servers seal hourly, so there is no sealed stream to follow there.
const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('myDataAccessed', () => {
  let server: TestServer;
  const clients: Client[] = [];

  const subscribe = async (owner: typeof alice, after?: string) => {
    const client = createClient({
      url: `${server.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${await server.token(owner)}` },
      retryAttempts: 0,
    });
    clients.push(client);
    const received: Delivered[] = [];
    const errors: unknown[] = [];
    const unsubscribe = client.subscribe<{ myDataAccessed: Delivered }>(
      { query: FEED, variables: { after } },
      { next: (result) => (result.errors ? errors.push(...result.errors) : received.push(result.data!.myDataAccessed)), error: (error) => errors.push(error), complete: () => {} },
    );
    return { received, errors, unsubscribe };
  };

  const feedRows = (owner: string) =>
    server.sql<{ feed: string }[]>`
      select details->>'feed' as feed from audit_logs
      where action = 'view_my_data_access' and owner_ids = array[${owner}] and not admin_bypass and details ? 'feed' order by id`;

  async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const createItem = async (owner: typeof alice, title: string): Promise<string> =>
    (await server.graphql(CREATE_ITEM, { as: owner, variables: { input: { title } } })).body.data.createItem.id;
  const adminReads = (id: string, reason: string) => server.graphql(ITEM_QUERY, { as: admin, variables: { id }, headers: { 'access-reason': reason } });

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await server.stop();
  });

  it("delivers an admin's access to the owner within seconds, and nothing of it to another owner", async () => {
    const [aliceItem, bobItem] = [await createItem(alice, 'a'), await createItem(bob, 'b')];
    const aliceFeed = await subscribe(alice);
    const bobFeed = await subscribe(bob);
    await until(async () => (await feedRows('alice')).length === 1 && (await feedRows('bob')).length === 1, 'both feeds to start');

    await adminReads(aliceItem, 'support T-1');
    await until(() => aliceFeed.received.length === 1, "alice's entry");
    expect(aliceFeed.received[0]!.node).toEqual({
      action: 'admin_view_item',
      records: [aliceItem],
      fields: ['id', 'title', 'description', 'ownerId', 'createdAt', 'updatedAt'],
      accessReason: { code: 'support', reference: 'T-1' },
      admin: 'ADMIN',
    });
    await adminReads(bobItem, 'incident I-1');
    await until(() => bobFeed.received.length === 1, "bob's entry");
    expect(bobFeed.received[0]!.node.records).toEqual([bobItem]);
    expect(aliceFeed.received).toHaveLength(1);
    expect([aliceFeed.errors, bobFeed.errors]).toEqual([[], []]);

    // The same entries the query shows, with cursors the query's own pages take.
    const { body } = await server.graphql('{ myDataAccess(first: 1) { edges { cursor node { records } } } }', { as: alice });
    expect(body.data.myDataAccess.edges[0]).toEqual({ cursor: aliceFeed.received[0]!.cursor, node: { records: [aliceItem] } });
  });

  it('resumes after the last cursor received without a gap or a repeat, and records its start and end as reads of their own data', async () => {
    const item = await createItem(alice, 'resumed');
    const first = await subscribe(alice);
    await until(async () => (await feedRows('alice')).filter((row) => row.feed === 'started').length === 2, 'the feed to start');
    await adminReads(item, 'support R-1');
    await until(() => first.received.length === 1, 'the first entry');
    first.unsubscribe();
    await until(async () => (await feedRows('alice')).some((row) => row.feed === 'ended'), 'the feed to end');

    await adminReads(item, 'support R-2');
    await adminReads(item, 'support R-3');
    const resumed = await subscribe(alice, first.received[0]!.cursor);
    await until(() => resumed.received.length >= 2, 'the entries missed');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a repeat would arrive with the next seal
    expect(resumed.received.map((entry) => entry.node.accessReason?.reference)).toEqual(['R-2', 'R-3']);
  });

  it('refuses anonymous subscribers and bad cursors', async () => {
    const anonymous = createClient({ url: `${server.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(anonymous);
    const errors: any[] = [];
    await new Promise<void>((resolve) => {
      anonymous.subscribe({ query: FEED }, { next: (result) => errors.push(...(result.errors ?? [])), error: (error) => (errors.push(error), resolve()), complete: resolve });
    });
    expect(JSON.stringify(errors)).toContain('UNAUTHENTICATED');
    const bad = await subscribe(alice, 'not-a-cursor');
    await until(() => bad.errors.length > 0, 'the refusal');
    expect(JSON.stringify(bad.errors)).toContain('BAD_USER_INPUT');
  });
});

import { createClient, type Client } from 'graphql-ws';
import postgres from 'postgres';
import WebSocket from 'ws';
import { signToken } from '../../src/auth/token-signer';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { rawIdOf } from '../support/global-ids';
import { postGraphQL } from '../support/graphql-http';
import { killAll, startApi, type RunningApi } from '../support/node-process';
import { admin, alice, startTestServer, TEST_JWT_SECRET, testServerEnv, type TestServer } from '../support/test-server';

/*
 * subscription auditLogAdded over graphql-ws on /graphql: rows in seal order, each once,
 * resumable from a cursor, fed by the database's seal chain whichever process sealed them.
 */
jest.setTimeout(60_000);

const FEED = 'subscription Feed($filter: AuditLogFilter, $after: String) { auditLogAdded(filter: $filter, after: $after) { cursor node { id action resourceId seal } } }';

interface Delivered {
  cursor: string;
  node: { id: string; action: string; resourceId: string | null; seal: number | null };
}

/** A graphql-ws client of `httpUrl` (http://…/graphql) presenting `token`, as Apollo Sandbox does. */
function feedClient(httpUrl: string, token?: string): Client {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
  });
}

/** Subscribes and collects what arrives; `errors` gets a refusal. */
function subscribe(client: Client, variables: Record<string, unknown> = {}) {
  const received: Delivered[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const unsubscribe = client.subscribe<{ auditLogAdded: Delivered }>(
    { query: FEED, variables },
    {
      next: (result) => (result.errors ? errors.push(...result.errors) : received.push(result.data!.auditLogAdded)),
      error: (error) => errors.push(error),
      complete: () => (completed = true),
    },
  );
  return { received, errors, unsubscribe, done: () => completed };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The sealed `update_item` rows, in seal order, as the feed must deliver them. */
const sealedUpdates = (sql: postgres.Sql) =>
  sql<{ id: string }[]>`
    select a.id::text from audit_logs a join audit_row_hashes h on h.id = a.id
    where a.action = 'update_item' order by h.seal, h.id`;

// On PostgreSQL only: the embedded database serves every connection with one backend, and its test
// servers seal hourly (docs/integrity.md), so there is no sealed stream to follow there.
const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('the live feed on one server', () => {
  let server: TestServer;
  let clients: Client[] = [];
  const client = (token?: string) => {
    const made = feedClient(`${server.url}/graphql`, token);
    clients.push(made);
    return made;
  };
  beforeAll(async () => {
    server = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '100' });
  });
  afterEach(async () => {
    await Promise.all(clients.map((made) => made.dispose()));
    clients = [];
  });
  afterAll(() => server?.stop());

  const updateItem = async (id: string, title: string) => {
    const response = await server.graphql('mutation($id: ID!, $title: String!) { updateItem(id: $id, input: { title: $title }) { id } }', {
      as: alice,
      variables: { id, title },
    });
    expect(response.body.errors).toBeUndefined();
  };

  it('delivers new rows to an admin in seal order, and records the start and the end of the feed', async () => {
    const created = await server.graphql('mutation { createItem(input: { title: "watched" }) { id } }', { as: alice });
    const itemId = created.body.data.createItem.id as string;
    await updateItem(itemId, 'before the feed');
    await until(async () => (await sealedUpdates(server.sql)).length === 1, 'the earlier update sealed');
    const feed = subscribe(client(await server.token(admin)), { filter: { action: 'update_item' } });
    // Live from now: it starts after what was sealed when it started (its start row says it has).
    await until(async () => (await server.sql`select 1 from audit_logs where details->>'feed' = 'started'`).length === 1, 'the feed to start');
    for (let n = 0; n < 5; n++) await updateItem(itemId, `title ${n}`);
    await until(() => feed.received.length >= 5, '5 rows');
    expect(feed.errors).toEqual([]);
    expect(feed.received.map((entry) => rawIdOf(entry.node.id))).toEqual((await sealedUpdates(server.sql)).slice(1).map((row) => row.id));
    expect(feed.received.every((entry) => entry.node.action === 'update_item' && entry.node.resourceId === itemId && entry.node.seal !== null)).toBe(true);

    feed.unsubscribe();
    await until(async () => (await server.sql`select 1 from audit_logs where details->>'feed' = 'ended'`).length === 1, 'the end row');
    // Each batch that carried alice's item was recorded as a read of it, before it was sent.
    const deliveries = await server.sql`
      select user_id, resource_type, resource_ids, owner_ids, admin_bypass, details->>'rows' as rows from audit_logs where details->>'feed' = 'delivered'`;
    expect(deliveries.reduce((sum, row) => sum + Number(row.rows), 0)).toBe(5);
    for (const row of deliveries) {
      expect(row).toEqual({ user_id: 'root', resource_type: 'item', resource_ids: [rawIdOf(itemId)], owner_ids: ['alice'], admin_bypass: true, rows: expect.any(String) });
    }
    const rows = await server.sql`
      select user_id, action, outcome, admin_bypass, details from audit_logs where details->>'feed' in ('started', 'ended') order by id`;
    expect(rows).toEqual([
      { user_id: 'root', action: 'view_audit_logs', outcome: 'success', admin_bypass: true, details: expect.objectContaining({ feed: 'started', filter: { action: 'update_item' }, after: null }) },
      { user_id: 'root', action: 'view_audit_logs', outcome: 'success', admin_bypass: true, details: expect.objectContaining({ feed: 'ended', rowsDelivered: 5 }) },
    ]);
  });

  it('refuses a user, recording the refusal', async () => {
    const feed = subscribe(client(await server.token(alice)));
    await until(() => feed.errors.length > 0, 'the refusal');
    expect(feed.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    expect(await server.sql`select outcome, details from audit_logs where action = 'view_audit_logs' and user_id = 'alice'`).toEqual([
      { outcome: 'denied', details: expect.objectContaining({ filter: null, after: null }) },
    ]);
  });

  it('closes the connection for a refused token (4403) and records a failed logon', async () => {
    const closed = new Promise<number>((resolve) => {
      const made = createClient({
        url: `${server.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: 'Bearer not-a-token' },
        retryAttempts: 0,
        lazy: false,
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      clients.push(made);
    });
    expect(await closed).toBe(4403);
    await until(async () => (await server.sql`select 1 from audit_logs where action = 'authenticate' and details->>'reason' = 'malformed'`).length === 1, 'the logon row');
  });

  it('serves only subscriptions over WebSocket, and subscriptions only over WebSocket', async () => {
    const feed = client(await server.token(admin));
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => feed.subscribe({ query: '{ me { id } }' }, { next: () => {}, error: (error) => (errors.push(error), resolve()), complete: resolve }));
    expect(JSON.stringify(errors)).toContain('Not a query over WebSocket: queries and mutations are served over HTTP on /graphql.');

    const overHttp = await server.graphql(FEED, { as: admin });
    expect(overHttp.status).toBe(400);
    expect(overHttp.body.errors![0]!.message).toBe('Not a subscription over HTTP: subscriptions are served over graphql-ws (WebSocket) on /graphql.');
  });
});

describeOnPostgres('the live feed across two server processes', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;
  let a: RunningApi;
  let b: RunningApi;
  beforeAll(async () => {
    // Migrated already: the two start side by side without migrating, which
    // tests/process/replicas.test.ts covers.
    database = await createTestDatabase({ migrated: true });
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
    const env = { ...testServerEnv(database), DATABASE_POOL_MAX: '5', AUDIT_SEAL_INTERVAL_MS: '200' };
    [a, b] = await Promise.all([startApi(env), startApi(env)]);
  });
  afterAll(async () => {
    killAll();
    await sql?.end();
    await database?.drop();
  });

  it('delivers on one process the rows written on the other, and resumes after a drop without a gap or a repeat', async () => {
    const ownerToken = await signToken(TEST_JWT_SECRET, { sub: 'alice' });
    const adminToken = await signToken(TEST_JWT_SECRET, { sub: 'root', role: 'admin' });
    const created = await postGraphQL(a.url, { query: 'mutation { createItem(input: { title: "t" }) { id } }' }, { authorization: `Bearer ${ownerToken}` });
    const itemId = created.body.data.createItem.id as string;
    let written = 0;
    const writing = { on: true };
    const writer = (async () => {
      while (writing.on) {
        const response = await postGraphQL(
          a.url,
          { query: 'mutation($id: ID!, $t: String!) { updateItem(id: $id, input: { title: $t }) { id } }', variables: { id: itemId, t: `t${written}` } },
          { authorization: `Bearer ${ownerToken}` },
        );
        if (!response.body.errors) written++;
      }
    })();

    const filter = { action: 'update_item' };
    const first = feedClient(b.url, adminToken);
    const before = subscribe(first, { filter });
    await until(() => before.received.length >= 10, '10 rows on B');
    // The client stops listening at once (later messages are dropped), then closes its socket.
    before.unsubscribe();
    await first.dispose();
    const resumeAfter = before.received.at(-1)!.cursor;
    // Rows go on being written and sealed while no one listens.
    await until(() => written >= before.received.length + 20, '20 more writes');
    const second = feedClient(b.url, adminToken);
    const after = subscribe(second, { filter, after: resumeAfter });
    writing.on = false;
    await writer;
    const expected = async () => (await sealedUpdates(sql)).map((row) => row.id);
    await until(async () => (await sql`select count(*)::int as n from audit_logs a left join audit_row_hashes h using (id) where h.id is null`)[0]!.n === 0, 'every row sealed');
    await until(async () => {
      const sealed = await expected();
      const first = before.received[0] ? rawIdOf(before.received[0].node.id) : undefined;
      return first !== undefined && before.received.length + after.received.length >= sealed.length - sealed.indexOf(first);
    }, 'every sealed row delivered');
    await second.dispose();

    const delivered = [...before.received, ...after.received].map((entry) => rawIdOf(entry.node.id));
    // Live from when it started: every sealed update from the first it delivered on, each once.
    const sealed = await expected();
    expect(delivered).toEqual(sealed.slice(sealed.indexOf(delivered[0]!)));
    expect(new Set(delivered).size).toBe(delivered.length);
  });
});

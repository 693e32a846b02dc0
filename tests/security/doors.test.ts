import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { signToken } from '../../src/auth/token-signer';
import { postGraphQL } from '../support/graphql-http';
import { SocketClient } from '../support/socket-client';
import { admin, alice, startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/test-server';

/*
 * Every door goes through one request pipeline: the WebSocket feed refuses what POST /graphql
 * refuses, with the same codes and the same rows, and has bounds of its own (message size, time to
 * connection_init, subscriptions per connection and per process, token expiry).
 */
jest.setTimeout(60_000);

// On PostgreSQL only: the embedded database's test servers seal hourly, so no feed delivers there.
const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

/** Ten fragments each spreading the one before twice: 2,048 selections from a few hundred bytes. */
const FRAGMENT_BOMB = Array.from({ length: 10 }, (_, n) => `fragment F${n + 1} on AuditLog { ...F${n} ...F${n} }`).join(' ') + ' fragment F0 on AuditLog { id action }';

/** An admin's operation over the trail: what it selects of each row, its arguments, and any fragments or variables. */
interface Operation {
  readonly selection: string;
  readonly args?: string;
  readonly fragments?: string;
  readonly filter?: Record<string, unknown>;
}

/** One way in: how an {@link Operation} is written and sent through it. */
interface DoorUnderTest {
  readonly name: string;
  send(server: TestServer, token: string, operation: Operation): Promise<{ code: string | undefined }>;
}

/** `$filter` is declared when the operation passes one as a variable (JSON carries what GraphQL literals cannot: a lone surrogate). */
const variablesOf = (operation: Operation) => (operation.filter ? '($filter: AuditLogFilter)' : '');
const argsOf = (operation: Operation) => (operation.filter ? '(filter: $filter)' : (operation.args ?? ''));

const DOORS: readonly DoorUnderTest[] = [
  {
    name: 'POST /graphql',
    async send(server, token, operation) {
      const query = `query${variablesOf(operation)} { auditLogs${argsOf(operation)} { nodes { ${operation.selection} } } } ${operation.fragments ?? ''}`;
      const { body } = await postGraphQL(`${server.url}/graphql`, { query, variables: { filter: operation.filter } }, { authorization: `Bearer ${token}` });
      return { code: body.errors?.[0]?.extensions?.code };
    },
  },
  {
    name: 'graphql-ws subscribe',
    async send(server, token, operation) {
      const socket = await SocketClient.open(server.url, { authorization: `Bearer ${token}` });
      try {
        await socket.acknowledged();
        const query = `subscription${variablesOf(operation)} { auditLogAdded${argsOf(operation)} { node { ${operation.selection} } } } ${operation.fragments ?? ''}`;
        socket.subscribe('1', query, { filter: operation.filter });
        await socket.until(() => socket.answers('1').some((message) => message.type === 'error' || message.type === 'next'), 'an answer');
        const answer = socket.answers('1')[0]!;
        const errors = answer.type === 'error' ? answer.payload : answer.payload.errors;
        return { code: errors?.[0]?.extensions?.code };
      } finally {
        socket.close();
      }
    },
  },
];

/** What each attack must meet at every door: the error code, and the one row it leaves. */
const ATTACKS = [
  { name: 'a document over the token limit', selection: 'id '.repeat(2_100), code: 'QUERY_TOO_COMPLEX', row: { action: 'query_refused', details: { limit: 'maxTokens' } } },
  { name: 'a fragment bomb', selection: '...F10', fragments: FRAGMENT_BOMB, code: 'QUERY_TOO_COMPLEX', row: { action: 'query_refused', details: { limit: 'maxRecursiveSelections' } } },
  { name: 'an alias flood', selection: Array.from({ length: 31 }, (_, n) => `a${n}: id`).join(' '), code: 'QUERY_TOO_COMPLEX', row: { action: 'query_refused', details: { limit: 'maxAliases' } } },
  { name: 'NUL in an argument', selection: 'id', args: '(filter: { requestId: "a\\u0000b" })', code: 'BAD_USER_INPUT', row: { action: 'invalid_argument', details: { argument: 'filter.requestId' } } },
  { name: 'a lone surrogate in a variable', selection: 'id', filter: { ip: 'x\ud800' }, code: 'BAD_USER_INPUT', row: { action: 'invalid_argument', details: { argument: 'filter.ip' } } },
  { name: 'year 0000 in a date', selection: 'id', filter: { from: '0000-01-01T00:00:00Z' }, code: 'BAD_USER_INPUT', row: { action: 'invalid_argument', details: { argument: 'filter.from' } } },
] as const satisfies readonly (Operation & { name: string; code: string; row: object })[];

describeOnPostgres('every door refuses the same attacks the same way', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '100' });
    token = await server.token(admin);
  });
  afterAll(() => server?.stop());

  const lastId = async () => (await server.sql<{ id: string }[]>`select coalesce(max(id), 0)::text as id from audit_logs`)[0]!.id;

  describe.each(DOORS)('$name', (door) => {
    it.each(ATTACKS)('refuses $name with $code and one row', async (attack) => {
      const before = await lastId();
      const answer = await door.send(server, token, attack);
      expect(answer.code).toBe(attack.code);
      // Written before the answer left.
      const rows = await server.sql`select user_id, action, outcome, details from audit_logs where id > ${before} and action = ${attack.row.action}`;
      expect(rows).toEqual([{ user_id: 'root', action: attack.row.action, outcome: 'denied', details: expect.objectContaining(attack.row.details) }]);
    });
  });
});

/** Waits until `condition` holds, looking every 20 ms; fails after 15 s. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeOnPostgres('the WebSocket door', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      AUDIT_SEAL_INTERVAL_MS: '100',
      JWT_CLOCK_TOLERANCE: '0',
      WS_CONNECTION_INIT_TIMEOUT_MS: '500',
      WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
      WS_MAX_SUBSCRIPTIONS: '5',
      RATE_LIMIT_WINDOW: '1s',
    });
  });
  afterAll(() => server?.stop());

  const FEED = 'subscription { auditLogAdded { cursor node { id action resourceId } } }';
  const rowsOf = (action: string, reason: string) =>
    server.sql`select user_id, outcome, details from audit_logs where action = ${action} and details->>'reason' = ${reason}`;

  it('refuses a non-string authorization as a malformed token (4403, one failed logon), never as anonymous', async () => {
    const socket = await SocketClient.open(server.url, { authorization: { token: 'x' } });
    expect((await socket.closed).code).toBe(4403);
    expect(await rowsOf('authenticate', 'malformed')).toEqual([{ user_id: null, outcome: 'denied', details: { reason: 'malformed' } }]);
  });

  it('closes a connection that does not say connection_init in time (4408)', async () => {
    const socket = await SocketClient.open(server.url);
    expect((await socket.closed).code).toBe(4408);
  });

  it('ends the feed when the token expires, and records it', async () => {
    const token = await signToken(TEST_JWT_SECRET, { sub: 'expiring-admin', role: 'admin', expiresIn: '3s' });
    const socket = await SocketClient.open(server.url, { authorization: `Bearer ${token}` });
    await socket.acknowledged();
    socket.subscribe('1', FEED);
    await until(async () => (await server.sql`select 1 from audit_logs where user_id = 'expiring-admin' and details->>'feed' = 'started'`).length === 1, 'the feed to start');
    expect((await socket.closed).code).toBe(4403);
    expect(await rowsOf('authenticate', 'expired')).toEqual([{ user_id: 'expiring-admin', outcome: 'denied', details: { reason: 'expired' } }]);
    await until(async () => (await server.sql`select 1 from audit_logs where user_id = 'expiring-admin' and details->>'feed' = 'ended'`).length === 1, 'the end of the feed');
  });

  it('refuses subscriptions past the per-connection and per-process caps, each summed into a row', async () => {
    const token = await server.token({ sub: 'busy-admin', role: 'admin' });
    const first = await SocketClient.open(server.url, { authorization: `Bearer ${token}` });
    const second = await SocketClient.open(server.url, { authorization: `Bearer ${token}` });
    await Promise.all([first.acknowledged(), second.acknowledged()]);
    // Subscriptions are checked concurrently, so which of them is refused is not fixed: how many is.
    const refusals = (socket: SocketClient) => socket.messages.filter((message) => message.type === 'error');
    for (const id of ['1', '2', '3', '4']) first.subscribe(id, FEED);
    await first.until(() => refusals(first).length > 0, 'a refusal');
    expect(refusals(first)).toEqual([expect.objectContaining({ payload: [expect.objectContaining({ extensions: { code: 'RATE_LIMITED', retryAfter: 1 } })] })]);
    for (const id of ['1', '2', '3']) second.subscribe(id, FEED);
    await second.until(() => refusals(second).length > 0, 'a refusal');
    expect(refusals(second)).toEqual([expect.objectContaining({ payload: [expect.objectContaining({ extensions: { code: 'RATE_LIMITED', retryAfter: 5 } })] })]);
    await until(async () => (await rowsOf('request_limited', 'subscriptions_per_process')).length === 1, 'the per-process row');
    expect(await rowsOf('request_limited', 'subscriptions_per_connection')).toEqual([
      { user_id: 'busy-admin', outcome: 'denied', details: { reason: 'subscriptions_per_connection', refused: 1, windowSeconds: 1, doors: ['websocket'] } },
    ]);
    first.close();
    second.close();
  });

  it('names in the trail every record whose data a feed delivered, before delivering it', async () => {
    const socket = await SocketClient.open(server.url, { authorization: `Bearer ${await server.token({ sub: 'watcher', role: 'admin' })}` });
    await socket.acknowledged();
    socket.subscribe('1', FEED);
    await until(async () => (await server.sql`select 1 from audit_logs where user_id = 'watcher' and details->>'feed' = 'started'`).length === 1, 'the feed to start');
    const created = await server.graphql('mutation { createItem(input: { title: "seen live" }) { id } }', { as: alice });
    const itemId = created.body.data.createItem.id as string;
    await socket.until((messages) => messages.some((message) => message.payload?.data?.auditLogAdded?.node.resourceId === itemId), 'the create_item row');
    socket.close();

    // Other tests' feeds on this server may have delivered it too: this one's reader is the subject.
    const readers = await server.graphql('query($id: ID!) { auditLogs(filter: { resourceId: $id, action: "view_audit_logs", userId: "watcher" }) { nodes { userId adminBypass details } } }', {
      as: admin,
      variables: { id: itemId },
    });
    expect(readers.body.data.auditLogs.nodes).toEqual([
      expect.objectContaining({ userId: 'watcher', adminBypass: true, details: expect.objectContaining({ feed: 'delivered' }) }),
    ]);
  });
});

describeOnPostgres('the WebSocket door with JWKS_URL', () => {
  let keys: object[] = [];
  let jwks: http.Server;
  let server: TestServer;
  beforeAll(async () => {
    jwks = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    server = await startTestServer({ JWT_SECRET: '', JWKS_URL: url, JWKS_CACHE_MAX_AGE: '1s', WS_TOKEN_RECHECK_INTERVAL: '1s', AUDIT_SEAL_INTERVAL_MS: '100' });
  });
  afterAll(async () => {
    await server?.stop();
    jwks?.closeAllConnections();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  it('ends the feed when the identity provider withdraws the key that signed its token, and records it', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    keys = [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }];
    const token = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('jwks-admin').setIssuedAt().setExpirationTime('1h').sign(privateKey);
    const socket = await SocketClient.open(server.url, { authorization: `Bearer ${token}` });
    await socket.acknowledged();
    socket.subscribe('1', 'subscription { auditLogAdded { cursor } }');
    // Connected and subscribed (the token verified again) while the key was published.
    await until(async () => (await server.sql`select 1 from audit_logs where user_id = 'jwks-admin' and details->>'feed' = 'started'`).length === 1, 'the feed to start');
    keys = [];
    expect((await socket.closed).code).toBe(4403);
    expect(await server.sql`select user_id, outcome, details from audit_logs where action = 'authenticate'`).toEqual([
      { user_id: 'jwks-admin', outcome: 'denied', details: { reason: 'bad_signature' } },
    ]);
  });
});

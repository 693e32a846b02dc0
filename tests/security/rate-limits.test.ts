import { readFileSync } from 'node:fs';
import { postGraphQL } from '../support/graphql-http';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { killAll, spawnNode, startApi, type RunningApi } from '../support/node-process';
import { SocketClient } from '../support/socket-client';
import { DEFAULT_RATE_LIMITS } from '../../src/config/door-limits';
import { alice, bob, startTestServer, TEST_AUDIT_SIGNING_KEY, TEST_JWT_SECRET, type TestServer } from '../support/test-server';

/*
 * Floods do not grow the trail or starve other callers: each caller (token subject, else client
 * address) and the process are limited on every door, and refusals are summed into one row per
 * caller, limit and window.
 */
jest.setTimeout(90_000);

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

const rowCount = async (sql: TestServer['sql']) => (await sql<{ n: number }[]>`select count(*)::int as n from audit_logs`)[0]!.n;
const limitedRows = (sql: TestServer['sql'], reason: string) =>
  sql<{ user_id: string | null; ip: string | null; details: { refused: number; doors: string[] } }[]>`
    select user_id, ip, details from audit_logs where action = 'request_limited' and details->>'reason' = ${reason}`;

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The default limits' rates in a window of {@link FLOOD_WINDOW_SECONDS} rather than the default's
 * 10 s: the same requests per second, with summary rows written five times as often, so the flood
 * and the wait for its last summary are that much shorter.
 */
const FLOOD_WINDOW_SECONDS = 2;
const atDefaultRate = (perDefaultWindow: number) => String((perDefaultWindow * FLOOD_WINDOW_SECONDS) / DEFAULT_RATE_LIMITS.windowSeconds);
/** Under two windows, so the flood's refusals fall in at most three (each summed into one row). */
const FLOOD_MS = 3_500;

describeOnPostgres('an anonymous flood over HTTP, at the default limits\' rates', () => {
  let server: TestServer;
  beforeAll(async () => {
    // The test servers' generous limits off: the rates a deployment gets by default.
    server = await startTestServer({
      RATE_LIMIT_WINDOW: `${FLOOD_WINDOW_SECONDS}s`,
      RATE_LIMIT_PER_CALLER: atDefaultRate(DEFAULT_RATE_LIMITS.perCaller),
      RATE_LIMIT_ANONYMOUS: atDefaultRate(DEFAULT_RATE_LIMITS.perAnonymousAddress),
      RATE_LIMIT_PER_PROCESS: atDefaultRate(DEFAULT_RATE_LIMITS.perProcess),
    });
  });
  afterAll(() => server?.stop());

  it('adds under a hundred rows in a 3.5 s flood, answers 429 with Retry-After, and serves another caller meanwhile', async () => {
    const before = await rowCount(server.sql);
    const statuses = new Map<number, number>();
    let limited: { retryAfter: string | null; code: unknown } | undefined;
    const deadline = Date.now() + FLOOD_MS;
    const flooder = async () => {
      while (Date.now() < deadline) {
        const response = await postGraphQL(`${server.url}/graphql`, { query: '{ items { totalCount } }' });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 429) limited ??= { retryAfter: response.headers.get('retry-after'), code: response.body.errors?.[0]?.extensions?.code };
      }
    };
    const served: number[] = [];
    const other = async () => {
      while (Date.now() < deadline) {
        const response = await server.graphql('{ me { userId } }', { as: alice });
        served.push(response.body.data?.me?.userId === 'alice' ? 1 : 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await Promise.all([...Array.from({ length: 8 }, flooder), other()]);

    // Twice the rows the trail may gain: were each refusal a row, the bound below would fail. (How
    // many more a flood of fixed length sends depends on the machine: 476 on a slow CI run.)
    const refused = statuses.get(429) ?? 0;
    expect(refused).toBeGreaterThan(200);
    expect(limited).toEqual({ retryAfter: expect.stringMatching(/^[1-9][0-9]*$/), code: 'RATE_LIMITED' });
    expect(served.length).toBeGreaterThan(15);
    expect(served.every((ok) => ok === 1)).toBe(true);
    // Every refusal is counted in the summary rows of the windows, written as each window ends.
    await until(async () => (await limitedRows(server.sql, 'anonymous_rate')).reduce((sum, row) => sum + row.details.refused, 0) === refused, 'the summary rows');
    const summaries = await limitedRows(server.sql, 'anonymous_rate');
    expect(summaries.length).toBeLessThanOrEqual(3);
    expect(summaries.every((row) => row.user_id === null && row.ip === '127.0.0.1' && row.details.doors[0] === 'http')).toBe(true);
    expect((await rowCount(server.sql)) - before).toBeLessThan(100);
  });
});

describeOnPostgres('limits per caller and per process', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_WINDOW: '2s', RATE_LIMIT_PER_CALLER: '40', RATE_LIMIT_ANONYMOUS: '40', RATE_LIMIT_PER_PROCESS: '1000000' });
  });
  afterAll(() => server?.stop());

  it('limits an admin flooding subscriptions over one WebSocket, and sums the refusals into a row', async () => {
    const socket = await SocketClient.open(server.url, { authorization: `Bearer ${await server.token({ sub: 'flooding-admin', role: 'admin' })}` });
    await socket.acknowledged();
    const query = 'subscription($f: AuditLogFilter) { auditLogAdded(filter: $f) { cursor } }';
    for (let n = 0; n < 500; n++) socket.subscribe(String(n), query, { f: { requestId: 'bad\u0000' } });
    // A refused subscription is answered `error`; one refused by its field checks, a `next` carrying the errors.
    const firstAnswers = () => new Map(socket.messages.filter((message) => message.id !== undefined && message.type !== 'complete').map((message) => [message.id, message]));
    await socket.until(() => firstAnswers().size === 500, '500 answers');
    const codes = [...firstAnswers().values()].map((message) => (message.type === 'error' ? message.payload : message.payload.errors)[0].extensions.code);
    const refused = codes.filter((code) => code === 'RATE_LIMITED').length;
    // The connection itself was one request of the caller's.
    expect(codes.filter((code) => code === 'BAD_USER_INPUT').length).toBeLessThanOrEqual(39);
    expect(firstAnswers().get('499')).toEqual({ id: '499', type: 'error', payload: [{ message: expect.any(String), extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } }] });
    expect(refused).toBeGreaterThanOrEqual(461);
    await until(async () => (await limitedRows(server.sql, 'caller_rate')).reduce((sum, row) => sum + row.details.refused, 0) === refused, 'the summary row');
    const invalid = await server.sql`select 1 from audit_logs where action = 'invalid_argument' and user_id = 'flooding-admin'`;
    expect(invalid.length).toBeLessThanOrEqual(39);
    socket.close();
  });

  it('limits each caller on their own: one over their limit does not stop another', async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, () => server.graphql('{ me { userId } }', { as: bob })));
    expect(answers.filter((answer) => answer.status === 429).length).toBeGreaterThanOrEqual(20);
    const other = await server.graphql('{ me { userId } }', { as: alice });
    expect(other.body.data).toEqual({ me: { userId: 'alice' } });
  });
});

describeOnPostgres('a limit for the whole process', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_WINDOW: '60s', RATE_LIMIT_PER_CALLER: '1000', RATE_LIMIT_PER_PROCESS: '30' });
  });
  afterAll(() => server?.stop());

  it('refuses everyone once the process has served its share of the window', async () => {
    const answers = await Promise.all([...Array.from({ length: 20 }, () => server.graphql('{ me { userId } }', { as: alice })), ...Array.from({ length: 20 }, () => server.graphql('{ me { userId } }', { as: bob }))]);
    expect(answers.filter((answer) => answer.status === 200).length).toBe(30);
    expect(answers.filter((answer) => answer.status === 429).every((answer) => answer.body.errors![0]!.extensions!.code === 'RATE_LIMITED')).toBe(true);
  });
});

/** Connects to the URL it is given, sends one 25 MB `subscribe` message and prints how the server closed the connection. */
const BIG_MESSAGE_SENDER = `
const WebSocket = require('ws');
const socket = new WebSocket(process.argv[1], 'graphql-transport-ws');
socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
socket.on('message', (data) => {
  if (JSON.parse(String(data)).type !== 'connection_ack') return;
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { auditLogAdded { node {' + ' id'.repeat(8000000) + ' } } }' } }));
});
socket.on('error', () => {});
socket.on('close', (code) => { console.log('closed ' + code); process.exit(0); });
setTimeout(() => { console.log('still open'); process.exit(1); }, 20000);
`;

describeOnPostgres('a 25 MB WebSocket message', () => {
  let database: TestDatabase;
  let api: RunningApi;
  beforeAll(async () => {
    database = await createTestDatabase({ migrated: true });
    api = await startApi({ DATABASE_URL: database.url, JWT_SECRET: TEST_JWT_SECRET, AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY, PORT: '0' });
  });
  afterAll(async () => {
    killAll();
    await database?.drop();
  });

  it('is refused before it is buffered: the connection closes (1009), memory stays low and /healthz answers', async () => {
    const base = api.url.replace(/\/graphql$/, '');
    const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${api.proc.child.pid}/status`, 'utf8'))![1]) / 1024;
    // Sent by a process of its own: building and masking 25 MB would stall this one's probes too.
    const sender = spawnNode('-e', [BIG_MESSAGE_SENDER, `${base.replace(/^http/, 'ws')}/graphql`], {});
    let slowest = 0;
    let peak = rssMb();
    let exited = false;
    void sender.exited.then(() => (exited = true));
    while (!exited) {
      const started = performance.now();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      slowest = Math.max(slowest, performance.now() - started);
      peak = Math.max(peak, rssMb());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await sender.exited).stdout.trim()).toBe('closed 1009');
    expect(slowest).toBeLessThan(200);
    expect(peak).toBeLessThan(300);
  });
});

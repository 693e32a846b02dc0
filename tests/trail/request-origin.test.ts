import http from 'node:http';
import { auditRowsOfRequest, type StoredAuditRow } from '../support/audit-rows';
import { alice, startTestServer, type TestServer } from '../support/test-server';

// Where a request came from (ip, user agent) and which request it was (request id) are recorded in
// every audit row. A caller must not be able to forge them, or make them unreadable.

const CREATE = '{"query":"mutation Origin { createItem(input: {title: \\"x\\"}) { id } }","operationName":"Origin"}';

/**
 * A POST of `createItem` as alice through node:http, which sends header strings byte for byte
 * (latin1): how a client sends a UTF-8 user agent, which fetch would refuse to.
 */
async function post(server: TestServer, headers: Record<string, string>): Promise<{ status: number; requestId: string }> {
  const authorization = `Bearer ${await server.token(alice)}`;
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization, ...headers },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      res.resume().once('end', () => resolve({ status: res.statusCode!, requestId: String(res.headers['x-request-id']) }));
    });
    // A Buffer: with a string body, Node sends the headers in the body's encoding (UTF-8) instead.
    req.end(Buffer.from(CREATE));
  });
}

/** The one row `createItem` wrote for a request. */
async function rowOf(server: TestServer, requestId: string): Promise<StoredAuditRow> {
  const rows = await auditRowsOfRequest(server.sql, requestId);
  expect(rows.map((row) => row.action)).toEqual(['create_item']);
  return rows[0]!;
}

/** UTF-8 text as Node's HTTP client puts it on the wire: one latin1 character per byte. */
const asHeaderBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('a client talking to the API directly (TRUST_PROXY unset)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('cannot choose the request id: a supplied X-Request-Id is replaced by a generated one', async () => {
    const spoofed = 'request-id-of-an-admin';
    const { status, requestId } = await post(server, { 'x-request-id': spoofed });
    expect(status).toBe(200);
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await rowOf(server, requestId)).toMatchObject({ request_id: requestId });
    expect(await auditRowsOfRequest(server.sql, spoofed)).toEqual([]);
  });

  it('cannot choose the ip: X-Forwarded-For is ignored', async () => {
    const { requestId } = await post(server, { 'x-forwarded-for': '203.0.113.9' });
    expect(await rowOf(server, requestId)).toMatchObject({ ip: '127.0.0.1' });
  });

  it('records a UTF-8 user agent as the text it is', async () => {
    const agent = 'Café-Client/2.1 (Łódź; 日本語) 🚀';
    const { requestId } = await post(server, { 'user-agent': asHeaderBytes(agent) });
    expect(await rowOf(server, requestId)).toMatchObject({ user_agent: agent });
  });

  it('keeps a user agent that is not UTF-8 as latin1', async () => {
    const { requestId } = await post(server, { 'user-agent': 'Legacy/1.0 (r\u00e9sum\u00e9)' });
    expect(await rowOf(server, requestId)).toMatchObject({ user_agent: 'Legacy/1.0 (résumé)' });
  });

  it('drops control characters from the user agent (tab, C1 controls such as NEL and CSI)', async () => {
    const { requestId } = await post(server, { 'user-agent': asHeaderBytes('Agent/1.0\t(\u0085forged line\u009b31m)') });
    expect(await rowOf(server, requestId)).toMatchObject({ user_agent: 'Agent/1.0(forged line31m)' });
  });

  it('cuts the user agent at 512 characters, not bytes', async () => {
    const { requestId } = await post(server, { 'user-agent': asHeaderBytes('é'.repeat(600)) });
    expect(await rowOf(server, requestId)).toMatchObject({ user_agent: 'é'.repeat(512) });
  });
});

describe('behind a trusted proxy (TRUST_PROXY=loopback; the test client plays the proxy)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'loopback' });
  });
  afterAll(() => server.stop());

  it("honours the proxy's X-Request-Id, echoes it and records it", async () => {
    const traced = `edge-${Date.now()}-trace`;
    const { requestId } = await post(server, { 'x-request-id': traced });
    expect(requestId).toBe(traced);
    expect(await rowOf(server, traced)).toMatchObject({ request_id: traced });
  });

  it('still replaces an X-Request-Id that is not a plain token', async () => {
    const { requestId } = await post(server, { 'x-request-id': 'two words' });
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await rowOf(server, requestId)).toMatchObject({ request_id: requestId });
  });

  it.each([
    ['an IPv4 address', '203.0.113.9', '203.0.113.9'],
    ['an IPv6 address', '2001:db8::7', '2001:db8::7'],
    ['an IPv4-mapped IPv6 address, unmapped', '::ffff:198.51.100.4', '198.51.100.4'],
    ['an IPv6 address with a zone, without the zone', `fe80::1%${'z'.repeat(2000)}`, 'fe80::1'],
    ['12,000 characters of garbage, as null', 'x'.repeat(12_000), null],
    ['an address with a port, as null', '203.0.113.9:4711', null],
    ['markup, as null', '<script>alert(1)</script>', null],
  ])('records the forwarded client address: %s', async (_label, forwarded, stored) => {
    const { requestId } = await post(server, { 'x-forwarded-for': forwarded });
    expect(await rowOf(server, requestId)).toMatchObject({ ip: stored });
  });
});

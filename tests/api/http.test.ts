import { ConfigError } from '../../src/config/config';
import { SANDBOX_AUTHORIZATION_PLACEHOLDER, SANDBOX_EXAMPLE_OPERATION } from '../../src/http/sandbox';
import { expectRequestError } from '../support/errors';
import { alice, startTestServer, type TestServer } from '../support/test-server';

/** A raw HTTP request to `server`, for what `server.graphql` (always a JSON POST) cannot express. */
function request(server: TestServer, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, init);
}

/** `GET /graphql?query=...` with the given headers. */
function getGraphQL(server: TestServer, query: string, headers: Record<string, string> = {}): Promise<Response> {
  return request(server, `/graphql?${new URLSearchParams({ query })}`, { headers });
}

/** A browser's CORS preflight for a JSON POST to /graphql. */
function preflight(server: TestServer, origin: string): Promise<Response> {
  return request(server, '/graphql', {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
}

const INTROSPECTION = '{ __schema { types { name } } }';
const CSRF_MESSAGE = 'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF).';

describe('development server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('GET /healthz answers 200 {"status":"ok"} while the database is up', async () => {
    const response = await request(server, '/healthz');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers a POST to /graphql', async () => {
    const response = await server.graphql('{ __typename }');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { __typename: 'Query' } });
  });

  it('answers malformed JSON with a GraphQL-shaped 400, not an HTML page with a stack trace', async () => {
    const response = await request(server, '/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ me { id: userId } ',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Bad request: entity parse failed', extensions: { code: 'BAD_REQUEST' } }],
    });
  });

  it('answers a GET to /graphql that carries apollo-require-preflight', async () => {
    const response = await getGraphQL(server, '{ __typename }', { 'apollo-require-preflight': 'true' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('runs GET queries with the bearer token of the caller', async () => {
    const token = await server.token(alice);
    const response = await getGraphQL(server, '{ me { id: userId role } }', {
      'apollo-require-preflight': 'true',
      authorization: `Bearer ${token}`,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { me: { id: 'alice', role: 'USER' } } });
  });

  it('refuses a mutation over GET and creates nothing', async () => {
    const token = await server.token(alice);
    const response = await getGraphQL(server, 'mutation { createItem(input: {title: "via get"}) { id } }', {
      'apollo-require-preflight': 'true',
      authorization: `Bearer ${token}`,
    });
    expect(response.status).toBe(405);
    expect(await server.sql`select id from items where title = 'via get'`).toHaveLength(0);
  });

  describe('CSRF prevention', () => {
    it('blocks a GET that bears nothing that forces a preflight (what a cross-site page can send), before executing anything', async () => {
      const response = await getGraphQL(server, '{ __typename }', { cookie: 'session=stolen' });
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(text).toContain(CSRF_MESSAGE);
      expect(text).not.toContain('"data"');
    });

    it('lets a GET with a bearer token through: a browser preflights every request that bears one', async () => {
      const token = await server.token(alice);
      const response = await getGraphQL(server, '{ me { id: userId } }', { authorization: `Bearer ${token}` });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { me: { id: 'alice' } } });
    });

    it.each([
      ['content-type: application/json', { 'content-type': 'application/json' }],
      ['x-apollo-operation-name', { 'x-apollo-operation-name': 'Typename' }],
    ])('lets a GET with %s through', async (_name, headers) => {
      const response = await getGraphQL(server, 'query Typename { __typename }', headers);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    });

    it('blocks a form-style POST (text/plain, no preflight, so no token either) and creates nothing', async () => {
      const response = await request(server, '/graphql', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ query: 'mutation { createItem(input: {title: "csrf"}) { id } }' }),
      });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain(CSRF_MESSAGE);
      expect(await server.sql`select id from items where title = 'csrf'`).toHaveLength(0);
    });
  });

  it('serves the Apollo Sandbox landing page to a browser asking for /graphql', async () => {
    const response = await request(server, '/graphql', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('<div id="embeddableSandbox"></div>');
    expect(html).toContain('new window.EmbeddedSandbox(');
  });

  it('opens the Sandbox with an example operation and an Authorization header to fill in', async () => {
    const html = await (await request(server, '/graphql', { headers: { accept: 'text/html' } })).text();
    const config = JSON.parse(/var embeddedSandboxConfig = (.*);\n/.exec(html)![1]!);
    expect(config.initialState).toMatchObject({
      document: SANDBOX_EXAMPLE_OPERATION,
      headers: { Authorization: SANDBOX_AUTHORIZATION_PLACEHOLDER },
    });
    expect(config.initialState.sharedHeaders).toBeUndefined();
    // The example is a valid operation of this API.
    const token = await server.token(alice);
    const answer = await server.graphql(SANDBOX_EXAMPLE_OPERATION, { as: token });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.me.userId).toBe('alice');
  });

  it('allows introspection', async () => {
    const response = await server.graphql(INTROSPECTION);
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.__schema.types.map((type: { name: string }) => type.name)).toContain('Item');
  });

  it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
    const response = await preflight(server, 'https://dash.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('production server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ NODE_ENV: 'production' });
  });
  afterAll(() => server.stop());

  it('refuses introspection by default', async () => {
    expectRequestError(await server.graphql(INTROSPECTION), {
      status: 400,
      code: 'GRAPHQL_VALIDATION_FAILED',
      extensions: { validationErrorCode: 'INTROSPECTION_DISABLED' },
      message: /^GraphQL introspection is not allowed/,
      inOperation: true,
    });
  });

  it('still answers ordinary queries', async () => {
    const response = await server.graphql('{ me { id: userId } }', { as: alice });
    expect(response.body).toEqual({ data: { me: { id: 'alice' } } });
  });

  it('does not serve the Sandbox (which would need introspection) to browsers', async () => {
    const response = await request(server, '/graphql', { headers: { accept: 'text/html' } });
    expect(await response.text()).not.toContain('embeddableSandbox');
  });

  it('allows introspection with GRAPHQL_INTROSPECTION=true', async () => {
    const open = await startTestServer({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' });
    try {
      const response = await open.graphql(INTROSPECTION);
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.__schema.types.map((type: { name: string }) => type.name)).toEqual(
        expect.arrayContaining(['Query', 'Mutation', 'Item', 'ItemConnection', 'Viewer']),
      );
    } finally {
      await open.stop();
    }
  });

  it('refuses GRAPHQL_INTROSPECTION=maybe in development too, before anyone deploys it', async () => {
    await expect(startTestServer({ GRAPHQL_INTROSPECTION: 'maybe' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('refuses to start with GRAPHQL_INTROSPECTION=maybe', async () => {
    const starting = startTestServer({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'maybe' });
    await expect(starting).rejects.toBeInstanceOf(ConfigError);
    await expect(starting).rejects.toThrow('GRAPHQL_INTROSPECTION must be true or false, got "maybe"');
  });
});

describe('CORS with CORS_ORIGINS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ CORS_ORIGINS: 'https://dash.example' });
  });
  afterAll(() => server.stop());

  it('allows a preflight from a listed origin', async () => {
    const response = await preflight(server, 'https://dash.example');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://dash.example');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('gives no allow-origin to any other origin', async () => {
    const response = await preflight(server, 'https://evil.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('labels actual responses for the listed origin', async () => {
    const response = await server.graphql('{ __typename }', { headers: { origin: 'https://dash.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://dash.example');
  });
});

describe('internal errors', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.sql`drop table items`;
  });
  afterAll(() => server.stop());

  it.each([
    ['a query', '{ items { nodes { id title } } }', 'items'],
    ['a mutation', 'mutation { createItem(input: {title: "x"}) { id } }', 'createItem'],
  ])('are masked for %s that fails in the database', async (_kind, query, field) => {
    const token = await server.token(alice);
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    const body = JSON.parse(text);

    expect(body).toEqual({
      data: null,
      errors: [
        {
          message: 'Internal server error',
          locations: expect.any(Array),
          path: [field],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ],
    });
    expect(body.errors[0].message).not.toContain('items');
    for (const leak of [/select|insert into/i, /relation/i, /stacktrace/i, /\.(ts|js):\d+/, /\/(work|tmp|home|src|dist|node_modules)\//]) {
      expect(text).not.toMatch(leak);
    }
  });
});

// Runs last: it breaks its server's database on purpose.
describe('health check when the database is gone', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('GET /readyz answers 503 after the database is dropped, while /healthz (liveness) stays 200', async () => {
    expect((await request(server, '/readyz')).status).toBe(200);
    await server.sql.end();
    await server.database.drop();
    const response = await request(server, '/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', reason: 'database_unavailable' });
    expect((await request(server, '/healthz')).status).toBe(200);
  });
});

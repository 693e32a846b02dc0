import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { tracedRequest } from '../support/audit-rows';
import { base64urlJson } from '../support/encoding';
import { AUTHENTICATION_REQUIRED, expectFieldError, expectRequestError } from '../support/errors';
import { admin, alice, startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/test-server';

// Bearer tokens decide who a caller is. A token that does not verify must fail the whole request
// with 401, never fall back to an anonymous caller; no header at all is an anonymous caller who
// may reach nothing but __typename and introspection.

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

const ME = '{ me { id: userId role } }';
/** A request-level rejection: HTTP 401, one UNAUTHENTICATED error and no `data` at all. */
const REJECTED = { status: 401, code: 'UNAUTHENTICATED', message: 'the bearer token is invalid or expired' } as const;
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token with arbitrary claims (the harness' signer only knows `sub` and `role`). */
function hs256(payload: JWTPayload, secret: string | Uint8Array = TEST_JWT_SECRET, alg = 'HS256'): Promise<string> {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt().setExpirationTime('5m').sign(key);
}

/** An HS256 token with exactly the claims given: no `iat` or `exp` unless `payload` has them. */
function hs256Raw(payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

/** What the JWKS test server expects of its identity provider's tokens (JWT_ISSUER, JWT_AUDIENCE). */
const IDP_ISSUER = 'https://idp.example.test/';
const IDP_AUDIENCE = 'audited-api';

/**
 * A token signed with an asymmetric private key; `kid` picks the key out of a JWKS. Issued for
 * this API by its identity provider unless `payload` says otherwise.
 */
function signed(privateKey: CryptoKey, alg: 'RS256' | 'ES256', kid: string, payload: JWTPayload = { sub: 'carol' }): Promise<string> {
  return new SignJWT({ iss: IDP_ISSUER, aud: IDP_AUDIENCE, ...payload })
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
}

/** An unsigned token, built by hand because no library will make one. */
function unsignedToken(payload: JWTPayload): string {
  return `${base64urlJson({ alg: 'none', typ: 'JWT' })}.${base64urlJson(payload)}.`;
}

/**
 * A refused token: HTTP 401 with the generic message, and one denied `authenticate` row without
 * a user whose reason is `reason` — found by the id the server gave the request.
 */
async function expectRefused(on: TestServer, token: string, reason: string): Promise<void> {
  const response = await tracedRequest(on, ME, { as: token });
  expectRequestError(response, REJECTED);
  expect(await response.rows()).toEqual([
    expect.objectContaining({ user_id: null, user_role: null, action: 'authenticate', outcome: 'denied', details: { reason } }),
  ]);
}

/** Serves `keys` as a JWKS at `/jwks.json` on an ephemeral loopback port. */
async function startJwksServer(keys: object[]): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe('HS256 tokens (JWT_SECRET)', () => {
  it('identifies the caller by the token subject, as a USER by default', async () => {
    const response = await server.graphql(ME, { as: alice });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { me: { id: 'alice', role: 'USER' } } });
  });

  it('grants ADMIN for role "admin"', async () => {
    const response = await server.graphql(ME, { as: admin });
    expect(response.body).toEqual({ data: { me: { id: 'root', role: 'ADMIN' } } });
  });

  it.each([
    ['"ADMIN" (case matters)', 'ADMIN'],
    ['"Admin"', 'Admin'],
    ['"administrator"', 'administrator'],
    ['"user"', 'user'],
    ['an empty string', ''],
    ['an array containing "admin"', ['admin']],
    ['true', true],
    ['null', null],
  ])('treats a role claim of %s as USER', async (_label, role) => {
    const response = await server.graphql(ME, { as: await hs256({ sub: 'dave', role }) });
    expect(response.body).toEqual({ data: { me: { id: 'dave', role: 'USER' } } });
  });

  it('treats a token without a role claim as USER', async () => {
    const response = await server.graphql(ME, { as: await hs256({ sub: 'erin' }) });
    expect(response.body).toEqual({ data: { me: { id: 'erin', role: 'USER' } } });
  });

  it('accepts the scheme name in any case', async () => {
    const token = await server.token(alice);
    const response = await server.graphql(ME, { headers: { authorization: `bearer ${token}` } });
    expect(response.body).toEqual({ data: { me: { id: 'alice', role: 'USER' } } });
  });
});

describe('rejected tokens', () => {
  it('rejects an expired token', async () => {
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('alice')
      .setIssuedAt(now() - 3600)
      .setExpirationTime(now() - 60)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    await expectRefused(server, token, 'expired');
  });

  it('rejects a token that is not valid yet (nbf in the future)', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('alice')
      .setNotBefore(now() + 3600)
      .setExpirationTime(now() + 7200)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    await expectRefused(server, token, 'not_yet_valid');
  });

  it('rejects a token signed with another secret', async () => {
    const token = await hs256({ sub: 'alice', role: 'admin' }, 'another-secret-that-is-also-long-enough-0123456789');
    await expectRefused(server, token, 'bad_signature');
  });

  it('rejects an unsigned alg "none" token', async () => {
    const token = unsignedToken({ sub: 'alice', role: 'admin', iat: now(), exp: now() + 300 });
    await expectRefused(server, token, 'bad_signature');
  });

  it('rejects a token whose signature was stripped off', async () => {
    const [header, payload] = (await server.token(admin)).split('.');
    expectRequestError(await server.graphql(ME, { as: `${header}.${payload}.` }), REJECTED);
  });

  it('rejects a token whose payload was changed after signing', async () => {
    const [header, , signature] = (await server.token(alice)).split('.');
    const forged = base64urlJson({ sub: 'alice', role: 'admin', iat: now(), exp: now() + 300 });
    expectRequestError(await server.graphql(ME, { as: `${header}.${forged}.${signature}` }), REJECTED);
  });

  it('rejects an HS512 token signed with the right secret (the algorithm is pinned)', async () => {
    const token = await hs256({ sub: 'alice' }, TEST_JWT_SECRET, 'HS512');
    expectRequestError(await server.graphql(ME, { as: token }), REJECTED);
  });

  it('rejects an RS256 token when the server expects HS256', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    expectRequestError(await server.graphql(ME, { as: await signed(privateKey, 'RS256', 'k1', { sub: 'alice' }) }), REJECTED);
  });

  it.each([
    ['no sub claim', {}],
    ['an empty sub', { sub: '' }],
    ['a numeric sub', { sub: 42 as unknown as string }],
  ])('rejects a correctly signed token with %s', async (_label, claims) => {
    await expectRefused(server, await hs256({ role: 'admin', ...claims }), 'bad_subject');
  });

  it.each([
    ['"Bearer" without a token', 'Bearer'],
    ['"Basic abc"', 'Basic abc'],
    ['an empty value', ''],
    ['two tokens', 'Bearer aaa bbb'],
  ])('rejects an Authorization header with %s', async (_label, authorization) => {
    const response = await server.graphql(ME, { headers: { authorization } });
    expectRequestError(response, { ...REJECTED, message: 'the Authorization header must be "Bearer <token>"' });
  });

  it('rejects "Bearer not-a-jwt"', async () => {
    await expectRefused(server, 'not-a-jwt', 'malformed');
  });

  it('rejects a bad token even for a query anonymous callers could make', async () => {
    expectRequestError(await server.graphql('{ __typename }', { as: 'not-a-jwt' }), REJECTED);
  });

  it('rejects a bad token before running a mutation, so nothing is written', async () => {
    await server.sql`delete from items`;
    const token = await hs256({ sub: 'alice' }, 'another-secret-that-is-also-long-enough-0123456789');
    expectRequestError(await server.graphql('mutation { createItem(input: {title: "x"}) { id } }', { as: token }), REJECTED);
    expect(await server.sql`select id from items`).toEqual([]);
  });
});

describe('claims every token must satisfy (exp, lifetime, clock, subject)', () => {
  const HOUR = 3600;

  it('rejects a token without exp, which would never expire', async () => {
    await expectRefused(server, await hs256Raw({ sub: 'alice', role: 'admin', iat: now() }), 'no_expiry');
  });

  it('rejects a token whose exp is not a number', async () => {
    await expectRefused(server, await hs256Raw({ sub: 'alice', iat: now(), exp: 'tomorrow' as unknown as number }), 'malformed');
  });

  it('rejects a token living longer than JWT_MAX_AGE (default 24h), counted from iat', async () => {
    await expectRefused(server, await hs256Raw({ sub: 'alice', iat: now(), exp: now() + 24 * HOUR + 1 }), 'too_long_lived');
    // Issued long ago with a far exp: still valid now, but its lifetime gives it away.
    await expectRefused(server, await hs256Raw({ sub: 'alice', iat: now() - 300 * 24 * HOUR, exp: now() + HOUR }), 'too_long_lived');
  });

  it('rejects a token without iat whose exp lies beyond JWT_MAX_AGE from now', async () => {
    await expectRefused(server, await hs256Raw({ sub: 'alice', exp: now() + 25 * HOUR }), 'too_long_lived');
  });

  it('accepts a lifetime of exactly 24h, and a token without iat expiring within 24h', async () => {
    for (const claims of [{ iat: now(), exp: now() + 24 * HOUR }, { exp: now() + 23 * HOUR }]) {
      const response = await server.graphql(ME, { as: await hs256Raw({ sub: 'alice', ...claims }) });
      expect(response.body).toEqual({ data: { me: { id: 'alice', role: 'USER' } } });
    }
  });

  it('rejects a token issued in the future (iat) beyond the clock tolerance', async () => {
    await expectRefused(server, await hs256Raw({ sub: 'alice', iat: now() + 120, exp: now() + HOUR }), 'not_yet_valid');
  });

  it('accepts iat and nbf a few seconds ahead of our clock (within the 30 s tolerance)', async () => {
    const token = await hs256Raw({ sub: 'alice', iat: now() + 10, nbf: now() + 10, exp: now() + HOUR });
    expect((await server.graphql(ME, { as: token })).body).toEqual({ data: { me: { id: 'alice', role: 'USER' } } });
  });

  it('rejects a token whose nbf is beyond the clock tolerance', async () => {
    await expectRefused(server, await hs256Raw({ sub: 'alice', nbf: now() + 120, exp: now() + HOUR }), 'not_yet_valid');
  });

  it.each([
    ['blank', '   '],
    ['a NUL character', 'ali\u0000ce'],
    ['a newline (a forged log line)', 'alice\nroot'],
    ['a C0 control character', 'alice\u0007'],
    ['DEL', 'alice\u007f'],
    ['a C1 control character', 'alice\u0085'],
    ['a lone high surrogate', 'alice\ud800'],
    ['a lone low surrogate', '\udc00alice'],
    ['256 characters', 'a'.repeat(256)],
    ['not a string', ['alice']],
  ])('rejects a subject that is %s, and records the refusal', async (_label, sub) => {
    await expectRefused(server, await hs256({ sub: sub as string, role: 'admin' }), 'bad_subject');
  });

  it.each([
    ['format characters that display as "root" (a right-to-left override, a zero-width space)', 'root\u202e\u200b'],
    ['not in NFC (e and a combining acute accent)', 'rene\u0301'],
  ])('rejects a token signed for a subject %s, and records the refusal', async (_label, sub) => {
    await expectRefused(server, await server.token({ sub, role: 'admin' }), 'bad_subject');
  });

  it('accepts a subject of 255 characters, and one with characters outside the BMP', async () => {
    for (const sub of ['a'.repeat(255), 'ü'.repeat(254) + '😀', 'user@example.com']) {
      const response = await server.graphql(ME, { as: await hs256({ sub }) });
      expect(response.body).toEqual({ data: { me: { id: sub, role: 'USER' } } });
    }
  });

  it('never echoes the token or its claims, in the response or the audit row', async () => {
    const response = await tracedRequest(server, ME, { as: await hs256Raw({ sub: 'secret-subject', iat: now(), exp: now() + 48 * HOUR }) });
    const [row] = await response.rows();
    expect(JSON.stringify([response.body, row])).not.toContain('secret-subject');
  });
});

describe('issuer and audience (JWT_ISSUER, JWT_AUDIENCE)', () => {
  let scoped: TestServer;
  const ours = { iss: 'https://auth.example.test/', aud: 'audited-api' };
  beforeAll(async () => {
    scoped = await startTestServer({ JWT_ISSUER: ours.iss, JWT_AUDIENCE: ours.aud });
  });
  afterAll(() => scoped?.stop());

  it('accepts a token for this issuer and audience, as npm run token mints it', async () => {
    const token = await scoped.token({ sub: 'root', role: 'admin', issuer: ours.iss, audience: ours.aud });
    expect((await scoped.graphql(ME, { as: token })).body).toEqual({ data: { me: { id: 'root', role: 'ADMIN' } } });
    const listed = await hs256({ sub: 'alice', ...ours, aud: ['another-api', ours.aud] });
    expect((await scoped.graphql(ME, { as: listed })).body).toEqual({ data: { me: { id: 'alice', role: 'USER' } } });
  });

  it.each([
    ['another audience', { ...ours, aud: 'another-api' }, 'wrong_audience'],
    ['no audience', { iss: ours.iss }, 'wrong_audience'],
    ['another issuer', { ...ours, iss: 'https://evil.example.test/' }, 'wrong_issuer'],
    ['no issuer', { aud: ours.aud }, 'wrong_issuer'],
  ])('rejects an admin token with %s', async (_label, claims, reason) => {
    await expectRefused(scoped, await hs256({ sub: 'root', role: 'admin', ...claims }), reason);
  });
});

describe('anonymous callers (no Authorization header)', () => {
  it('may ask for __typename', async () => {
    const response = await server.graphql('{ __typename }');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { __typename: 'Query' } });
  });

  it('may introspect the schema', async () => {
    const response = await server.graphql('{ __schema { queryType { name } mutationType { name } } }');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { __schema: { queryType: { name: 'Query' }, mutationType: { name: 'Mutation' } } } });
  });

  it('get UNAUTHENTICATED for me', async () => {
    expectFieldError(await server.graphql('{ me { id: userId } }'), { ...AUTHENTICATION_REQUIRED, path: 'me', data: null });
  });

  it('get UNAUTHENTICATED for items', async () => {
    const response = await server.graphql('{ items { nodes { id } totalCount } }');
    expectFieldError(response, { ...AUTHENTICATION_REQUIRED, path: 'items', data: null });
  });

  it('get UNAUTHENTICATED for item, even for an item that exists', async () => {
    const created = await server.graphql<{ createItem: { id: string } }>('mutation { createItem(input: {title: "x"}) { id } }', { as: alice });
    const id = created.body.data!.createItem.id;
    const response = await server.graphql('query($id: ID!) { item(id: $id) { id } }', { variables: { id } });
    expectFieldError(response, { ...AUTHENTICATION_REQUIRED, path: 'item', data: { item: null } });
    await server.sql`delete from items`;
  });

  it('get UNAUTHENTICATED for each field separately, next to fields they may read', async () => {
    const response = await server.graphql('{ __typename item(id: "1") { id } }');
    expectFieldError(response, { ...AUTHENTICATION_REQUIRED, path: 'item', data: { __typename: 'Query', item: null } });
  });

  it.each([
    ['createItem', 'mutation { createItem(input: {title: "x"}) { id } }'],
    ['updateItem', 'mutation { updateItem(id: "1", input: {title: "x"}) { id } }'],
    ['deleteItem', 'mutation { deleteItem(id: "1") { deletedItemId } }'],
  ])('get UNAUTHENTICATED for %s and change nothing', async (field, mutation) => {
    await server.sql`delete from items`;
    const [row] = await server.sql`insert into items (owner_id, title) values ('alice', 'untouched') returning id, title, updated_at`;
    const response = await server.graphql(mutation.replace('"1"', `"${row!.id}"`));
    expectFieldError(response, { ...AUTHENTICATION_REQUIRED, path: field, data: null });
    expect(await server.sql`select id, title, updated_at from items`).toEqual([row]);
    await server.sql`delete from items`;
  });
});

describe('RS256 and ES256 tokens (JWKS_URL)', () => {
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  let jwksServer: TestServer;
  let rsa: KeyPair;
  let ec: KeyPair;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    jwks = await startJwksServer([
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ]);
    // An empty JWT_SECRET counts as unset, which turns off the harness' HS256 default.
    jwksServer = await startTestServer({ JWT_SECRET: '', JWKS_URL: jwks.url, JWT_ISSUER: IDP_ISSUER, JWT_AUDIENCE: IDP_AUDIENCE });
  });
  afterAll(async () => {
    await jwksServer?.stop();
    await jwks?.close();
  });

  it('accepts an RS256 token signed with a published key', async () => {
    const token = await signed(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'carol', role: 'admin' });
    const response = await jwksServer.graphql(ME, { as: token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { me: { id: 'carol', role: 'ADMIN' } } });
    expect(jwks.requests()).toBeGreaterThan(0);
  });

  it('accepts an ES256 token signed with a published key', async () => {
    const response = await jwksServer.graphql(ME, { as: await signed(ec.privateKey, 'ES256', 'ec-1', { sub: 'dan' }) });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { me: { id: 'dan', role: 'USER' } } });
  });

  it('rejects an expired RS256 token', async () => {
    const token = await new SignJWT({ iss: IDP_ISSUER, aud: IDP_AUDIENCE })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
      .setSubject('carol')
      .setExpirationTime(now() - 60)
      .sign(rsa.privateKey);
    await expectRefused(jwksServer, token, 'expired');
  });

  it('rejects an admin token the identity provider issued for another application', async () => {
    const token = await signed(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'carol', role: 'admin', aud: 'another-app' });
    await expectRefused(jwksServer, token, 'wrong_audience');
  });

  it('rejects an admin token from another issuer', async () => {
    const token = await signed(rsa.privateKey, 'RS256', 'rsa-1', { sub: 'carol', role: 'admin', iss: 'https://other-idp.example.test/' });
    await expectRefused(jwksServer, token, 'wrong_issuer');
  });

  it('rejects an HS256 token, even one signed with the harness secret', async () => {
    expectRequestError(await jwksServer.graphql(ME, { as: await hs256({ sub: 'alice', role: 'admin' }) }), REJECTED);
  });

  it('rejects an HS256 token keyed with the public RSA key (algorithm confusion)', async () => {
    const publicPem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .setSubject('alice')
      .setExpirationTime('5m')
      .sign(publicPem);
    expectRequestError(await jwksServer.graphql(ME, { as: token }), REJECTED);
  });

  it('rejects an RS256 token signed by a key the JWKS does not publish', async () => {
    const stranger = await generateKeyPair('RS256');
    expectRequestError(await jwksServer.graphql(ME, { as: await signed(stranger.privateKey, 'RS256', 'rsa-unknown') }), REJECTED);
  });

  it('rejects an RS256 token from an unknown key that claims a published kid', async () => {
    const stranger = await generateKeyPair('RS256');
    await expectRefused(jwksServer, await signed(stranger.privateKey, 'RS256', 'rsa-1'), 'bad_signature');
  });

  it('rejects an unsigned alg "none" token', async () => {
    expectRequestError(await jwksServer.graphql(ME, { as: unsignedToken({ sub: 'carol', exp: now() + 300 }) }), REJECTED);
  });

  it('still treats a missing header as anonymous', async () => {
    expectFieldError(await jwksServer.graphql('{ me { id: userId } }'), { ...AUTHENTICATION_REQUIRED, path: 'me', data: null });
  });
});

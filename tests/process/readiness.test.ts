import { signToken } from '../../src/auth/token-signer';
import { expectRequestError } from '../support/errors';
import { graphql } from '../support/graphql-http';
import { killAll, logLines, startApi, stopApi, type RunningApi } from '../support/node-process';
import { createRoleDatabase, type RoleDatabase } from '../support/role-database';
import { startTestServer, TEST_AUDIT_SIGNING_KEY, TEST_JWT_SECRET, type TestServer } from '../support/test-server';

/**
 * `/healthz` is liveness (the process answers; no database), `/readyz` readiness (the database
 * answers and the serving role can write the audit trail). `http.test.ts` covers the database
 * being gone.
 */

jest.setTimeout(60_000);

async function get(baseUrl: string, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL(path, baseUrl));
  return { status: response.status, body: await response.json() };
}

describe('health endpoints of a working server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('answers 200 {"status":"ok"} on /healthz and /readyz', async () => {
    expect(await get(server.url, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(server.url, '/readyz')).toEqual({ status: 200, body: { status: 'ok' } });
  });
});

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('/readyz when the serving role may not write the audit trail', () => {
  let database: RoleDatabase;
  let api: RunningApi;
  let token: string;
  let itemId: string;

  beforeAll(async () => {
    database = await createRoleDatabase();
    api = await startApi({ DATABASE_URL: database.url, JWT_SECRET: TEST_JWT_SECRET, AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY, PORT: '0' });
    token = await signToken(TEST_JWT_SECRET, { sub: 'alice' });
    const created = await graphql(api.url, token, 'mutation { createItem(input: {title: "first"}) { id } }');
    itemId = created.body.data.createItem.id;
  });
  afterAll(async () => {
    if (api) await stopApi(api);
    killAll();
    await database?.drop();
  });

  const update = (title: string) => graphql(api.url, token, `mutation { updateItem(id: "${itemId}", input: {title: "${title}"}) { title } }`);

  it('answers 503 while INSERT on audit_logs is revoked, when every audited request fails; /healthz stays 200', async () => {
    expect(await get(api.url, '/readyz')).toEqual({ status: 200, body: { status: 'ok' } });

    await database.admin.unsafe(`revoke insert on audit_logs from "${database.role}"`);
    expect(await get(api.url, '/readyz')).toEqual({ status: 503, body: { status: 'unavailable', reason: 'audit_trail_not_writable' } });
    expect(await get(api.url, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expectRequestError(await update('while not ready'), { status: 503, code: 'INTERNAL_SERVER_ERROR' });
    expect(logLines(api.proc.output.stdout)).toContainEqual(
      expect.objectContaining({ level: 40, msg: 'not ready: /readyz answers 503', reason: 'audit_trail_not_writable' }),
    );

    await database.admin.unsafe(`grant insert on audit_logs to "${database.role}"`);
    expect(await get(api.url, '/readyz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await update('ready again')).body).toEqual({ data: { updateItem: { title: 'ready again' } } });
  });

  it('checks each column the trail writes, so column grants count and a missing one does not pass', async () => {
    const columns = (await database.admin<{ name: string }[]>`
      select column_name as name from information_schema.columns
      where table_name = 'audit_logs' and column_name not in ('id', 'occurred_at', 'user_agent')`).map((row) => `"${row.name}"`);
    await database.admin.unsafe(`revoke insert on audit_logs from "${database.role}"`);
    await database.admin.unsafe(`grant insert (${columns.join(', ')}) on audit_logs to "${database.role}"`);
    expect(await get(api.url, '/readyz')).toEqual({ status: 503, body: { status: 'unavailable', reason: 'audit_trail_not_writable' } });

    await database.admin.unsafe(`grant insert (user_agent) on audit_logs to "${database.role}"`);
    expect(await get(api.url, '/readyz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await update('with column grants')).body).toEqual({ data: { updateItem: { title: 'with column grants' } } });
  });
});

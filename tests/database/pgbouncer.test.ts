import { createClient, type Client } from 'graphql-ws';
import path from 'node:path';
import WebSocket from 'ws';
import { CREATE_ITEM, ITEM_QUERY, UPDATE_ITEM } from '../support/items';
import { dataOf, expectFieldError } from '../support/errors';
import { ROOT, run, VERIFY_CLI } from '../support/node-process';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { untilSealed } from '../support/sealing';
import { admin, alice, bob, startTestServer, TEST_AUDIT_PUBLIC_KEY, type TestServer } from '../support/test-server';

// Through PgBouncer 1.18 in transaction mode (DATABASE_POOL_MODE=transaction), which carries no
// prepared statement, session setting or advisory lock from one transaction to the next: the API,
// its sealer, the live feed, the export and the command-line tools work as they do directly.

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;
const REASON = { 'access-reason': 'support TICKET-9' };
const EXPORT_CLI = path.join(ROOT, 'dist/cli/audit-export.js');

describeOnPostgres('through PgBouncer in transaction mode', () => {
  let bouncer: PgBouncer;
  let server: TestServer;
  let itemId: string;
  beforeAll(async () => {
    bouncer = await startPgBouncer([new URL(process.env.DATABASE_URL!).username || 'postgres']);
    server = await startTestServer({ DATABASE_POOL_MODE: 'transaction', AUDIT_SEAL_INTERVAL_MS: '100' }, { through: (url) => bouncer.through(url) });
  });
  afterAll(async () => {
    await server?.stop();
    bouncer?.stop();
  });

  it('serves changes, admin reads and refusals, recording each', async () => {
    const created = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'pooled' } } })).createItem;
    itemId = created.id;
    dataOf(await server.graphql(UPDATE_ITEM, { as: alice, variables: { id: itemId, input: { title: 'pooled, renamed' } } }));
    expectFieldError(await server.graphql(UPDATE_ITEM, { as: bob, variables: { id: itemId, input: { title: 'not mine' } } }), { path: 'updateItem', code: 'NOT_FOUND', data: null });
    const read = dataOf(await server.graphql(ITEM_QUERY, { as: admin, variables: { id: itemId }, headers: REASON })).item;
    expect(read.title).toBe('pooled, renamed');

    const rows = await server.sql<{ action: string; outcome: string; user_id: string }[]>`
      select action, outcome, user_id from audit_logs where resource_type = 'item' order by id`;
    expect(rows.map((row) => [row.action, row.outcome, row.user_id])).toEqual([
      ['create_item', 'success', 'alice'],
      ['update_item', 'success', 'alice'],
      ['update_item', 'denied', 'bob'],
      ['admin_view_item', 'success', 'root'],
    ]);
  });

  it('keeps the timeouts as the serving role\'s defaults in its database, not as session settings', async () => {
    const settings = await server.sql<{ setting: string }[]>`
      select unnest(setconfig) as setting from pg_db_role_setting
      where setdatabase = (select oid from pg_database where datname = current_database()) and setrole = (select oid from pg_roles where rolname = current_user)`;
    expect(settings.map((row) => row.setting).sort()).toEqual(['idle_in_transaction_session_timeout=30000', 'lock_timeout=2000', 'statement_timeout=10000']);
  });

  it('seals through the pooler, and audit:verify checks the chain through it', async () => {
    await untilSealed(server.sql);
    const verify = await run(VERIFY_CLI, ['--public-key', TEST_AUDIT_PUBLIC_KEY], {
      DATABASE_URL: bouncer.through(server.database.url),
      DATABASE_POOL_MODE: 'transaction',
    });
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  });

  it('delivers the live feed', async () => {
    const client: Client = createClient({
      url: server.url.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${await server.token(admin)}`, accessReason: 'support TICKET-9' },
      retryAttempts: 0,
    });
    try {
      const delivered = new Promise<string>((resolve, reject) => {
        client.subscribe<{ auditLogAdded: { node: { action: string } } }>(
          { query: 'subscription { auditLogAdded(filter: { action: "create_item" }) { node { action } } }' },
          { next: (result) => resolve(result.data!.auditLogAdded.node.action), error: reject, complete: () => reject(new Error('completed')) },
        );
      });
      // The feed delivers what is sealed after it started: a change made now, once sealed.
      await new Promise((resolve) => setTimeout(resolve, 500));
      dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'fed' } } }));
      expect(await delivered).toBe('create_item');
    } finally {
      await client.dispose();
    }
  });

  it('exports over HTTP and from the command line', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const response = await fetch(`${server.url}/audit/export?${new URLSearchParams({ from, to, format: 'ndjson' })}`, {
      headers: { authorization: `Bearer ${await server.token(admin)}`, ...REASON },
    });
    expect(response.status).toBe(200);
    const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((line) => line.action)).toEqual(expect.arrayContaining(['create_item', 'update_item', 'admin_view_item']));

    const exported = await run(EXPORT_CLI, ['--from', from, '--to', to], { DATABASE_URL: bouncer.through(server.database.url), DATABASE_POOL_MODE: 'transaction' });
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/^exported \d+ row\(s\) from /);
    expect(exported.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(lines.length);
  });
});

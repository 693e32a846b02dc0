import 'reflect-metadata';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import postgres from 'postgres';
import { backstopProblems, sealOnce, verifyTrail } from '../../src/audit/operations';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/config/logger';
import { itemResource } from '../../src/items/item.audit';
import { startServer } from '../../src/server';
import { createRoleDatabase, type RoleDatabase } from '../support/role-database';
import { createTestServingRole, dropRoles, uniqueRoleName, type TestServingRole } from '../support/serving-role';
import { independentChainProblems, independentRowHashes } from '../support/independent-verifier';
import { untilSealed } from '../support/sealing';
import { withBackstopOff } from '../support/backstop-off';
import { run, VERIFY_CLI } from '../support/node-process';
import { dataOf } from '../support/errors';
import { CREATE_ITEM, DELETE_ITEM, rawIdOf, UPDATE_ITEM } from '../support/items';
import { admin, alice, startTestServer, TEST_AUDIT_PUBLIC_KEY, TEST_AUDIT_SIGNING_KEY, testServerEnv, type TestServer } from '../support/test-server';

// Changes made outside the API — psql, a migration, another service — are recorded by the
// database itself (migration 0019), one row per statement, in the same trail and seal chain as the
// API's; the API's own changes are recorded once, by the API.

const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: TEST_AUDIT_PUBLIC_KEY }, format: 'jwk' });
/**
 * Sessions of their own beside the server's, roles and sealing need a real PostgreSQL (the embedded
 * PGlite serves one connection at a time); the embedded mode runs the same migration.
 */
const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

interface ChangeRow {
  id: string;
  action: string;
  resource_id: string | null;
  resource_ids: string[];
  owner_ids: string[];
  admin_bypass: boolean;
  user_id: string | null;
  details: Record<string, any>;
}

/** The rows about items written after row `afterId`, oldest first. */
async function itemRowsAfter(sql: postgres.Sql, afterId: string): Promise<ChangeRow[]> {
  return [
    ...(await sql<ChangeRow[]>`
      select id::text, action, resource_id, resource_ids, owner_ids, admin_bypass, user_id, details
      from audit_logs where resource_type = 'item' and id > ${afterId}::bigint order by audit_logs.id`),
  ];
}

const lastRowId = async (sql: postgres.Sql) => (await sql<{ id: string }[]>`select coalesce(max(id), 0)::text as id from audit_logs`)[0]!.id;

/** A session of its own, as an operator's psql would be, named so the row can say so. */
const session = (url: string, applicationName: string) =>
  postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: applicationName } });

describeOnPostgres('on a database its superuser changes', () => {
  let server: TestServer;
  let dba: postgres.Sql;
  beforeAll(async () => {
    server = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '100' });
    dba = session(server.database.url, 'psql');
  });
  afterAll(async () => {
    await dba.end();
    await server.stop();
  });

  it('records an API change exactly once, by the API', async () => {
    const before = await lastRowId(server.sql);
    const created = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'mine' } } })).createItem;
    dataOf(await server.graphql(UPDATE_ITEM, { as: alice, variables: { id: created.id, input: { title: 'renamed' } } }));
    dataOf(await server.graphql(DELETE_ITEM, { as: alice, variables: { id: created.id } }));

    const rows = await itemRowsAfter(server.sql, before);
    expect(rows.map((row) => [row.action, row.user_id, 'database' in row.details])).toEqual([
      ['create_item', 'alice', false],
      ['update_item', 'alice', false],
      ['delete_item', 'alice', false],
    ]);
  });

  it('records each statement made outside the API as one row naming every record it touched', async () => {
    const before = await lastRowId(server.sql);
    const [{ id: first }] = await dba`insert into items (owner_id, title) values ('alice', 'a1'), ('bob', 'b1') returning id::text`;
    const second = String(Number(first) + 1);
    await dba`update items set title = 'a1 (fixed)' where id = ${first}`;
    await dba`update items set owner_id = 'carol' where id = ${second}`;
    await dba`update items set description = 'none' where id = -1`;
    await dba`delete from items where id = ${first}`;

    const rows = await itemRowsAfter(server.sql, before);
    const dbaSession = { role: 'postgres', applicationName: 'psql', backendPid: expect.any(Number) };
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'create_item',
        resource_id: null,
        resource_ids: [first, second],
        owner_ids: ['alice', 'bob'],
        admin_bypass: true,
        user_id: null,
        details: {
          byRecord: {
            [first]: { after: { id: first, ownerId: 'alice', title: 'a1', description: null, createdAt: expect.any(String), updatedAt: expect.any(String) } },
            [second]: { after: expect.objectContaining({ id: second, ownerId: 'bob', title: 'b1' }) },
          },
          recordsByOwner: { alice: [first], bob: [second] },
          database: dbaSession,
        },
      }),
      expect.objectContaining({
        action: 'update_item',
        resource_id: first,
        owner_ids: ['alice'],
        details: { changes: { title: { from: 'a1', to: 'a1 (fixed)' } }, database: dbaSession },
      }),
      // Moving a record to another owner is recorded, whatever the declaration's `only`.
      expect.objectContaining({
        action: 'update_item',
        resource_id: second,
        owner_ids: ['bob', 'carol'],
        details: { changes: { ownerId: { from: 'bob', to: 'carol' } }, recordsByOwner: { bob: [second], carol: [second] }, database: dbaSession },
      }),
      // The UPDATE that matched nothing changed nothing, and left no row.
      expect.objectContaining({
        action: 'delete_item',
        resource_id: first,
        owner_ids: ['alice'],
        details: { before: expect.objectContaining({ id: first, title: 'a1 (fixed)' }), database: dbaSession },
      }),
    ]);
    // Snapshots keep dates as the API's rows do (Date.toISOString()).
    expect(rows[0]!.details.byRecord[first].after.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('shows owners the changes made to their records outside the API, and only theirs', async () => {
    const query = '{ myDataAccess(first: 10) { nodes { action source admin records fields changes } } }';
    const seen = async (owner: string) => dataOf(await server.graphql(query, { as: { sub: owner } })).myDataAccess.nodes;
    const bobs = await seen('bob');
    expect(bobs.map((entry: any) => [entry.action, entry.source, entry.admin, entry.records.length, entry.fields])).toEqual([
      ['update_item', 'DATABASE', 'DATABASE', 1, ['ownerId']],
      ['create_item', 'DATABASE', 'DATABASE', 1, []],
    ]);
    expect(bobs[0].changes).toEqual({ ownerId: { from: 'bob', to: 'carol' } });
    const carols = await seen('carol');
    expect(carols.map((entry: any) => [entry.action, entry.source, entry.changes])).toEqual([['update_item', 'DATABASE', { ownerId: { from: 'bob', to: 'carol' } }]]);
    // A statement about alice's and bob's records shows alice hers alone.
    const alices = await seen('alice');
    const created = alices.find((entry: any) => entry.action === 'create_item' && entry.source === 'DATABASE');
    expect(created.records).toHaveLength(1);
  });

  it('records a bulk UPDATE of 1,000 records as one row, and a TRUNCATE as one', async () => {
    await dba`insert into items (owner_id, title) select 'user' || (n % 7), 'bulk ' || n from generate_series(1, 1000) as n`;
    const before = await lastRowId(server.sql);
    const updated = await dba`update items set title = title || ' (archived)' where title like 'bulk %'`;
    expect(updated.count).toBe(1000);
    const remaining = await dba<{ id: string }[]>`select id::text from items order by items.id`;
    await dba`truncate items`;

    const [bulk, truncate, ...others] = await itemRowsAfter(server.sql, before);
    expect(others).toEqual([]);
    expect(bulk!.action).toBe('update_item');
    expect(bulk!.resource_ids).toHaveLength(1000);
    expect(Object.keys(bulk!.details.byRecord)).toHaveLength(1000);
    expect(bulk!.owner_ids).toEqual(['user0', 'user1', 'user2', 'user3', 'user4', 'user5', 'user6']);
    const [someId] = bulk!.resource_ids;
    expect(bulk!.details.byRecord[someId!].changes.title.to).toMatch(/^bulk \d+ \(archived\)$/);
    expect(truncate).toMatchObject({ action: 'delete_item', resource_ids: remaining.map((row) => row.id), details: { statement: 'TRUNCATE' } });
  });

  it('seals the database\'s rows in the same chain, and verify holds', async () => {
    await untilSealed(server.sql);
    const result = await verifyTrail(server.sql, { publicKey });
    expect(result).toMatchObject({ ok: true });
    expect(await independentChainProblems(server.sql, TEST_AUDIT_PUBLIC_KEY)).toEqual([]);
    const [{ sealed }] = await server.sql`select count(*)::int as sealed from audit_row_hashes h join audit_logs l on l.id = h.id where l.details ? 'database'`;
    expect(sealed).toBeGreaterThanOrEqual(6);
    expect((await independentRowHashes(server.sql)).size).toBeGreaterThan(0);
  });

  it('shows an admin where a change came from', async () => {
    const response = await server.graphql(
      `{ auditLogs(first: 3, filter: { source: DATABASE }) { nodes { action source database { role applicationName backendPid } ip userId } } }`,
      { as: admin, headers: { 'access-reason': 'incident INC-7' } },
    );
    const nodes = dataOf(response).auditLogs.nodes;
    expect(nodes).toHaveLength(3);
    for (const node of nodes) {
      expect(node).toMatchObject({ source: 'DATABASE', database: { role: 'postgres', applicationName: 'psql' }, userId: null });
    }
    const api = dataOf(await server.graphql(`{ auditLogs(first: 5, filter: { source: API, action: "create_item" }) { nodes { source database { role } } } }`, { as: admin }));
    expect(api.auditLogs.nodes).toEqual(expect.arrayContaining([{ source: 'API', database: null }]));
    expect(api.auditLogs.nodes.every((node: { source: string }) => node.source === 'API')).toBe(true);
  });

  it('records a superuser\'s change made with session_replication_role = replica, under which ordinary triggers do not fire', async () => {
    const before = await lastRowId(server.sql);
    const [{ id }] = await dba`insert into items (owner_id, title) values ('alice', 'replicated') returning id::text`;
    await dba.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update items set title = 'changed as a replica' where id = ${id}`;
    });
    expect((await itemRowsAfter(server.sql, before)).map((row) => [row.action, row.resource_id, row.details.changes?.title])).toEqual([
      ['create_item', id, undefined],
      ['update_item', id, { from: 'replicated', to: 'changed as a replica' }],
    ]);
  });

  it('will not start while a backstop trigger is disabled or fires only in the origin role, and says which', async () => {
    const config = loadConfig(testServerEnv(server.database));
    try {
      await dba`alter table items disable trigger items_audit_backstop_update`;
      expect(await backstopProblems(server.sql, [itemResource])).toEqual(["the update trigger of item's audit backstop is disabled"]);
      await expect(startServer(config, createLogger('silent'))).rejects.toThrow(/the update trigger of item's audit backstop is disabled/);
      // Plain ENABLE: skipped by any session that sets session_replication_role = replica.
      await dba`alter table items enable trigger items_audit_backstop_update`;
      expect(await backstopProblems(server.sql, [itemResource])).toEqual([
        "the update trigger of item's audit backstop is not enabled ALWAYS: under session_replication_role = replica it would not fire",
      ]);
    } finally {
      await dba`alter table items enable always trigger items_audit_backstop_update`;
    }
    expect(await backstopProblems(server.sql, [itemResource])).toEqual([]);
  });

  it('will not start while a trigger every backstop relies on is off in a replica session or missing', async () => {
    const config = loadConfig(testServerEnv(server.database));
    const [partition] = await dba<{ name: string }[]>`select inhrelid::regclass::text as name from pg_inherits where inhparent = 'audit_logs'::regclass limit 1`;
    try {
      // On one partition only: the trigger fires there, not on the partitioned table.
      await dba.unsafe(`alter table ${partition!.name} enable trigger audit_logs_stamp_server_values`);
      expect(await backstopProblems(server.sql, [itemResource])).toEqual([
        "the audit trail's stamping trigger is not enabled ALWAYS: under session_replication_role = replica it would not fire",
      ]);
      await dba.unsafe(`alter table ${partition!.name} enable always trigger audit_logs_stamp_server_values`);
      await dba`alter table audit_backstop_unclaimed disable trigger audit_backstop_unclaimed_recorded`;
      await expect(startServer(config, createLogger('silent'))).rejects.toThrow(/the audit backstop's check that every unclaimed change was recorded is disabled/);
    } finally {
      await dba.unsafe(`alter table ${partition!.name} enable always trigger audit_logs_stamp_server_values`);
      await dba`alter table audit_backstop_unclaimed enable always trigger audit_backstop_unclaimed_recorded`;
    }
    expect(await backstopProblems(server.sql, [itemResource])).toEqual([]);
  });

  it('has audit:verify name the records changed with the backstop switched off and on again', async () => {
    await untilSealed(server.sql);
    expect(await verifyTrail(server.sql, { publicKey, records: [itemResource] })).toMatchObject({ ok: true, records: expect.any(Number) });
    const ids = [];
    for (const title of ['renamed', 'deleted']) {
      const created = dataOf(await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title } } })).createItem;
      ids.push(rawIdOf(created.id));
    }
    const [renamed, deleted] = ids;
    // As the owner or a superuser can: no trigger fires, and the catalog shows nothing afterwards.
    await withBackstopOff(dba, 'items', async (tx) => {
      await tx`update items set title = 'renamed unseen' where id = ${renamed!}`;
      await tx`delete from items where id = ${deleted!}`;
      await tx`insert into items (owner_id, title) values ('alice', 'inserted unseen')`;
    });
    expect(await backstopProblems(server.sql, [itemResource])).toEqual([]);
    await untilSealed(server.sql);
    expect(await verifyTrail(server.sql, { publicKey, records: [itemResource] })).toEqual({
      ok: false,
      record: `item ${renamed}`,
      reason: 'its title differs from what the trail last recorded: changed where nothing recorded it, as with its audit backstop switched off (2 more records likewise)',
      warnings: [],
    });
    const verified = await run(VERIFY_CLI, ['--public-key', TEST_AUDIT_PUBLIC_KEY], { DATABASE_URL: server.database.url });
    expect(verified).toMatchObject({ code: 1, stdout: expect.stringMatching(new RegExp(`^FAILED: item ${renamed}: its title differs`)) });

    // Put back as the trail has them, one by one, until only the inserted record is left.
    await withBackstopOff(dba, 'items', (tx) => tx`update items set title = 'renamed' where id = ${renamed!}`);
    expect(await verifyTrail(server.sql, { publicKey, records: [itemResource] })).toMatchObject({
      record: `item ${deleted}`,
      reason: expect.stringMatching(/^it was deleted, but the trail holds no deletion of it: .* \(1 more records likewise\)$/),
    });
    await withBackstopOff(dba, 'items', (tx) => tx`insert into items (id, owner_id, title) overriding system value values (${deleted!}, 'alice', 'deleted')`);
    expect(await verifyTrail(server.sql, { publicKey, records: [itemResource] })).toMatchObject({
      record: expect.stringMatching(/^item \d+$/),
      reason: 'the trail holds no change of this item, which was written after the trail began: changed where nothing recorded it, as with its audit backstop switched off',
    });
  });
});

describeOnPostgres('roles: the owner, the serving role and another service', () => {
  let database: RoleDatabase;
  let serving: TestServingRole;
  const otherService = uniqueRoleName('service');
  beforeAll(async () => {
    database = await createRoleDatabase();
    // The owner migrates and makes the serving role, as in production (docs/operations.md).
    await database.admin.unsafe(`alter role "${database.role}" createrole`);
    serving = await createTestServingRole(database.url);
    await database.admin.unsafe(`create role "${otherService}" login`);
    // A second service allowed to change items, and nothing of the trail.
    await database.admin.unsafe(`grant select, insert, update on items to "${otherService}"`);
  });
  afterAll(async () => {
    await database?.drop();
    // Roles belong to the cluster: dropped through the test's own connection, the owner being gone.
    await dropRoles(process.env.DATABASE_URL!, ...(serving ? [serving.name] : []), otherService);
  });

  const as = (role: string) => {
    const url = new URL(database.url);
    url.username = role;
    return session(url.toString(), `${role} session`);
  };

  it('records the owner\'s and another service\'s changes, naming the role', async () => {
    for (const role of [database.role, otherService]) {
      const sql = as(role);
      try {
        const before = await lastRowId(database.admin);
        await sql`insert into items (owner_id, title) values ('alice', ${`by ${role}`})`;
        const [row] = await itemRowsAfter(database.admin, before);
        expect(row).toMatchObject({ action: 'create_item', details: { database: { role, applicationName: `${role} session` } } });
      } finally {
        await sql.end();
      }
    }
  });

  it('records the owner\'s statements one row each, and seals and verifies them', async () => {
    const owner = as(database.role);
    try {
      const before = await lastRowId(database.admin);
      await owner`insert into items (owner_id, title) select 'user' || (n % 3), 'owned ' || n from generate_series(1, 1000) as n`;
      await owner`update items set title = title || ' (bulk)' where title like 'owned %'`;
      const [{ id }] = await owner<{ id: string }[]>`select min(id)::text as id from items where title like 'owned %'`;
      await owner`update items set description = 'one' where id = ${id}`;
      await owner`delete from items where id = ${id}`;
      const copy = await owner`copy items (owner_id, title) from stdin`.writable();
      await new Promise((resolve, reject) => copy.end('alice\tcopied\n', (error?: Error | null) => (error ? reject(error) : resolve(undefined))));
      const [{ count }] = await owner<{ count: number }[]>`select count(*)::int as count from items`;
      await owner`truncate items`;
      const rows = await itemRowsAfter(database.admin, before);
      expect(rows.map((row) => [row.action, row.resource_id === null ? row.resource_ids.length : 1, row.details.database.role, row.details.statement ?? null])).toEqual([
        ['create_item', 1000, database.role, null],
        ['update_item', 1000, database.role, null],
        ['update_item', 1, database.role, null],
        ['delete_item', 1, database.role, null],
        ['create_item', 1, database.role, null],
        ['delete_item', count, database.role, 'TRUNCATE'],
      ]);
    } finally {
      await owner.end();
    }
    const signingKey = createPrivateKey({ key: Buffer.from(TEST_AUDIT_SIGNING_KEY, 'base64'), format: 'der', type: 'pkcs8' });
    await sealOnce(database.admin, { signingKey, holder: 'test', leaseMs: 60_000 });
    expect(await verifyTrail(database.admin, { publicKey })).toMatchObject({ ok: true });
    expect(await independentChainProblems(database.admin, TEST_AUDIT_PUBLIC_KEY)).toEqual([]);
  });

  it('does not let the serving role switch the backstop off', async () => {
    const sql = as(serving.name);
    try {
      await expect(sql`alter table items disable trigger items_audit_backstop_update`).rejects.toMatchObject({ code: '42501' });
      await expect(sql`drop trigger items_audit_backstop_update on items`).rejects.toMatchObject({ code: '42501' });
      await expect(sql`set session_replication_role = replica`).rejects.toMatchObject({ code: '42501' });
      const [item] = await sql<{ id: string }[]>`insert into items (owner_id, title) values ('alice', 'claimed') returning id::text`;
      const claim = (statement: string) => createHash('md5').update(statement).digest('hex');
      const before = await lastRowId(database.admin);
      // Claiming a statement as the API's, as the API does, without the API's row of that change:
      // here a refused view of the record, then the record deleted. It does not commit.
      const deletion = `delete from items where id = ${item!.id}`;
      await expect(
        sql.begin(async (tx) => {
          await tx`select set_config('audit.api_change', ${claim(deletion)}, true)`;
          await tx`insert into audit_logs (action, resource_type, resource_id, owner_ids, outcome) values ('view_item', 'item', ${item!.id}, ${['alice']}, 'denied')`;
          await tx.unsafe(deletion);
        }),
      ).rejects.toMatchObject({ code: '42501' });
      expect(await sql`select title from items where id = ${item!.id}`).toEqual([{ title: 'claimed' }]);
      expect(await itemRowsAfter(database.admin, before)).toEqual([]);
      // Claiming from inside the very statement that makes the change comes too late: its changes
      // were marked as unclaimed as they happened. A claim that does not match its text leaves the
      // change recorded as made in the database; one that does is refused, since the API claims
      // its statements before they run, never within them.
      await sql.unsafe(`update items set title = 'renamed in RETURNING' where id = ${item!.id} returning set_config('audit.api_change', 'on', true)`);
      expect((await itemRowsAfter(database.admin, before)).map((row) => [row.action, row.details.changes.title.to, row.details.database.role])).toEqual([
        ['update_item', 'renamed in RETURNING', serving.name],
      ]);
      for (const claimedLate of [
        `with changed as (update items set title = 'renamed in a CTE' where id = ${item!.id} returning id)
          select set_config('audit.api_change', md5(current_query()), true) from (select count(*) from changed) as done`,
        `update items set title = 'claimed after the fact' where id = ${item!.id} returning set_config('audit.api_change', md5(current_query()), true)`,
      ]) {
        await expect(sql.unsafe(claimedLate)).rejects.toMatchObject({ code: '42501' });
      }
      expect(await database.admin`select title from items where id = ${item!.id}`).toEqual([{ title: 'renamed in RETURNING' }]);
      // Nor may it pass a row of its own off as one the database wrote.
      await expect(
        sql`insert into audit_logs (action, outcome, details) values ('update_item', 'success', ${sql.json({ database: { role: 'dba', applicationName: 'psql', backendPid: 1 } })})`,
      ).rejects.toMatchObject({ code: '42501' });
    } finally {
      await sql.end();
    }
    expect(await backstopProblems(database.admin, [itemResource])).toEqual([]);
  });

  it('records every change of a statement that fires more than one kind of trigger, or of statements sharing one start (nested, in a DO block, in one query string)', async () => {
    const sql = as(serving.name);
    const naming = async (id: string) =>
      (await database.admin<{ action: string; role: string | null }[]>`
        select action, details -> 'database' ->> 'role' as role from audit_logs
        where resource_type = 'item' and (resource_id = ${id} or ${id} = any (resource_ids)) order by id`).map(({ action, role }) => `${action} by ${role ?? 'the API'}`);
    const seed = async (title: string) => (await sql<{ id: string }[]>`insert into items (owner_id, title) values ('alice', ${title}) returning id::text`)[0]!.id;
    const seeded = (by = serving.name) => `create_item by ${by}`;
    try {
      // INSERT … ON CONFLICT DO UPDATE fires the INSERT and the UPDATE statement triggers: each records its own.
      const [upserted] = await sql<{ id: string }[]>`insert into items (owner_id, title) values ('alice', 'upserted') on conflict (id) do update set title = excluded.title returning id::text`;
      expect(await naming(upserted!.id)).toEqual([seeded()]);
      await sql`insert into items (id, owner_id, title) overriding system value values (${upserted!.id}, 'alice', 'upserted again') on conflict (id) do update set title = excluded.title`;
      expect(await naming(upserted!.id)).toEqual([seeded(), `update_item by ${serving.name}`]);
      // MERGE with an update and an insert.
      const merged = await seed('to merge');
      await sql`merge into items t using (values (${merged}::bigint, 'merged'), (0::bigint, 'merged in')) s(id, title) on t.id = s.id
        when matched then update set title = s.title when not matched then insert (owner_id, title) values ('alice', s.title)`;
      const [mergedIn] = await database.admin<{ id: string }[]>`select id::text from items where title = 'merged in'`;
      expect([await naming(merged), await naming(mergedIn!.id)]).toEqual([[seeded(), `update_item by ${serving.name}`], [seeded()]]);
      // A DELETE in a CTE beside an UPDATE.
      const [gone, kept] = [await seed('to delete'), await seed('kept')];
      await sql.unsafe(`with d as (delete from items where id = ${gone} returning id) update items set title = 'kept, renamed' where id = ${kept}`);
      expect([await naming(gone), await naming(kept)]).toEqual([[seeded(), `delete_item by ${serving.name}`], [seeded(), `update_item by ${serving.name}`]]);
      // A statement nested in another (here a function of the serving role's own, in pg_temp,
      // called in RETURNING) shares its start and its kind of change: it takes no mark of the
      // outer one's records, and both are recorded.
      await sql`create function pg_temp.nested_update() returns int language plpgsql as $$ begin update items set title = title where false; return 1; end $$`;
      const outer = await seed('outer');
      await sql`update items set title = 'changed around a nested statement' where id = ${outer} returning pg_temp.nested_update()`;
      expect(await naming(outer)).toEqual([seeded(), `update_item by ${serving.name}`]);
      const [decoy, hidden] = [await seed('decoy'), await seed('hidden')];
      await sql.unsafe(`create function pg_temp.decoy_update() returns int language plpgsql as $$ begin update items set title = 'decoy changed' where id = ${decoy}; return 1; end $$`);
      await sql`update items set title = 'changed beside a decoy' where id = ${hidden} returning pg_temp.decoy_update()`;
      expect([await naming(decoy), await naming(hidden)]).toEqual([[seeded(), `update_item by ${serving.name}`], [seeded(), `update_item by ${serving.name}`]]);
      // Nor a statement run by a trigger of a temporary table that the changing statement's CTE
      // writes, which fires between its marks and its own trigger: it takes only its records' marks.
      await sql`create temp table written (id bigint)`;
      await sql`create function pg_temp.nested_in_trigger() returns trigger language plpgsql as $$ begin update items set title = title where false; return null; end $$`;
      await sql`create trigger nested after insert on written for each row execute function pg_temp.nested_in_trigger()`;
      const [first, second] = [await seed('first'), await seed('second')];
      await sql.unsafe(`with changed as (update items set title = 'changed before a trigger' where id in (${first}, ${second}) returning id) insert into written select id from changed`);
      expect([await naming(first), await naming(second)]).toEqual([
        [seeded(), `update_item by ${serving.name}`],
        [seeded(), `update_item by ${serving.name}`],
      ]);
      // A record changed again by a statement run inside the one changing it would take its mark: refused.
      const twice = await seed('twice');
      await sql.unsafe(`create or replace function pg_temp.nested_in_trigger() returns trigger language plpgsql as $$ begin update items set title = 'again' where id = ${twice}; return null; end $$`);
      await expect(
        sql.unsafe(`with changed as (update items set title = 'once' where id = ${twice} returning id) insert into written select id from changed`),
      ).rejects.toMatchObject({ code: '42501' });
      expect(await database.admin`select title from items where id = ${twice}`).toEqual([{ title: 'twice' }]);
      // A claimed statement run inside a change of the same record, claimed as it changes it and
      // no longer by its end, sees the record as the outer statement left it: it takes none of
      // that one's marks, and the outer change is recorded.
      const unclaimedLate = await seed('unclaimed late');
      await sql.unsafe(`create or replace function pg_temp.nested_in_trigger() returns trigger language plpgsql as $$ declare x text; begin
          perform set_config('audit.api_change', md5(current_query()), true);
          update items set title = title where id = new.id returning set_config('audit.api_change', '', true) into x;
          insert into audit_logs (action, resource_type, resource_id, owner_ids, outcome) values ('update_item', 'item', new.id::text, array['alice'], 'success');
          return null;
        end $$`);
      await sql.unsafe(`with changed as (update items set title = 'evil' where id = ${unclaimedLate} returning id) insert into written select id from changed`);
      const [outerRow] = await database.admin<{ to: string }[]>`
        select details -> 'changes' -> 'title' ->> 'to' as to from audit_logs where resource_id = ${unclaimedLate} and details ? 'database' and action = 'update_item' and details -> 'changes' ? 'title'`;
      expect(outerRow).toEqual({ to: 'evil' });
      // A row's mark does not follow the session's settings, which the session may change between
      // the mark and its statement's trigger so that another row prints as the marked one did.
      const marked = await seed('marked');
      const fingerprint = (timeZone: string, shift: string) =>
        sql.begin(async (tx) => {
          await tx.unsafe(`set local "DateStyle" = 'Postgres, MDY'; set local "TimeZone" = '${timeZone}'`);
          const [row] = await tx.unsafe<{ mark: string; text: string }[]>(
            `select audit_backstop_fingerprint(i) as mark, i::text as text from (select id, owner_id, title, description, created_at - interval '${shift}' as created_at, updated_at - interval '${shift}' as updated_at from items where id = ${marked}) i`,
          );
          return row!;
        });
      const [asMarked, shiftedAlike] = [await fingerprint('FOO+0', '0 hours'), await fingerprint('FOO-1', '1 hour')];
      expect(shiftedAlike.text).toBe(asMarked.text);
      expect(shiftedAlike.mark).not.toBe(asMarked.mark);
      expect((await fingerprint('UTC', '0 hours')).mark).toBe(asMarked.mark);
      // A claimed change is covered only by a row of the API's, not by the database's row of an
      // unclaimed change of the same record in the same transaction.
      const covered = await seed('covered');
      const claimedBeside = `update items set title = 'hidden behind a backstop row' where id = ${covered}`;
      await expect(
        sql.begin(async (tx) => {
          await tx.unsafe(`update items set title = 'shown' where id = ${covered}`);
          await tx`select set_config('audit.api_change', ${createHash('md5').update(claimedBeside).digest('hex')}, true)`;
          await tx.unsafe(claimedBeside);
        }),
      ).rejects.toMatchObject({ code: '42501' });
      expect(await database.admin`select title from items where id = ${covered}`).toEqual([{ title: 'covered' }]);
      // Statements of one DO block, or of one query string, share their start and their text: one
      // claiming itself in RETURNING after its change, then another taking its place, is refused.
      for (const [statements, run] of [
        ['a DO block', (id: string) => sql.unsafe(`do $$ declare x text; begin
            update items set title = 'in a DO block' where id = ${id} returning set_config('audit.api_change', md5(current_query()), true) into x;
            perform set_config('audit.api_change', '', true);
            update items set title = title where false;
          end $$`)],
        ['one query string', (id: string) => sql.unsafe(`update items set title = 'in one query string' where id = ${id} returning set_config('audit.api_change', md5(current_query()), true);
            select set_config('audit.api_change', '', true); update items set title = title where false`).simple()],
      ] as const) {
        const id = await seed(statements);
        await expect(run(id)).rejects.toMatchObject({ code: '42501' });
        expect(await database.admin`select title from items where id = ${id}`).toEqual([{ title: statements }]);
      }
      // A statement run inside the change that claims itself, changing the same record, would take
      // the outer statement's mark and record its own, empty, change: refused.
      const claimedInside = await seed('claimed inside');
      await sql.unsafe(`create or replace function pg_temp.nested_in_trigger() returns trigger language plpgsql as $$ begin
          perform set_config('audit.api_change', md5(current_query()), true);
          update items set title = title where id = new.id;
          insert into audit_logs (action, resource_type, resource_id, owner_ids, outcome) values ('update_item', 'item', new.id::text, array['alice'], 'success');
          return null;
        end $$`);
      await expect(
        sql.unsafe(`with changed as (update items set title = 'hidden' where id = ${claimedInside} returning id) insert into written select id from changed`),
      ).rejects.toMatchObject({ code: '42501' });
      expect(await database.admin`select title from items where id = ${claimedInside}`).toEqual([{ title: 'claimed inside' }]);
    } finally {
      await sql.end();
    }
  });

  it('serves production as the serving role, recording its API changes once', async () => {
    const production = await startTestServer({ NODE_ENV: 'production', ADMIN_ACCESS_REASON: 'optional' });
    try {
      const before = await lastRowId(production.sql);
      dataOf(await production.graphql(CREATE_ITEM, { as: alice, variables: { input: { title: 'served' } } }));
      const rows = await itemRowsAfter(production.sql, before);
      expect(rows.map((row) => [row.action, row.user_id, 'database' in row.details])).toEqual([['create_item', 'alice', false]]);
    } finally {
      await production.stop();
    }
  });
});

import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import postgres from 'postgres';
import { signToken } from '../../src/auth/token-signer';
import { MIGRATIONS_FOLDER } from '../../src/db/migrate';
import { scramSha256Secret } from '../../src/db/scram';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { graphql, postGraphQL } from '../support/graphql-http';
import { killAll, MAIN, ROOT, run, startApi, stopApi, type Exit, type RunningApi } from '../support/node-process';
import { dropRoles, uniqueRoleName } from '../support/serving-role';
import { TEST_AUDIT_SIGNING_KEY } from '../support/test-server';

/**
 * The role the API serves as cannot rewrite history. The owner role migrates (`npm run
 * db:migrate`), `npm run db:create-serving-role` makes the serving role, the built server runs in
 * production as that role, and PostgreSQL itself refuses every way that role could change, remove
 * or back-date audit rows.
 */

jest.setTimeout(120_000);
afterAll(killAll);

const MIGRATE_CLI = path.join(ROOT, 'dist/cli/migrate.js');
const CREATE_ROLE_CLI = path.join(ROOT, 'dist/cli/create-serving-role.js');
const JWT_SECRET = 'database-roles-test-secret-0123456789abcdef';
const SERVING_PASSWORD = 'serving-role-password-0123456789';

describe('the SCRAM secret sent instead of the password', () => {
  // RFC 7677, section 3: user "user", password "pencil". PostgreSQL checks a client's proof and
  // signs its answer with the StoredKey and ServerKey of the secret, exactly as done here.
  const AUTH_MESSAGE =
    'n=user,r=rOprNGfwEbeRWgbNEkqO,' +
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,' +
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const CLIENT_PROOF = 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
  const SERVER_SIGNATURE = '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

  it('accepts the RFC 7677 client proof and yields its server signature', () => {
    const secret = scramSha256Secret('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const match = /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$([^:]+):(.+)$/.exec(secret);
    expect(match).not.toBeNull();
    const [storedKey, serverKey] = [Buffer.from(match![1]!, 'base64'), Buffer.from(match![2]!, 'base64')];

    const clientSignature = createHmac('sha256', storedKey).update(AUTH_MESSAGE).digest();
    const clientKey = Buffer.from(CLIENT_PROOF, 'base64').map((byte, i) => byte ^ clientSignature[i]!);
    expect(createHash('sha256').update(clientKey).digest()).toEqual(storedKey);
    expect(createHmac('sha256', serverKey).update(AUTH_MESSAGE).digest('base64')).toBe(SERVER_SIGNATURE);
  });
});

// Roles need a real PostgreSQL: the embedded PGlite has a single (superuser) role.
const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('separate owner and serving roles', () => {
  let database: TestDatabase;
  let admin: postgres.Sql;
  let asServing: postgres.Sql;
  let api: RunningApi | undefined;
  const roles = { owner: uniqueRoleName('owner'), serving: uniqueRoleName('serving'), member: uniqueRoleName('member') };
  const urls = { owner: '', serving: '', member: '' };

  /** `database.url` logged in as `role`. */
  const urlAs = (role: string, databaseUrl = database.url) => {
    const url = new URL(databaseUrl);
    url.username = role;
    return url.toString();
  };
  /** The test's own connection is a superuser's. */
  const superuser = () => new URL(database.url).username;
  const productionEnv = (env: Record<string, string>) => ({ NODE_ENV: 'production', JWT_SECRET, AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY, PORT: '0', ...env });

  beforeAll(async () => {
    database = await createTestDatabase();
    admin = postgres(database.url, { max: 1, onnotice: () => {} });
    // The owner owns the database, so it may create the drizzle schema and tables in public.
    await admin.unsafe(`create role "${roles.owner}" login createrole`);
    await admin.unsafe(`alter database "${new URL(database.url).pathname.slice(1)}" owner to "${roles.owner}"`);
    await admin.unsafe(`create role "${roles.member}" login in role "${roles.owner}"`);
    for (const role of Object.keys(roles) as (keyof typeof roles)[]) urls[role] = urlAs(roles[role]);
    asServing = postgres(urls.serving, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    if (api) await stopApi(api);
    await asServing?.end();
    await admin?.end();
    await database?.drop();
    // Serving first: PostgreSQL records that the owner (CREATEROLE) granted it its grants.
    if (database) await dropRoles(database.url, roles.serving, roles.member, roles.owner);
  });

  /** The application's tables and their owners; the months of audit_logs count as one. */
  const tablesAndOwners = (sql: postgres.Sql) =>
    sql`select tablename, string_agg(distinct tableowner, ',') as owners from (
          select case when tablename ~ '^audit_logs(_[0-9]{4}_[0-9]{2})?$' then 'audit_logs and its months' else tablename end as tablename, tableowner
          from pg_tables where schemaname = 'public') t
        group by tablename order by tablename`;
  const OWNED_BY_OWNER = () => [
    { tablename: 'audit_backstop_unclaimed', owners: roles.owner },
    { tablename: 'audit_logs and its months', owners: roles.owner },
    { tablename: 'audit_row_hashes', owners: roles.owner },
    { tablename: 'audit_sealer_lease', owners: roles.owner },
    { tablename: 'audit_seals', owners: roles.owner },
    { tablename: 'audit_stats_daily', owners: roles.owner },
    { tablename: 'audit_stats_hourly', owners: roles.owner },
    { tablename: 'audit_stats_user_daily', owners: roles.owner },
    { tablename: 'items', owners: roles.owner },
  ];

  const ownerEnv = () => ({ MIGRATION_DATABASE_URL: urls.owner });
  const runCreateServingRole = (role = roles.serving) =>
    run(CREATE_ROLE_CLI, ['--role', role], { ...ownerEnv(), SERVING_ROLE_PASSWORD: SERVING_PASSWORD });

  describe('npm run db:migrate and npm run db:create-serving-role', () => {
    it('migrates as the owner role, which then owns every table', async () => {
      const journal = JSON.parse(await readFile(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'));
      const migrations = journal.entries.length;

      expect(await run(MIGRATE_CLI, [], ownerEnv())).toMatchObject({
        code: 0,
        stdout: `applied ${migrations} migration(s); ${migrations} in total\n`,
        stderr: '',
      });
      expect(await run(MIGRATE_CLI, [], ownerEnv())).toMatchObject({ code: 0, stdout: `applied 0 migration(s); ${migrations} in total\n` });
      expect(await tablesAndOwners(admin)).toEqual(OWNED_BY_OWNER());
    });

    it('creates the serving role with exactly the privileges the API needs', async () => {
      const created = await runCreateServingRole();
      expect(created).toMatchObject({ code: 0, stderr: '' });
      expect(created.stdout).toBe(
        `created role "${roles.serving}" with exactly: USAGE on the schema of audit_logs; SELECT, INSERT on audit_logs; ` +
          'USAGE on the sequence of audit_logs.id; EXECUTE on audit_logs_ensure_partitions() and audit_logs_refresh_statistics(); ' +
          'SELECT, INSERT, UPDATE, DELETE on items; SELECT on audit_seals and audit_row_hashes; ' +
          'EXECUTE on audit_seal_begin(), audit_seal_row_hashes() and audit_seal_append(); ' +
          'SELECT on audit_stats_hourly, audit_stats_daily and audit_stats_user_daily\n',
      );
      expect(await privilegesOf(roles.serving)).toEqual(SERVING_PRIVILEGES);
    });

    it("refused by PostgreSQL, says so in one line that holds no SQL (run as the serving role, which may not migrate)", async () => {
      const refused = await run(MIGRATE_CLI, [], { MIGRATION_DATABASE_URL: urls.serving });
      expect(refused).toMatchObject({ code: 1, stdout: '' });
      expect(refused.stderr).toMatch(/^PostgreSQL refused: permission denied for [a-z]+ [^\n]+\n$/);
      expect(refused.stderr).not.toMatch(/create|select|insert|params/i);
    });

    it('stores only a SCRAM secret of the password', async () => {
      const [row] = await admin<{ rolpassword: string }[]>`select rolpassword from pg_authid where rolname = ${roles.serving}`;
      expect(row!.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
      expect(row!.rolpassword).not.toContain(SERVING_PASSWORD);
    });

    it('run again, takes back whatever else the role was granted on the tables', async () => {
      await admin.unsafe(`grant update, delete, truncate, trigger on audit_logs to "${roles.serving}"`);
      await admin.unsafe(`grant create on schema public to "${roles.serving}"`);
      await admin.unsafe(`grant update (action) on audit_logs to "${roles.serving}"`);

      const again = await runCreateServingRole();
      expect(again).toMatchObject({ code: 0, stderr: '' });
      expect(again.stdout).toMatch(new RegExp(`^updated role "${roles.serving}" with exactly: `));
      expect(await privilegesOf(roles.serving)).toEqual(SERVING_PRIVILEGES);
    });

    it.each([
      ['a superuser', () => superuser(), 'is a superuser (or can become one)'],
      ['the owner role', () => roles.owner, 'owns audit_logs'],
      ['a member of the owner role', () => roles.member, `is a member of "${roles.owner}", the owner of audit_logs`],
    ])('refuses to make %s the serving role', async (_who, role, reason) => {
      const before = await privilegesOf(role());
      const refused = await runCreateServingRole(role());
      expect({ code: refused.code, stdout: refused.stdout, stderr: refused.stderr }).toEqual({
        code: 1,
        stdout: '',
        stderr: `the database role "${role()}" ${reason}, so it could rewrite the audit trail; choose another role for serving\n`,
      });
      expect(await privilegesOf(role())).toEqual(before);
    });
  });

  describe('the serving role cannot rewrite history', () => {
    /** The partition this month's rows go to. */
    const THIS_MONTH = `audit_logs_${new Date().toISOString().slice(0, 7).replace('-', '_')}`;

    beforeAll(async () => {
      // Rows to protect, written the ordinary way.
      await asServing`insert into audit_logs (action, outcome) select 'existing_' || g, 'success' from generate_series(1, 5) g`;
    });

    /** Everything an attack could change: the rows, the table's persistence and its triggers. */
    const trailState = async () =>
      (
        await admin`
          select (select count(*)::int from audit_logs) as rows,
                 (select md5(string_agg(t::text, '|' order by id)) from audit_logs t) as digest,
                 (select relpersistence from pg_class where oid = 'audit_logs'::regclass) as persistence,
                 (select string_agg(tgname || ':' || tgenabled::text, ',' order by tgname)
                  from pg_trigger where tgrelid = 'audit_logs'::regclass and not tgisinternal) as triggers`
      )[0];

    it('starts from protected rows and enabled triggers', async () => {
      expect(await trailState()).toEqual({
        rows: 5,
        digest: expect.any(String),
        persistence: 'p',
        triggers: 'audit_logs_no_truncate:O,audit_logs_no_update_or_delete:O,audit_logs_stamp_server_values:A',
      });
    });

    it.each([
      ['ALTER TABLE … DISABLE TRIGGER', 'alter table audit_logs disable trigger audit_logs_no_update_or_delete', 'must be owner of table audit_logs'],
      ['ALTER TABLE … DISABLE TRIGGER ALL', 'alter table audit_logs disable trigger all', 'must be owner of table audit_logs'],
      ['DROP TRIGGER', 'drop trigger audit_logs_stamp_server_values on audit_logs', 'must be owner of relation audit_logs'],
      [
        'CREATE TRIGGER',
        'create trigger zz_forge before insert on audit_logs for each row execute function audit_logs_reject_change()',
        'permission denied for table audit_logs',
      ],
      [
        'replacing a trigger function',
        'create or replace function audit_logs_stamp_server_values() returns trigger language plpgsql as $$ begin return new; end $$',
        'permission denied for schema public',
      ],
      [
        'DROP FUNCTION … CASCADE (and its trigger with it)',
        'drop function audit_logs_stamp_server_values() cascade',
        'must be owner of function audit_logs_stamp_server_values',
      ],
      ['DROP TABLE', 'drop table audit_logs', 'must be owner of table audit_logs'],
      ['DROP TABLE of a month', `drop table ${THIS_MONTH}`, `must be owner of table ${THIS_MONTH}`],
      ['DETACH PARTITION', `alter table audit_logs detach partition ${THIS_MONTH}`, 'must be owner of table audit_logs'],
      ['TRUNCATE of a month', `truncate ${THIS_MONTH}`, `permission denied for table ${THIS_MONTH}`],
      ['DELETE from a month', `delete from ${THIS_MONTH}`, `permission denied for table ${THIS_MONTH}`],
      ['INSERT into a month directly', `insert into ${THIS_MONTH} (id, action, outcome) values (1, 'forged', 'success')`, `permission denied for table ${THIS_MONTH}`],
      [
        'creating months at will',
        "select audit_logs_create_partitions(timestamptz '2001-01-01', timestamptz '2001-02-01')",
        'permission denied for function audit_logs_create_partitions',
      ],
      ['ALTER TABLE … SET UNLOGGED', 'alter table audit_logs set unlogged', 'must be owner of table audit_logs'],
      ['UPDATE', "update audit_logs set action = 'rewritten'", 'permission denied for table audit_logs'],
      ['DELETE', 'delete from audit_logs', 'permission denied for table audit_logs'],
      ['TRUNCATE', 'truncate audit_logs', 'permission denied for table audit_logs'],
      ['turning triggers off for the session', 'set session_replication_role = replica', 'permission denied to set parameter'],
      ['rewinding the id sequence', "select setval(pg_get_serial_sequence('audit_logs', 'id'), 1)", 'permission denied for sequence'],
    ])('%s is refused and changes nothing', async (_attack, statement, message) => {
      const before = await trailState();
      await expect(asServing.unsafe(statement)).rejects.toMatchObject({ code: '42501', message: expect.stringContaining(message) });
      expect(await trailState()).toEqual(before);
    });

    it.each([
      ['UPDATE of a seal', "update audit_seals set hash = 'rewritten'", 'permission denied for table audit_seals'],
      ['DELETE of a seal', 'delete from audit_seals', 'permission denied for table audit_seals'],
      ['TRUNCATE of the seals', 'truncate audit_seals', 'permission denied for table audit_seals'],
      ['DISABLE TRIGGER on the seals', 'alter table audit_seals disable trigger all', 'must be owner of table audit_seals'],
      ['UPDATE of a row hash', "update audit_row_hashes set row_hash = '\\x00'", 'permission denied for table audit_row_hashes'],
      ['DELETE of a row hash', 'delete from audit_row_hashes', 'permission denied for table audit_row_hashes'],
      ['TRUNCATE of the row hashes', 'truncate audit_row_hashes', 'permission denied for table audit_row_hashes'],
      ['INSERT of counts', "insert into audit_stats_hourly values (now(), 'update_item', 'success', null, null, false, 1000)", 'permission denied for table audit_stats_hourly'],
      ['UPDATE of counts', 'update audit_stats_daily set count = count + 1', 'permission denied for table audit_stats_daily'],
      ['UPDATE of a user\'s counts', 'update audit_stats_user_daily set count = 0', 'permission denied for table audit_stats_user_daily'],
      ['DELETE of counts', 'delete from audit_stats_hourly', 'permission denied for table audit_stats_hourly'],
      ['TRUNCATE of counts', 'truncate audit_stats_daily', 'permission denied for table audit_stats_daily'],
      ['counting a window again', "select audit_stats_roll_up('0', '1000')", 'permission denied for function audit_stats_roll_up'],
      ['INSERT of a seal', "insert into audit_seals values (1000, '0', '1', 0, 0, 0, '', '', now(), '', '', '')", 'permission denied for table audit_seals'],
      ['INSERT of a row hash', "insert into audit_row_hashes values (1, 1, '\\x00')", 'permission denied for table audit_row_hashes'],
      ['taking the sealer lease by hand', 'update audit_sealer_lease set expires_at = \'infinity\'', 'permission denied for table audit_sealer_lease'],
    ])('%s is refused', async (_attack, statement, message) => {
      await expect(asServing.unsafe(statement)).rejects.toMatchObject({ code: '42501', message: expect.stringContaining(message) });
    });

    /** A seal's arguments for audit_seal_append, continuing an empty chain unless told otherwise. */
    const sealArguments = (change: { sequence?: number; horizon?: string; previousHash?: string } = {}) =>
      `${change.sequence ?? 1}, '0', '${change.horizon ?? '2'}', 0, 0, 0, '', '${change.previousHash ?? '0'.repeat(64)}', now(), '', '', ''`;

    it.each([
      ['a seal out of sequence (the rollups would count a window twice)', `select audit_seal_append(${sealArguments({ sequence: 1000 })})`],
      ['a seal with a horizon beyond the transactions that have ended', `select audit_seal_append(${sealArguments({ horizon: '9000000000000000000' })})`],
      ['a seal whose previous hash is not the head\'s', `select audit_seal_append(${sealArguments({ previousHash: 'f'.repeat(64) })})`],
      ['a seal of rows it has no hashes for', `select audit_seal_append(${sealArguments()})`.replace(", 0, 0, 0, '',", ", 5, 1, 5, '',")],
      [
        'row hashes for the next 5,001 ids, which would block the sealer',
        "select audit_seal_row_hashes(1, array(select g from generate_series(1000000, 1005000) g), array(select '\\x00'::bytea from generate_series(1, 5001)))",
      ],
      ['row hashes for a seal after the next', "select audit_seal_row_hashes(7, array[1::bigint], array['\\x00'::bytea])"],
    ])('the chain functions refuse %s', async (_attack, statement) => {
      const before = await admin`select (select count(*)::int from audit_seals) as seals, (select count(*)::int from audit_row_hashes) as hashes`;
      await expect(asServing.unsafe(statement)).rejects.toMatchObject({ code: '23514' });
      expect(await admin`select (select count(*)::int from audit_seals) as seals, (select count(*)::int from audit_row_hashes) as hashes`).toEqual(before);
    });

    it('refuses a sealer that hashes rows with an older encoding, as one of the previous version still running would', async () => {
      const before = await admin`select (select count(*)::int from audit_seals) as seals, holder from audit_sealer_lease`;
      // The previous version's call: the function it names is gone.
      await expect(asServing.unsafe("select audit_seal_begin('old-replica', 3600000)")).rejects.toMatchObject({ code: '42883' });
      // Naming the encoding it hashes with: only this trail's is taken.
      await expect(asServing.unsafe("select audit_seal_begin('old-replica', 3600000, 1)")).rejects.toMatchObject({ code: '22023' });
      expect(await admin`select (select count(*)::int from audit_seals) as seals, holder from audit_sealer_lease`).toEqual(before);
    });

    it('lets no other login take or hold up sealing: the lease is the owner\'s, not an advisory lock', async () => {
      const stranger = uniqueRoleName('stranger');
      await admin.unsafe(`create role "${stranger}" login`);
      const asStranger = postgres(urlAs(stranger), { max: 1, onnotice: () => {} });
      try {
        await expect(asStranger.unsafe("select audit_seal_begin('stranger', 3600000, 2)")).rejects.toMatchObject({ code: '42501' });
        await expect(asStranger.unsafe('select * from audit_sealer_lease for update')).rejects.toMatchObject({ code: '42501' });
      } finally {
        await asStranger.end();
        await dropRoles(database.url, stranger);
      }
    });

    it('seals and row hashes are append-only for their owner too, as long as the triggers stand', async () => {
      const asOwner = postgres(urls.owner, { max: 1, onnotice: () => {} });
      try {
        // What the owner may still do by hand: append (a seal of nothing, before the first real one).
        await asOwner`insert into audit_seals values (1, '0', '1', 0, 0, 0, '', ${'0'.repeat(64)}, now(), '', '', '')`;
        await asOwner`insert into audit_row_hashes values (-1, 1, '\\x00')`;
        for (const statement of ['update audit_seals set hash = hash', 'delete from audit_seals', 'truncate audit_seals', 'update audit_row_hashes set seal = seal', 'delete from audit_row_hashes', 'truncate audit_row_hashes']) {
          await expect(asOwner.unsafe(statement)).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/^audit_(seals|row_hashes) is append-only: (UPDATE|DELETE|TRUNCATE) is not allowed$/) });
        }
      } finally {
        await asOwner.end();
      }
    });

    const FORGED_ID = 9_000_000_000;
    /** A minute ago: in this month's partition (unless the month began within the minute), so only the trigger can refuse it. */
    const forgedTime = () => new Date(Date.now() - 60_000).toISOString();

    /** Nothing stored carries the id or the time the serving role chose. */
    const noForgedValues = async (time: string) =>
      expect(await admin`select id from audit_logs where id >= ${FORGED_ID} or occurred_at = ${time}`).toEqual([]);

    it('INSERT … OVERRIDING SYSTEM VALUE with a chosen id and occurred_at stores the server\'s', async () => {
      const time = forgedTime();
      const [row] = await asServing.begin(
        (tx) => tx<{ id: string; occurred_at: Date; issued: string; now: Date }[]>`
          insert into audit_logs (id, occurred_at, action, outcome) overriding system value
          values (${FORGED_ID}, ${time}, 'forged_override', 'success')
          returning id::text, occurred_at, currval(pg_get_serial_sequence('audit_logs', 'id'))::text as issued, now() as now`,
      );
      expect(row!.id).toBe(row!.issued);
      expect(row!.occurred_at).toEqual(row!.now);
      await noForgedValues(time);
    });

    it('INSERT with a chosen occurred_at stores the time of its transaction instead', async () => {
      const time = forgedTime();
      const [row] = await asServing<{ occurred_at: Date; now: Date }[]>`
        insert into audit_logs (occurred_at, action, outcome) values (${time}, 'forged_time', 'success')
        returning occurred_at, now() as now`;
      expect(row!.occurred_at).toEqual(row!.now);
      await noForgedValues(time);
    });

    it.each([
      ['an earlier month', "now() - interval '40 days'", 'moving row to another partition'],
      ['a month without a partition', "timestamptz '2001-01-01 00:00:00+00'", 'no partition of relation "audit_logs" found'],
    ])('INSERT back-dated to %s is refused', async (_when, time, message) => {
      await admin`select audit_logs_create_partitions(now() - interval '40 days', now())`;
      const before = await trailState();
      await expect(asServing.unsafe(`insert into audit_logs (occurred_at, action, outcome) values (${time}, 'forged_month', 'success')`)).rejects.toThrow(message);
      expect(await trailState()).toEqual(before);
    });

    it('COPY with chosen ids and times stores the server\'s', async () => {
      const time = forgedTime();
      const copy = await asServing`copy audit_logs (id, occurred_at, action, outcome) from stdin`.writable();
      copy.write(`${FORGED_ID + 1}\t${time}\tforged_copy\tsuccess\n`);
      copy.end();
      await finished(copy);
      expect(await admin`select count(*)::int as rows from audit_logs where action = 'forged_copy'`).toEqual([{ rows: 1 }]);
      await noForgedValues(time);
    });
  });

  describe('the API in production as the serving role', () => {
    let alice: string;
    let bob: string;
    let root: string;
    beforeAll(async () => {
      api = await startApi(productionEnv({ DATABASE_URL: urls.serving }));
      [alice, bob, root] = await Promise.all([
        signToken(JWT_SECRET, { sub: 'alice' }),
        signToken(JWT_SECRET, { sub: 'bob' }),
        signToken(JWT_SECRET, { sub: 'root', role: 'admin' }),
      ]);
    });

    it('creates, updates, reads and deletes items, and every step lands in the trail', async () => {
      const created = await graphql(api!.url, alice, 'mutation { createItem(input: {title: "rent"}) { id title } }');
      expect(created).toEqual({ status: 200, body: { data: { createItem: { id: expect.any(String), title: 'rent' } } } });
      const id = created.body.data.createItem.id as string;

      expect((await graphql(api!.url, alice, `mutation { updateItem(id: "${id}", input: {title: "rent, May"}) { title } }`)).body).toEqual({
        data: { updateItem: { title: 'rent, May' } },
      });
      const refused = await graphql(api!.url, bob, `mutation { updateItem(id: "${id}", input: {title: "mine"}) { title } }`);
      expect(refused.body.errors[0].extensions.code).toBe('NOT_FOUND');
      // Production requires admins to state why they read someone else's item.
      const asRoot = (reason?: string) =>
        postGraphQL(`${api!.url}/graphql`, { query: `{ item(id: "${id}") { title ownerId } }` }, {
          authorization: `Bearer ${root}`,
          ...(reason ? { 'access-reason': reason } : {}),
        });
      expect((await asRoot()).body.errors?.[0]?.extensions?.code).toBe('ACCESS_REASON_REQUIRED');
      expect((await asRoot('support T-1')).body).toEqual({ data: { item: { title: 'rent, May', ownerId: 'alice' } } });
      expect((await graphql(api!.url, alice, `mutation { deleteItem(id: "${id}") { deletedItemId } }`)).body).toEqual({ data: { deleteItem: { deletedItemId: id } } });

      const trail = await graphql(
        api!.url,
        root,
        `{ auditLogs(filter: {resourceType: "item", resourceId: "${id}"}) { nodes { userId action outcome adminBypass } } }`,
      );
      expect(trail.body).toEqual({
        data: {
          auditLogs: {
            nodes: [
              { userId: 'alice', action: 'delete_item', outcome: 'SUCCESS', adminBypass: false },
              { userId: 'root', action: 'admin_view_item', outcome: 'SUCCESS', adminBypass: true },
              { userId: 'root', action: 'admin_view_item', outcome: 'DENIED', adminBypass: true },
              { userId: 'bob', action: 'update_item', outcome: 'DENIED', adminBypass: false },
              { userId: 'alice', action: 'update_item', outcome: 'SUCCESS', adminBypass: false },
              { userId: 'alice', action: 'create_item', outcome: 'SUCCESS', adminBypass: false },
            ],
          },
        },
      });
      expect(await admin`select count(*)::int as rows from audit_logs where action = 'view_audit_logs' and user_id = 'root'`).toEqual([{ rows: 1 }]);
    });

    it('stops cleanly', async () => {
      const exit = await stopApi(api!);
      api = undefined;
      expect({ code: exit.code, stderr: exit.stderr }).toEqual({ code: 0, stderr: '' });
    });
  });

  describe('production refuses to serve as a role that could rewrite history', () => {
    /** Starts the built server in production with `env`. */
    const start = (env: Record<string, string>) => run(MAIN, [], productionEnv(env));
    /** Expects the `started` server to have refused with exactly one line on stderr. */
    const expectRefusal = async (started: Promise<Exit>, line: string) => {
      const exit = await started;
      expect({ code: exit.code, stderr: exit.stderr }).toEqual({ code: 1, stderr: `refusing to start: ${line}\n` });
    };
    const SERVE_AS = '; serve as a role made by "npm run db:create-serving-role" (docs/security.md, Database roles)';

    /**
     * The starts as roles no test here changes, begun together before the tests that check them
     * rather than one after another (node's start is what takes time).
     */
    let unchanged: Record<'superuser' | 'owner' | 'member', Promise<Exit>>;
    beforeAll(() => {
      unchanged = { superuser: start({ DATABASE_URL: database.url }), owner: start({ DATABASE_URL: urls.owner }), member: start({ DATABASE_URL: urls.member }) };
      for (const exit of Object.values(unchanged)) exit.catch(() => {}); // reported by the test that awaits it
    });

    it('a superuser', async () => {
      await expectRefusal(
        unchanged.superuser,
        `the database role "${superuser()}" is a superuser (or can become one), so it could rewrite the audit trail${SERVE_AS}`,
      );
    });

    it('the owner of audit_logs', async () => {
      await expectRefusal(
        unchanged.owner,
        `the database role "${roles.owner}" owns audit_logs, so it could rewrite the audit trail${SERVE_AS}`,
      );
    });

    it('a member of the owner role', async () => {
      await expectRefusal(
        unchanged.member,
        `the database role "${roles.member}" is a member of "${roles.owner}", the owner of audit_logs, so it could rewrite the audit trail${SERVE_AS}`,
      );
    });

    it('a role granted TRIGGER on audit_logs (until db:create-serving-role repairs it)', async () => {
      await admin.unsafe(`grant trigger on audit_logs to "${roles.serving}"`);
      await expectRefusal(
        start({ DATABASE_URL: urls.serving }),
        `the database role "${roles.serving}" has TRIGGER on audit_logs (or one of its monthly partitions), so it could rewrite the audit trail${SERVE_AS}`,
      );
      expect(await runCreateServingRole()).toMatchObject({ code: 0 });
      expect(await privilegesOf(roles.serving)).toEqual(SERVING_PRIVILEGES);
    });

    it('a role granted DELETE on one month of audit_logs (until db:create-serving-role repairs it)', async () => {
      const [row] = await admin<{ month: string }[]>`
        select c.relname as month from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'audit_logs'::regclass order by c.relname limit 1`;
      await admin.unsafe(`grant delete on "${row!.month}" to "${roles.serving}"`);
      await expectRefusal(
        start({ DATABASE_URL: urls.serving }),
        `the database role "${roles.serving}" has DELETE on audit_logs (or one of its monthly partitions), so it could rewrite the audit trail${SERVE_AS}`,
      );
      expect(await runCreateServingRole()).toMatchObject({ code: 0 });
      expect(await privilegesOf(roles.serving)).toEqual(SERVING_PRIVILEGES);
    });
  });

  describe('a database the serving role finds unmigrated', () => {
    let fresh: TestDatabase;
    beforeAll(async () => {
      fresh = await createTestDatabase();
      await admin.unsafe(`alter database "${new URL(fresh.url).pathname.slice(1)}" owner to "${roles.owner}"`);
    });
    afterAll(() => fresh?.drop());

    it('is refused: the serving role cannot migrate and MIGRATION_DATABASE_URL is not set', async () => {
      const exit = await run(MAIN, [], productionEnv({ DATABASE_URL: urlAs(roles.serving, fresh.url) }));
      expect({ code: exit.code, stderr: exit.stderr }).toEqual({
        code: 1,
        stderr: 'refusing to start: audit_logs does not exist: run "npm run db:migrate" first, or set MIGRATION_DATABASE_URL\n',
      });
    });

    it('is migrated as the owner at start when MIGRATION_DATABASE_URL is set, then served once the role has its grants', async () => {
      const env = productionEnv({ DATABASE_URL: urlAs(roles.serving, fresh.url), MIGRATION_DATABASE_URL: urlAs(roles.owner, fresh.url) });
      const exit = await run(MAIN, [], env);
      expect({ code: exit.code, stderr: exit.stderr }).toEqual({
        code: 1,
        stderr:
          'refusing to start: the serving role may not create the coming months of audit_logs (EXECUTE on audit_logs_ensure_partitions()); ' +
          'run "npm run db:create-serving-role" (docs/security.md, Database roles)\n',
      });
      const sql = postgres(fresh.url, { max: 1, onnotice: () => {} });
      try {
        expect(await tablesAndOwners(sql)).toEqual(OWNED_BY_OWNER());
      } finally {
        await sql.end();
      }

      const granted = await run(CREATE_ROLE_CLI, ['--role', roles.serving], { MIGRATION_DATABASE_URL: urlAs(roles.owner, fresh.url) });
      expect(granted).toMatchObject({ code: 0 });
      const started = await startApi(env);
      expect((await stopApi(started)).code).toBe(0);
    });
  });

  /** The role's privileges on the public schema and everything in it, and its role attributes. */
  async function privilegesOf(role: string) {
    const [row] = await admin`
      select (select array_agg(p order by p) from unnest(array['USAGE', 'CREATE']) p
              where has_schema_privilege(r.oid, 'public', p)) as schema,
             (select jsonb_object_agg(c.relname, array(
                select p from unnest(case c.relkind when 'S' then array['USAGE', 'SELECT', 'UPDATE']
                  else array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] end) p
                where case c.relkind when 'S' then has_sequence_privilege(r.oid, c.oid, p)
                      else has_table_privilege(r.oid, c.oid, p) end))
              from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'S')
                and not c.relispartition) as objects,
             (select coalesce(array_agg(distinct p order by p), '{}') from pg_class c
              cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
              where c.relispartition and c.relkind = 'r' and has_table_privilege(r.oid, c.oid, p)) as on_months,
             (select jsonb_object_agg(f.proname, has_function_privilege(r.oid, f.oid, 'EXECUTE')) from pg_proc f
              where f.pronamespace = 'public'::regnamespace
                and f.proname in ('audit_logs_create_partitions', 'audit_logs_ensure_partitions', 'audit_logs_refresh_statistics',
                                  'audit_stats_roll_up', 'audit_stats_roll_up_seal', 'audit_seal_begin', 'audit_seal_row_hashes',
                                  'audit_seal_append')) as may_call,
             (select coalesce(array_agg(m.roleid::regrole::text), '{}') from pg_auth_members m where m.member = r.oid) as member_of,
             r.rolsuper as superuser, r.rolcreaterole as createrole, r.rolcreatedb as createdb, r.rolcanlogin as login
      from pg_roles r where r.rolname = ${role}`;
    return row;
  }
});

/** What `privilegesOf` answers for a role made by `npm run db:create-serving-role`. */
const SERVING_PRIVILEGES = {
  schema: ['USAGE'],
  objects: {
    // The backstop's marks of unclaimed changes: only its owner's triggers write them.
    audit_backstop_unclaimed: [],
    audit_logs: ['SELECT', 'INSERT'],
    audit_logs_id_seq: ['USAGE'],
    audit_row_hashes: ['SELECT'],
    audit_seals: ['SELECT'],
    audit_sealer_lease: [],
    audit_stats_daily: ['SELECT'],
    audit_stats_hourly: ['SELECT'],
    audit_stats_user_daily: ['SELECT'],
    items: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    items_id_seq: [],
  },
  on_months: [],
  may_call: {
    audit_logs_create_partitions: false,
    audit_logs_ensure_partitions: true,
    audit_logs_refresh_statistics: true,
    audit_seal_append: true,
    audit_seal_begin: true,
    audit_seal_row_hashes: true,
    audit_stats_roll_up: false,
    audit_stats_roll_up_seal: false,
  },
  member_of: [],
  superuser: false,
  createrole: false,
  createdb: false,
  login: true,
};

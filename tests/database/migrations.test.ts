import { execFile } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { sealOnce } from '../../src/audit/operations';
import { connectDatabase, type Database } from '../../src/db/database';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { TEST_AUDIT_SIGNING_KEY } from '../support/test-server';

let testDatabase: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = connectDatabase(testDatabase.url, { maxConnections: 1 });
});
afterAll(async () => {
  await database?.close();
  await testDatabase?.drop();
});

const appliedMigrations = () =>
  database.sql<{ id: number; hash: string; created_at: string }[]>`
    select id, hash, created_at from drizzle.__drizzle_migrations order by id`;

/** The application's tables; the months of `audit_logs` are its partitions, not tables of their own. */
const userTables = () =>
  database.sql<{ table_name: string }[]>`
    select relname as table_name from pg_class
    where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') and not relispartition order by relname`;

/** The months of `audit_logs`, oldest first, as `audit_logs_YYYY_MM`. */
const monthsOf = (sql: Database['sql']) =>
  sql<{ name: string; bounds: string }[]>`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bounds from pg_inherits i
    join pg_class c on c.oid = i.inhrelid where i.inhparent = 'audit_logs'::regclass order by c.relname`;

/** `audit_logs_YYYY_MM` of the month `offset` months from now (UTC). */
function monthName(offset: number): string {
  const now = new Date();
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return `audit_logs_${month.toISOString().slice(0, 7).replace('-', '_')}`;
}

it('starts from an empty database', async () => {
  expect(await userTables()).toEqual([]);
});

const APP_TABLES = [
  { table_name: 'audit_backstop_unclaimed' },
  { table_name: 'audit_logs' },
  { table_name: 'audit_row_hashes' },
  { table_name: 'audit_sealer_lease' },
  { table_name: 'audit_seals' },
  { table_name: 'audit_stats_daily' },
  { table_name: 'audit_stats_hourly' },
  { table_name: 'audit_stats_user_daily' },
  { table_name: 'items' },
];

it('creates the items table with the expected columns', async () => {
  await runMigrations(database.db);

  expect(await userTables()).toEqual(APP_TABLES);
  const columns = await database.sql`
    select column_name, data_type, is_nullable, is_identity, identity_generation, column_default
    from information_schema.columns
    where table_schema = 'public' and table_name = 'items'
    order by ordinal_position`;
  expect(columns.map((column) => ({ ...column }))).toEqual([
    { column_name: 'id', data_type: 'bigint', is_nullable: 'NO', is_identity: 'YES', identity_generation: 'ALWAYS', column_default: null },
    { column_name: 'owner_id', data_type: 'text', is_nullable: 'NO', is_identity: 'NO', identity_generation: null, column_default: null },
    { column_name: 'title', data_type: 'text', is_nullable: 'NO', is_identity: 'NO', identity_generation: null, column_default: null },
    { column_name: 'description', data_type: 'text', is_nullable: 'YES', is_identity: 'NO', identity_generation: null, column_default: null },
    { column_name: 'created_at', data_type: 'timestamp with time zone', is_nullable: 'NO', is_identity: 'NO', identity_generation: null, column_default: 'now()' },
    { column_name: 'updated_at', data_type: 'timestamp with time zone', is_nullable: 'NO', is_identity: 'NO', identity_generation: null, column_default: 'now()' },
  ]);

  const [primaryKey] = await database.sql`
    select kcu.column_name
    from information_schema.table_constraints tc
    join information_schema.key_column_usage kcu using (constraint_schema, constraint_name)
    where tc.table_schema = 'public' and tc.table_name = 'items' and tc.constraint_type = 'PRIMARY KEY'`;
  expect(primaryKey).toEqual({ column_name: 'id' });
});

it('creates the index that serves listing a user\'s items in id order', async () => {
  const indexes = await database.sql`
    select indexdef from pg_indexes where schemaname = 'public' and indexname = 'items_owner_id_id_idx'`;
  expect(indexes.map((index) => index.indexdef)).toEqual([
    'CREATE INDEX items_owner_id_id_idx ON public.items USING btree (owner_id, id)',
  ]);
});

it('records each migration of the drizzle journal once, with the hash of its SQL file', async () => {
  const journal = JSON.parse(await readFile(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as {
    entries: { tag: string; when: number }[];
  };
  const expected = await Promise.all(
    journal.entries.map(async (entry) => ({
      hash: createHash('sha256')
        .update(await readFile(path.join(MIGRATIONS_FOLDER, `${entry.tag}.sql`), 'utf8'))
        .digest('hex'),
      created_at: String(entry.when),
    })),
  );
  expect(expected.length).toBeGreaterThan(0);
  expect((await appliedMigrations()).map(({ hash, created_at }) => ({ hash, created_at: String(created_at) }))).toEqual(expected);
});

it('is a no-op when run again: same migration rows, data kept', async () => {
  const before = await appliedMigrations();
  const [inserted] = await database.sql`
    insert into items (owner_id, title, description) values ('alice', 'kept', 'across migrate runs') returning *`;

  await expect(runMigrations(database.db)).resolves.toBeUndefined();

  expect(await appliedMigrations()).toEqual(before);
  expect(await database.sql`select * from items`).toEqual([inserted]);
  expect(await userTables()).toEqual(APP_TABLES);
});

it('creates audit_logs with the columns every audit row carries', async () => {
  const columns = await database.sql<{ column_name: string; data_type: string; is_nullable: string }[]>`
    select column_name, data_type, is_nullable from information_schema.columns
    where table_schema = 'public' and table_name = 'audit_logs' order by ordinal_position`;
  expect(columns.map(({ column_name, data_type, is_nullable }) => `${column_name} ${data_type} ${is_nullable}`)).toEqual([
    'id bigint NO',
    'occurred_at timestamp with time zone NO',
    'user_id text YES',
    'user_role text YES',
    'action text NO',
    'resource_type text YES',
    'resource_id text YES',
    'outcome text NO',
    'admin_bypass boolean NO',
    'details jsonb NO',
    'request_id text YES',
    'operation_name text YES',
    'ip text YES',
    'user_agent text YES',
    'resource_ids ARRAY NO',
    'owner_ids ARRAY NO',
    'xact_id xid8 NO',
    'access_reason text YES',
    'access_reference text YES',
    'break_glass boolean NO',
  ]);
});

it('makes audit_logs append-only with triggers from a hand-written migration', async () => {
  const triggers = await database.sql<{ tgname: string }[]>`
    select tgname from pg_trigger where tgrelid = 'audit_logs'::regclass and not tgisinternal order by tgname`;
  expect(triggers.map((trigger) => trigger.tgname)).toEqual([
    'audit_logs_no_truncate',
    'audit_logs_no_update_or_delete',
    'audit_logs_stamp_server_values',
  ]);
  await database.sql`insert into audit_logs (action, outcome) values ('probe', 'success')`;
  await expect(database.sql`update audit_logs set action = 'edited'`).rejects.toThrow('audit_logs is append-only: UPDATE');
  await expect(database.sql`delete from audit_logs`).rejects.toThrow('audit_logs is append-only: DELETE');
  await expect(database.sql`truncate audit_logs`).rejects.toThrow('audit_logs is append-only: TRUNCATE');
  await expect(database.sql`insert into audit_logs (action, outcome) values ('probe', 'maybe')`).rejects.toThrow(
    'audit_logs_outcome_check',
  );
  // (Other rows are the backstop's, of items this file inserted straight in SQL.)
  expect(await database.sql`select action from audit_logs where resource_type is null`).toEqual([{ action: 'probe' }]);
});

it('matches the Drizzle schema: drizzle-kit generate finds nothing left to migrate', async () => {
  const root = path.resolve(MIGRATIONS_FOLDER, '..');
  const copy = await mkdtemp(path.join(os.tmpdir(), 'migrations-drift-'));
  try {
    await cp(MIGRATIONS_FOLDER, copy, { recursive: true });
    const before = await readdir(copy);
    // drizzle-kit wants a relative output folder.
    const { stdout } = await promisify(execFile)(
      path.join(root, 'node_modules/.bin/drizzle-kit'),
      ['generate', '--dialect', 'postgresql', '--schema', './src/**/*.table.ts', '--out', path.relative(root, copy)],
      { cwd: root },
    );
    expect(stdout).toContain('No schema changes');
    expect(await readdir(copy)).toEqual(before);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
});

it('partitions audit_logs by month (UTC): this month and the next three exist', async () => {
  const months = await monthsOf(database.sql);
  expect(months.map((month) => month.name)).toEqual([0, 1, 2, 3].map(monthName));
  const monthStart = (offset: number) => {
    const now = new Date();
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString().replace('T', ' ').replace('.000Z', '+00');
  };
  expect(months[0]!.bounds).toBe(`FOR VALUES FROM ('${monthStart(0)}') TO ('${monthStart(1)}')`);
});

describe('partitioning a trail that already has rows (migration 0007)', () => {
  let older: TestDatabase;
  let olderDb: Database;
  const role = `audit_reader_${process.pid}`;

  beforeAll(async () => {
    older = await createTestDatabase();
    olderDb = connectDatabase(older.url, { maxConnections: 1 });
    // The migrations as they stood before 0007.
    const folder = await mkdtemp(path.join(os.tmpdir(), 'migrations-0006-'));
    await cp(MIGRATIONS_FOLDER, folder, { recursive: true });
    const journalPath = path.join(folder, 'meta/_journal.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { idx: number }[] };
    journal.entries = journal.entries.filter((entry) => entry.idx < 7);
    await writeFile(journalPath, JSON.stringify(journal));
    await migrate(olderDb.db, { migrationsFolder: folder });
    await rm(folder, { recursive: true, force: true });
  });
  afterAll(async () => {
    await olderDb?.close();
    await older?.drop();
    // Roles belong to the cluster: dropped once the database holding its grants is gone.
    if (process.env.DATABASE_URL) {
      const cluster = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
      await cluster.unsafe(`drop role if exists ${role}`);
      await cluster.end();
    }
  });

  const everyRow = () => olderDb.sql`select * from audit_logs order by id`;

  it('keeps every row, id and time, in the month it happened, and goes on numbering after them', async () => {
    await olderDb.sql`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
    await olderDb.sql`
      insert into audit_logs (occurred_at, action, outcome, user_id, resource_ids, details)
      select now() - g * interval '13 days', 'old_' || g, 'success', 'u' || g, array['r' || g], jsonb_build_object('g', g)
      from generate_series(1, 12) g`;
    await olderDb.sql`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
    await olderDb.sql.unsafe(`create role ${role}; grant select, insert on audit_logs to ${role};
      grant usage on sequence audit_logs_id_seq to ${role}`);
    const before = await everyRow();

    await runMigrations(olderDb.db);

    // Later migrations add xact_id (0008), which rows older than it have as 1, and the access
    // reason (0015), which they have none of.
    const after = await everyRow();
    expect(after.map(({ xact_id, access_reason, access_reference, break_glass, ...row }) => row)).toEqual(before);
    expect(new Set(after.map((row) => row.xact_id))).toEqual(new Set(['1']));
    expect(new Set(after.map((row) => JSON.stringify([row.access_reason, row.access_reference, row.break_glass])))).toEqual(new Set(['[null,null,false]']));
    const placed = await olderDb.sql<{ misplaced: number }[]>`
      select count(*)::int as misplaced from audit_logs
      where tableoid::regclass::text <> 'audit_logs_' || to_char(occurred_at at time zone 'UTC', 'YYYY_MM')`;
    expect(placed).toEqual([{ misplaced: 0 }]);
    const [oldest] = await olderDb.sql`select 'audit_logs_' || to_char(min(occurred_at) at time zone 'UTC', 'YYYY_MM') as name from audit_logs`;
    expect((await monthsOf(olderDb.sql))[0]!.name).toBe(oldest!.name);
    const [next] = await olderDb.sql`insert into audit_logs (action, outcome) values ('after', 'success') returning id`;
    expect(BigInt(next!.id)).toBeGreaterThan(BigInt(before.at(-1)!.id));
  });

  it('gives whoever could read or append before the same on the partitioned table, and the months ahead', async () => {
    const [grants] = await olderDb.sql.unsafe(`
      select has_table_privilege('${role}', 'audit_logs', 'SELECT') as reads,
             has_table_privilege('${role}', 'audit_logs', 'INSERT') as appends,
             has_table_privilege('${role}', 'audit_logs', 'DELETE') as deletes,
             has_sequence_privilege('${role}', 'audit_logs_id_seq', 'USAGE') as numbers,
             has_function_privilege('${role}', 'audit_logs_ensure_partitions()', 'EXECUTE') as creates_months,
             has_function_privilege('${role}', 'audit_logs_refresh_statistics()', 'EXECUTE') as analyzes,
             has_function_privilege('${role}', 'audit_logs_create_partitions(timestamptz, timestamptz)', 'EXECUTE') as creates_any_month`);
    expect({ ...grants }).toEqual({ reads: true, appends: true, deletes: false, numbers: true, creates_months: true, analyzes: true, creates_any_month: false });
  });
});

/** The migrations that let the sealer write the chain (its lease, its functions). */
const CHAIN_WRITES = ['0013_audit_sealer_lease', '0014_audit_chain_writes', '0018_audit_seal_row_encoding'];

describe('the rollups of a trail already sealed (migrations audit_stats_*)', () => {
  let older: TestDatabase;
  let olderDb: Database;

  beforeAll(async () => {
    older = await createTestDatabase();
    olderDb = connectDatabase(older.url, { maxConnections: 1 });
    // Every migration before the rollups.
    const folder = await mkdtemp(path.join(os.tmpdir(), 'migrations-before-stats-'));
    await cp(MIGRATIONS_FOLDER, folder, { recursive: true });
    const journalPath = path.join(folder, 'meta/_journal.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
    // drizzle applies only migrations newer than the last applied one: stop at the first rollup migration.
    journal.entries = journal.entries.slice(0, journal.entries.findIndex((entry) => entry.tag.includes('audit_stats')));
    await writeFile(journalPath, JSON.stringify(journal));
    await migrate(olderDb.db, { migrationsFolder: folder });
    await rm(folder, { recursive: true, force: true });
  });
  afterAll(async () => {
    await olderDb?.close();
    await older?.drop();
  });

  it('counts every row sealed before, and none written after the last seal', async () => {
    const signingKey = createPrivateKey({ key: Buffer.from(TEST_AUDIT_SIGNING_KEY, 'base64'), format: 'der', type: 'pkcs8' });
    await olderDb.sql`insert into audit_logs (action, outcome, user_id) select 'update_item', 'success', 'u' || (g % 3) from generate_series(1, 30) g`;
    // Today's sealer writes through the chain functions of a later migration: lent to the older
    // schema while it seals, then taken back, so the migrations find it as a deployment had it.
    const lent = (await Promise.all(CHAIN_WRITES.map((tag) => readFile(path.join(MIGRATIONS_FOLDER, `${tag}.sql`), 'utf8')))).join('--> statement-breakpoint');
    for (const statement of lent.split('--> statement-breakpoint')) await olderDb.sql.unsafe(statement);
    // And the columns it hashes that a later migration adds (0015), empty as on every older row.
    await olderDb.sql`alter table audit_logs add column access_reason text, add column access_reference text, add column break_glass boolean not null default false`;
    // Sealed once every writing transaction on the cluster has ended (other test files hold some open).
    for (let attempt = 0; attempt < 900 && !(await sealOnce(olderDb.sql, { signingKey, holder: 'test', leaseMs: 60_000 })).seal; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await olderDb.sql.unsafe(`
      drop function audit_seal_begin(text, integer, integer), audit_seal_row_hashes(bigint, bigint[], bytea[]),
                    audit_seal_append(bigint, xid8, xid8, integer, bigint, bigint, text, text, timestamptz, text, text, text);
      drop table audit_sealer_lease;
      alter table audit_logs drop column access_reason, drop column access_reference, drop column break_glass`);
    await olderDb.sql`insert into audit_logs (action, outcome, user_id) values ('delete_item', 'success', 'u1')`;

    await runMigrations(olderDb.db);

    const rollup = (table: string) =>
      olderDb.sql.unsafe(`select ${table === 'audit_stats_user_daily' ? 'user_id, ' : ''}action, sum(count)::int as count from ${table} group by 1${table === 'audit_stats_user_daily' ? ', 2' : ''} order by 1, 2`);
    const sealed = await olderDb.sql`
      select a.user_id, a.action, count(*)::int as count from audit_logs a join audit_row_hashes h on h.id = a.id group by 1, 2 order by 1, 2`;
    expect(sealed.map((row) => row.count)).toEqual([10, 10, 10]);
    expect([...(await rollup('audit_stats_user_daily'))]).toEqual([...sealed]);
    expect([...(await rollup('audit_stats_daily'))]).toEqual([{ action: 'update_item', count: 30 }]);
    expect([...(await rollup('audit_stats_hourly'))]).toEqual([{ action: 'update_item', count: 30 }]);
  });
});

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectDatabase, type Database } from '../src/db/database';
import { MIGRATIONS_FOLDER, runMigrations } from '../src/db/migrate';
import { createTestDatabase, type TestDatabase } from './support/database';

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

const userTables = () =>
  database.sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = 'public' order by table_name`;

it('starts from an empty database', async () => {
  expect(await userTables()).toEqual([]);
});

const APP_TABLES = [{ table_name: 'audit_logs' }, { table_name: 'items' }];

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
  expect(await database.sql`select action from audit_logs`).toEqual([{ action: 'probe' }]);
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

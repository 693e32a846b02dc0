import 'reflect-metadata';
import path from 'node:path';
import postgres from 'postgres';
import { startAuditUpkeep } from '../../src/audit/wiring';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/config/logger';
import { connectDatabase } from '../../src/db/database';
import { startServer } from '../../src/server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ROOT, run, type Exit } from '../support/node-process';
import { createTestServingRole, type TestServingRole } from '../support/serving-role';
import { admin, startTestServer, TEST_AUDIT_PUBLIC_KEY, TEST_AUDIT_SIGNING_KEY, testServerEnv, type TestServer } from '../support/test-server';

/*
 * `npm run audit:retention`: the only way rows leave the trail is whole months dropped by the
 * owner, and the trail records that it happened. Runs the CLI as a user does; needs PostgreSQL
 * (the embedded database is one process, which a second process cannot open).
 */
const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;
const RETENTION_CLI = path.join(ROOT, 'dist/cli/audit-retention.js');

/** `audit_logs_YYYY_MM` and the first instant of the month `offset` months from now (UTC). */
function month(offset: number): { name: string; start: string } {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString();
  return { name: `audit_logs_${start.slice(0, 7).replace('-', '_')}`, start };
}

describeOnPostgres('npm run audit:retention', () => {
  let server: TestServer;
  let serving: TestServingRole;
  const asOwner = () => ({ DATABASE_URL: server.database.url });
  // A retention is signed with the key that signs the seals.
  const retention = (args: string[], env: Record<string, string> = asOwner()) => run(RETENTION_CLI, args, { AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY, ...env });

  const months = async () =>
    (
      await server.sql<{ name: string }[]>`
        select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'audit_logs'::regclass order by c.relname`
    ).map((row) => row.name);
  const rowsPerMonth = async () =>
    Object.fromEntries(
      (
        await server.sql<{ month: string; rows: number }[]>`
          select tableoid::regclass::text as month, count(*)::int as rows from audit_logs group by 1 order by 1`
      ).map((row) => [row.month, row.rows]),
    );

  beforeAll(async () => {
    // Sealing every 100 ms rather than every second: the file waits for every row to be sealed.
    server = await startTestServer({ AUDIT_SEAL_INTERVAL_MS: '100' });
    serving = await createTestServingRole(server.database.url);
    // Three old months of history, 10, 20 and 30 rows, as a backfill by the owner would write them.
    await server.sql`select audit_logs_create_partitions(${month(-3).start}::timestamptz, now())`;
    await server.sql.begin(async (tx) => {
      await tx`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
      for (const [offset, rows] of [[-3, 10], [-2, 20], [-1, 30]] as const) {
        await tx`
          insert into audit_logs (occurred_at, xact_id, action, outcome, user_id)
          select ${month(offset).start}::timestamptz + g * interval '1 hour', pg_current_xact_id(), 'update_item', 'success', 'alice'
          from generate_series(1, ${rows}) g`;
      }
      await tx`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
    });
    await everyRowSealed();
  }, 120_000);

  /** Waits until the sealer has sealed every row (the horizon waits for transactions anywhere on the cluster). */
  const everyRowSealed = async () => {
    for (let tries = 0; tries < 1800; tries++) {
      const [row] = await server.sql<{ unsealed: number }[]>`
        select count(*)::int as unsealed from audit_logs a left join audit_row_hashes h using (id) where h.id is null`;
      if (row!.unsealed === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('rows still unsealed after 90 s');
  };
  afterAll(async () => {
    await server?.stop();
    await serving?.drop();
  });

  /**
   * The runs refused for their arguments, which never reach the database: started together before
   * the tests that check them, instead of one after another (node's start is what takes time).
   */
  const BAD_BEFORE = ['yesterday', '2026-13-01', '2026-01-01T00:00:00'];
  const refusedArguments = new Map<string, Promise<Exit>>();
  beforeAll(() => {
    for (const args of [...BAD_BEFORE.map((before) => ['--before', before]), []]) {
      const exit = retention(args);
      exit.catch(() => {}); // reported by the test that awaits it
      refusedArguments.set(args.join(' '), exit);
    }
  });

  it('refuses a date in the current month or later, and changes nothing', async () => {
    const before = await rowsPerMonth();
    const result = await retention(['--before', month(0).start.replace('-01T', '-02T')]);
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `--before must be on or before ${month(0).start.slice(0, 10)}: the current month is never dropped\n`,
    });
    expect(await rowsPerMonth()).toEqual(before);
  });

  it.each(BAD_BEFORE)('refuses --before %s, which is not a date or a zoned timestamp', async (before) => {
    expect(await refusedArguments.get(`--before ${before}`)).toMatchObject({
      code: 1,
      stderr: '--before must be a date (2026-01-01) or a timestamp with a zone (2026-01-01T00:00:00Z)\n',
    });
  });

  it('says how it is used when --before is missing', async () => {
    expect(await refusedArguments.get('')).toMatchObject({ code: 1, stderr: expect.stringContaining('usage: [MIGRATION_DATABASE_URL=<owner>] npm run audit:retention') });
  });

  it('lists what it would drop on a dry run, and drops nothing', async () => {
    const before = await rowsPerMonth();
    const result = await retention(['--before', month(-1).start.slice(0, 10), '--dry-run']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      `would drop ${month(-3).name} [${month(-3).start}, ${month(-2).start})\n` +
        `would drop ${month(-2).name} [${month(-2).start}, ${month(-1).start})\n` +
        `dry run: 2 month(s) end on or before ${month(-1).start}; nothing dropped\n`,
    );
    expect(await rowsPerMonth()).toEqual(before);
  });

  it('cannot be run by the serving role: PostgreSQL refuses, nothing is dropped or recorded', async () => {
    const before = await rowsPerMonth();
    const result = await retention(['--before', month(-1).start.slice(0, 10)], { DATABASE_URL: serving.url });
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'PostgreSQL refused: permission denied for table audit_logs\n' });
    expect(await rowsPerMonth()).toEqual(before);
    expect(await server.sql`select id from audit_logs where action = 'audit_retention'`).toEqual([]);
  });

  it('refuses to drop a month that holds rows no seal covers yet', async () => {
    // (The horizon waits for transactions anywhere on the cluster: sealing may take a while.)
    // A transaction left open holds the sealing horizon back, so the row below stays unsealed.
    const holder = postgres(server.database.url, { max: 1, onnotice: () => {} });
    try {
      await holder`begin`;
      await holder`select pg_current_xact_id()`;
      await server.sql.begin(async (tx) => {
        await tx`alter table audit_logs disable trigger audit_logs_stamp_server_values`;
        await tx`insert into audit_logs (occurred_at, xact_id, action, outcome) values (${month(-2).start}::timestamptz + interval '1 day', pg_current_xact_id(), 'late_backfill', 'success')`;
        await tx`alter table audit_logs enable always trigger audit_logs_stamp_server_values`;
      });
      const before = await rowsPerMonth();
      const result = await retention(['--before', month(-1).start.slice(0, 10)]);
      expect(result).toMatchObject({
        code: 1,
        stdout: '',
        stderr: `${month(-2).name} holds 1 row(s) no seal covers yet; run again once the sealer has sealed them (docs/integrity.md)\n`,
      });
      expect(await rowsPerMonth()).toEqual(before);
    } finally {
      await holder.end();
    }
    await everyRowSealed();
  }, 120_000);

  it('drops nothing when its record cannot be written: the drop and the row commit together', async () => {
    const before = await rowsPerMonth();
    await server.sql.unsafe(`
      create function refuse_retention_row() returns trigger language plpgsql as $$
      begin raise exception 'refused for the test'; end $$;
      create trigger refuse_retention_row before insert on audit_logs for each row
      when (new.action = 'audit_retention') execute function refuse_retention_row();`);
    try {
      const result = await retention(['--before', month(-1).start.slice(0, 10)]);
      expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'PostgreSQL refused: refused for the test\n' });
    } finally {
      await server.sql.unsafe('drop trigger refuse_retention_row on audit_logs; drop function refuse_retention_row()');
    }
    expect(await rowsPerMonth()).toEqual(before);
    expect(await months()).toContain(month(-3).name);
  });

  it('drops the whole months that end by --before, keeps the rest, and records it in the same transaction', async () => {
    const result = await retention(['--before', month(-1).start.slice(0, 10)]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const [record] = await server.sql<{ id: string; details: Record<string, unknown>; user_id: string | null; operation_name: string }[]>`
      select id::text, details, user_id, operation_name from audit_logs where action = 'audit_retention'`;
    expect(result.stdout).toBe(
      `dropped ${month(-3).name} [${month(-3).start}, ${month(-2).start}), 10 row(s)\n` +
        `dropped ${month(-2).name} [${month(-2).start}, ${month(-1).start}), 21 row(s)\n` +
        `dropped 2 month(s); recorded as audit_retention row ${record!.id}, signed; audit:verify accepts the removal once the next seal covers that row\n`,
    );
    expect(await months()).toEqual([-1, 0, 1, 2, 3].map((offset) => month(offset).name));
    expect((await rowsPerMonth())[month(-1).name]).toBe(30);
    expect(record).toMatchObject({ user_id: null, operation_name: 'audit:retention' });
    // Which seals' rows each month held, and how many: verify holds the chain's missing rows to exactly these.
    expect(record!.details).toEqual({
      retentionId: expect.any(String),
      before: month(-1).start,
      databaseRole: 'postgres',
      partitions: [
        { name: month(-3).name, from: month(-3).start, to: month(-2).start, rows: 10, firstId: expect.any(String), lastId: expect.any(String), seals: expect.any(Array) },
        { name: month(-2).name, from: month(-2).start, to: month(-1).start, rows: 21, firstId: expect.any(String), lastId: expect.any(String), seals: expect.any(Array) },
      ],
      publicKey: TEST_AUDIT_PUBLIC_KEY,
      signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/),
    });
    const partitions = (record!.details as { partitions: { rows: number; seals: { seal: number; rows: number }[] }[] }).partitions;
    for (const month of partitions) expect(month.seals.reduce((sum, sealed) => sum + sealed.rows, 0)).toBe(month.rows);
  });

  it('shows admins the retention row in the trail', async () => {
    const response = await server.graphql(
      '{ auditLogs(filter: { action: "audit_retention" }) { nodes { action outcome userId details } } }',
      { as: admin },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.auditLogs.nodes).toEqual([
      expect.objectContaining({ action: 'audit_retention', outcome: 'SUCCESS', userId: null, details: expect.objectContaining({ before: month(-1).start }) }),
    ]);
  });

  it('has nothing left to drop when run again, and records nothing', async () => {
    const result = await retention(['--before', month(-1).start.slice(0, 10)]);
    expect(result).toMatchObject({
      code: 0,
      stdout: `no month of the trail ends on or before ${month(-1).start}; nothing dropped\n`,
    });
    expect(await server.sql`select id from audit_logs where action = 'audit_retention'`).toHaveLength(1);
  });
});

describe('the upkeep of the trail', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;
  beforeAll(async () => {
    // Migrated already: the servers started below find their tables and only create the months.
    database = await createTestDatabase({ migrated: true });
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });

  const monthsAhead = async () =>
    (
      await sql<{ name: string }[]>`
        select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'audit_logs'::regclass and c.relname > ${month(0).name} order by c.relname`
    ).map((row) => row.name);
  const dropMonthsAhead = async () => {
    for (const offset of [1, 2, 3]) await sql.unsafe(`drop table ${month(offset).name}`);
    expect(await monthsAhead()).toEqual([]);
  };
  const NEXT_THREE = [1, 2, 3].map((offset) => month(offset).name);

  it('creates the coming months when the server starts', async () => {
    const first = await startServer(loadConfig(testServerEnv(database)), createLogger('silent'));
    await first.stop();
    await dropMonthsAhead();
    const server = await startServer(loadConfig(testServerEnv(database)), createLogger('silent'));
    try {
      expect(await monthsAhead()).toEqual(NEXT_THREE);
    } finally {
      await server.stop();
    }
  });

  it('creates them again in its hourly round while the server runs', async () => {
    const database_ = connectDatabase(database.url, { maxConnections: 1 });
    await dropMonthsAhead();
    const keeper = startAuditUpkeep(database_.db, createLogger('silent'), 20);
    try {
      for (let tries = 0; tries < 100 && (await monthsAhead()).length < 3; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await monthsAhead()).toEqual(NEXT_THREE);
    } finally {
      keeper.stop();
      await database_.close();
    }
  });

  it('analyzes a month that changed a lot since its last ANALYZE, where autovacuum does not', async () => {
    const current = month(0).name;
    await sql.unsafe(`alter table ${current} set (autovacuum_enabled = false)`);
    await sql`insert into audit_logs (action, outcome) select 'bulk', 'success' from generate_series(1, 3000)`;
    const lastAnalyze = async () => (await sql`select last_analyze from pg_stat_user_tables where relname = ${current}`)[0]?.last_analyze;
    // The insert's counts reach the statistics system when its session reports them (within a second).
    const changed = async () => (await sql`select pg_stat_get_mod_since_analyze(${current}::regclass)::int as n`)[0]!.n;
    for (let tries = 0; tries < 100 && (await changed()) < 3000; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await lastAnalyze()).toBeNull();

    const database_ = connectDatabase(database.url, { maxConnections: 1 });
    const keeper = startAuditUpkeep(database_.db, createLogger('silent'), 20);
    try {
      for (let tries = 0; tries < 100 && !(await lastAnalyze()); tries++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await lastAnalyze()).toBeInstanceOf(Date);
    } finally {
      keeper.stop();
      await database_.close();
    }
  });
});

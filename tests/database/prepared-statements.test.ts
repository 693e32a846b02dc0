import 'reflect-metadata';
import { eq, sql as drizzleSql } from 'drizzle-orm';
import { connectDatabase, type Database } from '../../src/db/database';
import { AuditLogService } from '../../src/audit-logs/query/audit-log.service';
import { AuditOutcome } from '../../src/audit-logs/query/audit-log.type';
import { items } from '../../src/items/item.table';
import { createTestDatabase, type TestDatabase } from '../support/database';

/*
 * The server's statements through Drizzle are prepared once per session (src/db/prepared-statements.ts):
 * otherwise postgres.js has each statement with parameters described before binding it, two round
 * trips a statement with nothing pipelined behind it. Searches of the trail, whose best plan depends
 * on their values, are sent unnamed; through a transaction-mode pooler nothing is prepared at all.
 * On PostgreSQL: the embedded PGlite is one session for every connection, and takes no startup
 * parameters.
 */

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('statements through Drizzle', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrated: true });
  });
  afterAll(() => database?.drop());

  /** The statements this session has prepared, and its plan_cache_mode, read on the pool's one connection. */
  async function session(db: Database['db']): Promise<{ prepared: string[]; planCacheMode: string }> {
    const prepared = await db.execute<{ statement: string }>(drizzleSql`select statement from pg_prepared_statements`);
    const [mode] = await db.execute<{ plan_cache_mode: string }>(drizzleSql`show plan_cache_mode`);
    return { prepared: [...prepared].map((row) => row.statement), planCacheMode: mode!.plan_cache_mode };
  }

  const itemById = (db: Database['db'], id: bigint) => db.select().from(items).where(eq(items.id, id));

  it('prepares what Drizzle sends, in and out of transactions, and sends searches of the trail unnamed, planned for their values', async () => {
    const connection = connectDatabase(database.url, { maxConnections: 1 });
    try {
      await itemById(connection.db, 1n);
      await connection.db.transaction(async (tx) => {
        await tx.update(items).set({ title: 'none' }).where(eq(items.id, 2n));
      });
      await new AuditLogService(connection.searches).list({ outcome: AuditOutcome.DENIED }, { first: 10, afterId: undefined });
      const { prepared, planCacheMode } = await session(connection.db);
      expect(prepared).toEqual(expect.arrayContaining([expect.stringMatching(/^select .* from "items" where "items"."id" = \$1/), expect.stringMatching(/^update "items" set/)]));
      expect(prepared.filter((statement) => statement.includes('audit_logs'))).toEqual([]);
      // PostgreSQL's default: the prepared statements keep their plans, as do the trail's trigger functions.
      expect(planCacheMode).toBe('auto');
    } finally {
      await connection.close();
    }
  });

  it('prepares nothing for a transaction-mode pooler, which carries no prepared statement', async () => {
    const connection = connectDatabase(database.url, { maxConnections: 1, poolMode: 'transaction' });
    try {
      await itemById(connection.db, 1n);
      await connection.db.transaction((tx) => itemById(tx, 1n));
      expect((await session(connection.db)).prepared).toEqual([]);
    } finally {
      await connection.close();
    }
  });
});

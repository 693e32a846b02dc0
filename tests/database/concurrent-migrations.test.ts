import { readFile } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import { MIGRATIONS_FOLDER, migrateDatabaseAt } from '../../src/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';

/**
 * Replicas (and `npm run db:migrate` run while one starts) migrate the same database at the same
 * moment. drizzle's migrator alone races: `CREATE SCHEMA/TABLE IF NOT EXISTS` collide on the
 * catalog's unique indexes, and two runs that both read "nothing applied" both apply everything.
 * Needs a real PostgreSQL: the embedded one serves a single session.
 */

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;
/** As many at once as replicas starting together; each round is a fresh database. */
const RUNS_AT_ONCE = 4;
const ROUNDS = 3;

describeOnPostgres('migrations run by several processes at once', () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const database of databases) await database.drop();
  });

  it('all succeed on a fresh database, and each migration is applied once', async () => {
    const journal = JSON.parse(await readFile(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: { when: number }[] };
    for (let round = 0; round < ROUNDS; round++) {
      const database = await createTestDatabase();
      databases.push(database);

      const outcomes = await Promise.allSettled(Array.from({ length: RUNS_AT_ONCE }, () => migrateDatabaseAt(database.url)));

      const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [failureMessage(outcome.reason)] : []));
      expect(failures).toEqual([]);
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        const applied = await sql<{ created_at: string }[]>`select created_at from drizzle.__drizzle_migrations order by id`;
        expect(applied.map((row) => Number(row.created_at))).toEqual(journal.entries.map((entry) => entry.when));
      } finally {
        await sql.end();
      }
    }
  });
});

/** drizzle wraps the database's error ("Failed query: …") with the SQL; the cause says what went wrong. */
function failureMessage(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

import { connectDatabase, type Database } from '../db/database';
import { runMigrations, withMigrationLock } from '../db/migrate';
import { runCommand } from './command';
import { ConfigError } from '../config/settings';

/**
 * `npm run db:migrate`: applies pending migrations as the owner role, MIGRATION_DATABASE_URL
 * (or DATABASE_URL where one role does everything). Run it before starting a version whose
 * serving role cannot migrate, unless the server has MIGRATION_DATABASE_URL itself.
 */
async function main(): Promise<void> {
  const url = setting('MIGRATION_DATABASE_URL') ?? setting('DATABASE_URL');
  if (!url) throw new ConfigError('set MIGRATION_DATABASE_URL to the connection URL of the role that owns the tables');
  const database = connectDatabase(url, { maxConnections: 1 });
  try {
    // Counted under the lock too, so a replica migrating meanwhile does not skew the figures.
    const { before, after } = await withMigrationLock(database, async () => {
      const before = await appliedMigrations(database);
      await runMigrations(database.db);
      return { before, after: await appliedMigrations(database) };
    });
    process.stdout.write(`applied ${after - before} migration(s); ${after} in total\n`);
  } finally {
    await database.close();
  }
}

function setting(name: string): string | undefined {
  return process.env[name]?.trim() || undefined;
}

/** How many migrations drizzle has recorded; none before its first run. */
async function appliedMigrations(database: Database): Promise<number> {
  const [table] = await database.sql`select to_regclass('drizzle.__drizzle_migrations') as oid`;
  if (!table?.oid) return 0;
  const [row] = await database.sql<{ count: number }[]>`select count(*)::int as count from drizzle.__drizzle_migrations`;
  return row!.count;
}

runCommand(main, { verb: 'migration' });

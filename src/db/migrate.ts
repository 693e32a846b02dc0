import path from 'node:path';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { connectDatabase, type Db } from './database';

/** The drizzle-kit output folder; `src/` and `dist/` sit at the same depth below the project root. */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, '../../drizzle');

/** Applies pending migrations; already applied ones are skipped, so running it twice is a no-op. */
export async function runMigrations(db: Db): Promise<void> {
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
}

/**
 * {@link runMigrations} on a connection of its own to `url`, closed afterwards: a migration may
 * rightly wait for locks or run long, so it does not get the serving pool's timeouts.
 */
export async function migrateDatabaseAt(url: string): Promise<void> {
  const database = connectDatabase(url, { maxConnections: 1 });
  try {
    await runMigrations(database.db);
  } finally {
    await database.close();
  }
}

import path from 'node:path';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { connectDatabase, type Database, type Db } from './database';

/** The drizzle-kit output folder; `src/` and `dist/` sit at the same depth below the project root. */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, '../../drizzle');

/**
 * The advisory lock key every migration run holds (any constant does, as long as all runs agree;
 * a run waiting for it shows in pg_locks as locktype `advisory` with this objid).
 */
const MIGRATION_LOCK = 74_656_801;

/**
 * Applies pending migrations; already applied ones are skipped, so running it twice is a no-op.
 * Not safe to run from two sessions at once: use {@link withMigrationLock} where that can happen.
 */
export async function runMigrations(db: Db): Promise<void> {
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
}

/**
 * Runs `work` while holding the migration lock, waiting for it as long as another run holds it.
 * drizzle's migrator alone is not safe against itself: two runs on a fresh database collide on
 * `CREATE SCHEMA/TABLE IF NOT EXISTS`, and two that both read "nothing applied" both apply it all.
 * Replicas starting together and `npm run db:migrate` during a start therefore take turns; the
 * later ones find everything applied.
 *
 * `database` must have ONE connection: a session-level lock belongs to the session that took it,
 * and the migration must run in that very session, so that a lost connection loses both at once.
 */
export async function withMigrationLock<T>(database: Database, work: () => Promise<T>): Promise<T> {
  await database.sql`select pg_advisory_lock(${MIGRATION_LOCK}::bigint)`;
  try {
    return await work();
  } finally {
    // Fails only with the connection, and PostgreSQL released the lock along with that session.
    await database.sql`select pg_advisory_unlock(${MIGRATION_LOCK}::bigint)`.catch(() => undefined);
  }
}

/**
 * {@link runMigrations} under the migration lock, on a connection of its own to `url`, closed
 * afterwards: a migration may rightly wait for locks or run long, so it does not get the serving
 * pool's timeouts.
 */
export async function migrateDatabaseAt(url: string): Promise<void> {
  const database = connectDatabase(url, { maxConnections: 1 });
  try {
    await withMigrationLock(database, () => runMigrations(database.db));
  } finally {
    await database.close();
  }
}

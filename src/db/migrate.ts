import path from 'node:path';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Db } from './database';

/** The drizzle-kit output folder; `src/` and `dist/` sit at the same depth below the project root. */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, '../../drizzle');

/** Applies pending migrations; already applied ones are skipped, so running it twice is a no-op. */
export async function runMigrations(db: Db): Promise<void> {
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
}

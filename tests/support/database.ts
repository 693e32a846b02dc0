import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { databaseUrl, templateName } from './template-database';

/** A database that belongs to one test file. */
export interface TestDatabase {
  readonly url: string;
  /** True when this is the embedded PGlite, which wants a single-connection pool. */
  readonly embedded: boolean;
  /** Removes the database; later connections fail (used to check /healthz goes 503). */
  drop(): Promise<void>;
}

/** What a test database starts as. */
export interface TestDatabaseOptions {
  /**
   * Every migration applied, copied from the run's template or, on PGlite, loaded from its snapshot
   * (`tests/support/global-setup.ts`), for files that start a server on it rather than test
   * migrating. Defaults to false: an empty database.
   */
  readonly migrated?: boolean;
}

/**
 * A fresh database: a new one on the PostgreSQL at `DATABASE_URL`, or an in-memory embedded PGlite
 * when it is unset. Test files never share one, so they can run in parallel.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const snapshot = process.env.TEST_PGLITE_SNAPSHOT;
    const from = options.migrated && snapshot ? new Blob([await readFile(snapshot)]) : undefined;
    const embedded = await startEmbeddedPostgres(undefined, { from });
    // Idempotent like the PostgreSQL branch: a test may drop early and `stop()` drops again.
    let stopped: Promise<void> | undefined;
    return { url: embedded.url, embedded: true, drop: () => (stopped ??= embedded.stop()) };
  }
  const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(options.migrated ? `create database "${name}" template "${templateName()}"` : `create database "${name}"`);
  await admin.end();
  let dropped = false;
  return {
    url: databaseUrl(serverUrl, name),
    embedded: false,
    async drop() {
      if (dropped) return;
      dropped = true;
      const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
      await sql.end();
    },
  };
}

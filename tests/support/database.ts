import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../../src/db/embedded';

/** A database that belongs to one test file. */
export interface TestDatabase {
  readonly url: string;
  /** True when this is the embedded PGlite, which wants a single-connection pool. */
  readonly embedded: boolean;
  /** Removes the database; later connections fail (used to check /healthz goes 503). */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database: a new one on the PostgreSQL at `DATABASE_URL`, or an in-memory
 * embedded PGlite when it is unset. Test files never share one, so they can run in parallel.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const embedded = await startEmbeddedPostgres(undefined);
    // Idempotent like the PostgreSQL branch: a test may drop early and `stop()` drops again.
    let stopped: Promise<void> | undefined;
    return { url: embedded.url, embedded: true, drop: () => (stopped ??= embedded.stop()) };
  }
  const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
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

import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '#src/db/embedded';
import { createServingRole } from '#src/db/serving-role';

/** Where the benchmark's admin connection goes when `DATABASE_URL` is not set. */
export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database that belongs to one benchmark run and nothing else. */
export interface BenchDatabase {
  readonly url: string;
  /** Pool size for each server: the embedded PGlite serves one connection at a time. */
  readonly poolMax: number;
  /** One line for the report, without credentials. */
  readonly description: string;
  /** The database's name on a PostgreSQL of this machine, whose backends' CPU can be read; none for PGlite. */
  readonly name?: string;
  /**
   * After migrating: where the servers connect, as production does, a role that cannot rewrite the
   * trail (`npm run db:create-serving-role`), dropped with the database. The embedded PGlite has a
   * single role, so there it is `url`, and `checked` says production's role check must be skipped.
   */
  servingUrl(): Promise<{ url: string; checked: boolean }>;
  /** Drops the database and its serving role (or stops PGlite); safe to call twice. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database on the PostgreSQL behind `adminUrl`, so no one else's rows, locks or
 * bloat weigh on the measurement. If no PostgreSQL answers there, falls back to an in-memory
 * embedded PGlite, which the description says, since its numbers are not comparable.
 */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const admin = postgres(adminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  let server: { version: string; synchronous_commit: string; fsync: string };
  try {
    [server] = (await admin`
      select current_setting('server_version') as version,
             current_setting('synchronous_commit') as synchronous_commit,
             current_setting('fsync') as fsync`) as unknown as [typeof server];
  } catch (error) {
    await admin.end({ timeout: 1 }).catch(() => {});
    // A server that answers with an error (bad password, no such database) is a setup to fix.
    if (error instanceof postgres.PostgresError) throw error;
    return embeddedDatabase(adminUrl, error);
  }

  const name = `bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    await admin.unsafe(`create database "${name}"`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    let dropped = false;
    let servingRole: string | undefined;
    return {
      url: url.toString(),
      name,
      poolMax: 10,
      description:
        `PostgreSQL ${server.version} at ${url.host}, fresh database ${name} ` +
        `(synchronous_commit=${server.synchronous_commit}, fsync=${server.fsync})`,
      async servingUrl() {
        servingRole = `${name}_serving`;
        const owner = postgres(url.toString(), { max: 1, onnotice: () => {} });
        try {
          await createServingRole(owner, { role: servingRole });
        } finally {
          await owner.end();
        }
        const serving = new URL(url);
        serving.username = servingRole;
        serving.password = '';
        return { url: serving.toString(), checked: true };
      },
      async drop() {
        if (dropped) return;
        dropped = true;
        await admin.unsafe(`drop database if exists "${name}" with (force)`);
        if (servingRole) await admin.unsafe(`drop role if exists "${servingRole}"`);
        await admin.end();
      },
    };
  } catch (error) {
    await admin.end();
    throw error;
  }
}

async function embeddedDatabase(adminUrl: string, cause: unknown): Promise<BenchDatabase> {
  const embedded = await startEmbeddedPostgres(undefined);
  const reason = cause instanceof Error ? cause.message : String(cause);
  let stopped = false;
  return {
    url: embedded.url,
    poolMax: 1,
    description:
      `embedded PGlite, in memory, in the load generator's process: no PostgreSQL answered at ` +
      `${new URL(adminUrl).host} (${reason}). Ratios are NOT representative of production`,
    servingUrl: async () => ({ url: embedded.url, checked: false }),
    async drop() {
      if (stopped) return;
      stopped = true;
      await embedded.stop();
    },
  };
}

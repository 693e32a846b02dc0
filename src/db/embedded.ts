import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** An in-process PostgreSQL (PGlite) served on loopback so postgres.js can talk to it. */
export interface EmbeddedPostgres {
  /** Connection URL for postgres.js. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite persisted under `dataDir` (in memory when `dataDir` is undefined) behind
 * pglite-socket on an ephemeral loopback port.
 *
 * PGlite runs one query at a time and pglite-socket interleaves the extended-protocol messages
 * of concurrent connections, so callers must use a pool of exactly one connection.
 */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  let pgDir: string | undefined;
  if (dataDir) {
    pgDir = path.join(dataDir, 'pglite');
    await mkdir(pgDir, { recursive: true });
  }
  const pglite = await PGlite.create(pgDir);
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await pglite.close();
    },
  };
}

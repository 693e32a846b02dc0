import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ConfigError } from '../config/config';

/** An in-process PostgreSQL (PGlite) served on loopback so postgres.js can talk to it. */
export interface EmbeddedPostgres {
  /** Connection URL for postgres.js. */
  readonly url: string;
  /** Its data directory as a tar file, to start another from (see {@link EmbeddedOptions.from}). */
  dump(): Promise<Blob>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** For an in-memory database: starts as this dump of another (`dump()`) rather than empty. Default: empty. */
  readonly from?: Blob;
}

/**
 * Starts PGlite persisted under `dataDir` (in memory when `dataDir` is undefined) behind
 * pglite-socket on an ephemeral loopback port.
 *
 * PGlite runs one query at a time and pglite-socket interleaves the extended-protocol messages
 * of concurrent connections, so callers must use a pool of exactly one connection. One process at
 * a time may open a `dataDir`: a second is refused with {@link ConfigError}.
 */
export async function startEmbeddedPostgres(dataDir: string | undefined, options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  let pgDir: string | undefined;
  let release = async () => {};
  if (dataDir) {
    pgDir = path.join(dataDir, 'pglite');
    await mkdir(pgDir, { recursive: true });
    release = await claim(path.join(dataDir, 'pglite.pid'), dataDir);
  }
  try {
    const pglite = await PGlite.create(pgDir, options.from ? { loadDataDir: options.from } : {});
    const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await server.start();
    return {
      url: `postgres://postgres@${server.getServerConn()}/postgres`,
      dump: () => pglite.dumpDataDir('none'),
      async stop() {
        await server.stop();
        await pglite.close();
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Makes `pidFile` name this process, or refuses when it names another that is alive: two processes
 * writing PGlite's files at once would corrupt the database. A file left by a process that died is
 * taken over. Returns what removes it.
 */
async function claim(pidFile: string, dataDir: string): Promise<() => Promise<void>> {
  for (;;) {
    try {
      const handle = await open(pidFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(pidFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new ConfigError(
        `DATA_DIR ${dataDir} is in use by process ${holder} (a server or an npm run command): stop it first, or set DATA_DIR to another folder`,
      );
    }
    await rm(pidFile, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

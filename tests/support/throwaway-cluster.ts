import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { freePort } from './free-port';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLUSTERS = '/etc/postgresql';

/**
 * A PostgreSQL cluster of its own (Debian's postgresql-common), for tests that restart the
 * database: the machine's shared server is never restarted or reconfigured by a test.
 */
export interface ThrowawayCluster {
  /** A database on the cluster, for the API under test. */
  readonly url: string;
  /** `pg_ctl restart`: `fast` terminates sessions (57P01), `immediate` is a crash and recovery. */
  restart(mode: 'fast' | 'immediate'): Promise<void>;
  /** Stops and deletes the cluster; safe to call twice. */
  drop(): Promise<void>;
}

/** Whether this machine can create clusters: Debian's postgresql-common, run as root like CI. */
export function canCreateClusters(): boolean {
  return existsSync('/usr/bin/pg_createcluster') && existsSync(CLUSTERS) && process.getuid?.() === 0;
}

export async function createThrowawayCluster(): Promise<ThrowawayCluster> {
  const version = readdirSync(CLUSTERS)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(a) - Number(b))
    .at(-1)!;
  const name = `test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const dataDir = `/var/lib/postgresql/${version}/${name}`;
  const logFile = `/var/log/postgresql/postgresql-${version}-${name}.log`;
  // Trust on loopback only, no fsync: the cluster lives for one test file.
  await run('pg_createcluster', [version, name, '-p', String(port), '-d', dataDir, '-l', logFile, '--start-conf=manual', '-o', 'fsync=off', '-o', 'full_page_writes=off', '--', '--auth=trust', '--no-sync']);
  let dropped: Promise<void> | undefined;
  const drop = () => (dropped ??= run('pg_dropcluster', ['--stop', version, name]).then(() => undefined));
  // Started and restarted with pg_ctl itself, as the cluster's owner: it is done once the server
  // says it is ready, where pg_ctlcluster also sleeps 2 s or more probing it with psql.
  const { uid, gid } = statSync(dataDir);
  const pgCtl = (args: string[]) => run(`/usr/lib/postgresql/${version}/bin/pg_ctl`, ['-D', dataDir, '-l', logFile, '-w', '-s', ...args], { uid, gid });
  try {
    await pgCtl(['start', '-o', `-c config_file=/etc/postgresql/${version}/${name}/postgresql.conf`]);
    await run('psql', ['-X', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', 'create database app']);
  } catch (error) {
    await drop();
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/app`,
    async restart(mode) {
      // Without -o, with the options it was started with (postmaster.opts).
      await pgCtl(['restart', '-m', mode]);
    },
    drop,
  };
}


import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { freePort } from './free-port';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

const run = promisify(execFile);

/** A throwaway primary and a hot standby streaming from it, each a server of its own on a free port. */
export interface ReplicaPair {
  /** Database `app` on the primary. */
  readonly primaryUrl: string;
  /** The same database on the standby (read-only). */
  readonly standbyUrl: string;
  /** Stops (or resumes) the standby replaying what the primary writes, as a lagging replica would. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stops both servers and deletes them; safe to call twice. */
  drop(): Promise<void>;
}

/** Whether this machine can run throwaway servers: PostgreSQL's binaries, and root to run them as `postgres`, as CI does. */
export function canRunThrowawayServers(): boolean {
  try {
    return readdirSync('/usr/lib/postgresql').length > 0 && process.getuid?.() === 0;
  } catch {
    return false;
  }
}


/**
 * `initdb`, start, create database `app`, then `pg_basebackup -R -X stream` a standby and start it.
 * The shared server the other tests use is never touched. No fsync: they live for one test file.
 */
export async function createReplicaPair(): Promise<ReplicaPair> {
  const version = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b)).at(-1)!;
  const bin = (name: string) => `/usr/lib/postgresql/${version}/bin/${name}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'replica-pair-'));
  const { uid, gid } = statSync('/var/lib/postgresql');
  chownSync(dir, uid, gid);
  const as = { uid, gid };
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const options = (port: number) => `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const pgCtl = (data: string, args: string[]) => run(bin('pg_ctl'), ['-D', `${dir}/${data}`, '-l', `${dir}/${data}.log`, '-w', '-s', ...args], as);
  let dropped: Promise<void> | undefined;
  const drop = () =>
    (dropped ??= (async () => {
      for (const data of ['standby', 'primary']) await pgCtl(data, ['stop', '-m', 'immediate']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    await run(bin('initdb'), ['-A', 'trust', '-U', 'postgres', '--no-sync', '-D', `${dir}/primary`], as);
    await pgCtl('primary', ['start', '-o', options(primaryPort)]);
    await run('psql', ['-X', '-q', '-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-c', 'create database app']);
    await run(bin('pg_basebackup'), ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', `${dir}/standby`, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'], as);
    await pgCtl('standby', ['start', '-o', options(standbyPort)]);
  } catch (error) {
    await drop();
    throw error;
  }
  const standbyUrl = `postgres://postgres@127.0.0.1:${standbyPort}/app`;
  const onStandby = async (statement: string) => {
    const sql = postgres(standbyUrl, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(statement);
    } finally {
      await sql.end();
    }
  };
  return {
    primaryUrl: `postgres://postgres@127.0.0.1:${primaryPort}/app`,
    standbyUrl,
    pauseReplay: () => onStandby('select pg_wal_replay_pause()'),
    resumeReplay: () => onStandby('select pg_wal_replay_resume()'),
    drop,
  };
}

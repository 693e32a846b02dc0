import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { freePort } from './free-port';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A PgBouncer of this test's own, in transaction mode, in front of the PostgreSQL at `DATABASE_URL`. */
export interface PgBouncer {
  /** `url` (a URL of that PostgreSQL) with this PgBouncer's host and port instead. */
  through(url: string): string;
  stop(): void;
}

/** PgBouncer refuses to run as root: as root, it runs as `postgres`, as Debian's package does. */
const asPostgres = process.getuid?.() === 0;


async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts `pgbouncer` (Debian's 1.18, `apt-get install pgbouncer`) with `pool_mode = transaction`
 * on a free port, trusting `users` (they must exist in PostgreSQL), and waits until it accepts.
 */
export async function startPgBouncer(users: readonly string[]): Promise<PgBouncer> {
  const upstream = new URL(process.env.DATABASE_URL!);
  const dir = mkdtempSync(path.join(tmpdir(), 'pgbouncer-'));
  if (asPostgres) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  }
  const port = await freePort();
  writeFileSync(path.join(dir, 'users.txt'), users.map((user) => `"${user}" ""`).join('\n') + '\n');
  writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${dir}/users.txt`,
      'pool_mode = transaction',
      'max_client_conn = 200',
      'default_pool_size = 20',
      `logfile = ${dir}/pgbouncer.log`,
      `pidfile = ${dir}/pgbouncer.pid`,
    ].join('\n') + '\n',
  );
  const command = asPostgres ? ['runuser', ['-u', 'postgres', '--', 'pgbouncer', '-d', `${dir}/pgbouncer.ini`]] : ['pgbouncer', ['-d', `${dir}/pgbouncer.ini`]];
  const started = spawnSync(command[0] as string, command[1] as string[], { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`pgbouncer did not start (apt-get install pgbouncer): ${started.stderr}`);
  for (let attempt = 0; !(await accepting(port)); attempt++) {
    if (attempt > 100) throw new Error(`pgbouncer does not accept on ${port}: ${readFileSync(`${dir}/pgbouncer.log`, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    through(url) {
      const pooled = new URL(url);
      pooled.hostname = '127.0.0.1';
      pooled.port = String(port);
      return pooled.toString();
    },
    stop() {
      try {
        process.kill(Number(readFileSync(`${dir}/pgbouncer.pid`, 'utf8')));
      } catch {
        // Already gone.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { readdirSync, readFileSync } from 'node:fs';

/** Linux's clock ticks per second for /proc CPU times (`getconf CLK_TCK`). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) so far of each process, by pid, from /proc; empty where there is none. */
export type CpuByProcess = ReadonlyMap<number, number>;

/**
 * The CPU seconds so far of PostgreSQL's backends connected to database `name` on this machine:
 * their process titles (`postgres: … role database host(port) state`) name it. Empty when
 * PostgreSQL runs elsewhere or the platform has no /proc.
 */
export function backendCpuOf(name: string): CpuByProcess {
  const byProcess = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return byProcess;
  }
  const named = ` ${name} `;
  for (const pid of pids) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!title.startsWith('postgres:') || !title.includes(named)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name: utime is the 14th, stime the 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byProcess.set(Number(pid), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return byProcess;
}

/** CPU seconds used between two readings: a backend started in between counts from zero; one gone is lost, which a pool's long-lived sessions make rare. */
export function cpuBetween(before: CpuByProcess, after: CpuByProcess): number {
  let seconds = 0;
  for (const [pid, now] of after) seconds += now - (before.get(pid) ?? 0);
  return seconds;
}

import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** How long a server may take to finish in-flight requests and close its pool. */
const STOP_GRACE_MS = 10_000;

/** A fresh seal-signing key for one benchmark run, as `AUDIT_SIGNING_KEY` takes it. */
export const benchSigningKey = (): string => generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');

/** What {@link startBenchServer} sends the child, as its only message. */
export interface ServerStartRequest {
  readonly audit: boolean;
  /** Whether the server runs the sealer (P4 compares both); off with the audit OFF. */
  readonly seal: boolean;
  /** Whether its database has the audit backstop (P5 compares both); not with the audit OFF. */
  readonly backstop: boolean;
  /** The seal-signing key (PKCS#8, base64), which production requires. */
  readonly signingKey: string;
  /** How the report names it; `audit ON` or `audit OFF` by default. */
  readonly label?: string;
  readonly databaseUrl: string;
  /** `false` on the embedded PGlite only, whose single role cannot pass production's role check. */
  readonly checkServingRole: boolean;
  readonly poolMax: number;
  readonly jwtSecret: string;
}

/** The child's answer: where it listens, or why it could not start. */
export type ServerStartReply = { readonly url: string } | { readonly error: string };

/** One API server in a child process. */
export interface BenchServer {
  /** `audit ON`, `audit OFF`, P4's `sealer ON` / `sealer OFF` or P5's `backstop ON` / `backstop OFF` (the trail ON on both). */
  readonly label: string;
  readonly url: string;
  /** The server process, for reading its memory under `/proc`. */
  readonly pid: number;
  /** CPU seconds (user + system) the server process has used so far; `undefined` off Linux. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the API in its own Node process (`server-process.js`), so it has an event loop and a JIT
 * of its own and the load generator in this process does not compete with it for either.
 */
export async function startBenchServer(request: ServerStartRequest): Promise<BenchServer> {
  const child = fork(path.join(__dirname, 'server-process.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reply = await new Promise<ServerStartReply>((resolve, reject) => {
    child.once('message', (message) => resolve(message as ServerStartReply));
    child.once('exit', (code) => reject(new Error(`the server process exited (code ${code}) before it was ready`)));
    child.send(request);
  });
  if ('error' in reply) {
    await exited(child, STOP_GRACE_MS);
    throw new Error(`the server (${labelOf(request)}) did not start: ${reply.error}`);
  }
  child.removeAllListeners('exit');
  return {
    label: labelOf(request),
    url: reply.url,
    pid: child.pid!,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = exited(child, STOP_GRACE_MS);
      child.disconnect();
      await done;
    },
  };
}

const labelOf = (request: ServerStartRequest) => request.label ?? (request.audit ? 'audit ON' : 'audit OFF');

/** Resolves when `child` has exited, killing it if it has not done so within `graceMs`. */
function exited(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** `/proc/<pid>/stat` counts utime and stime in USER_HZ ticks, which Linux fixes at 100 per second. */
const TICKS_PER_SECOND = 100;

function processCpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name: state is 3rd, utime 14th, stime 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

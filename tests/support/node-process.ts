import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * The built server and CLIs as users run them (`npm start` is `node dist/main.js` after a build;
 * `npm test` builds dist first), with their output collected and their lifetime bounded; and
 * `npm start` itself, for what npm adds in a terminal (it forwards the signals it gets to node).
 */

export const ROOT = path.resolve(__dirname, '../..');
export const MAIN = path.join(ROOT, 'dist/main.js');
export const TOKEN_CLI = path.join(ROOT, 'dist/cli/token.js');
export const VERIFY_CLI = path.join(ROOT, 'dist/cli/audit-verify.js');
export const ANCHOR_CLI = path.join(ROOT, 'dist/cli/audit-anchor.js');
const START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 30_000;

export type LogLine = { level: number; msg: string } & Record<string, unknown>;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A spawned `node` process whose output is collected as it arrives. */
export interface NodeProcess {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  /** Settles when the process has exited, whatever the reason. */
  readonly exited: Promise<Exit>;
  /** SIGKILLs the process, or its whole process group when it leads one (`npm start` and its node). */
  kill(): void;
}

const running = new Set<NodeProcess>();

/** Kills every child still running; call it from `afterAll`. */
export function killAll(): void {
  for (const proc of running) proc.kill();
}

/**
 * The environment of a user with nothing configured: the variables the server reads are removed
 * from jest's own (which has NODE_ENV=test and maybe DATABASE_URL), then `env` is applied.
 */
export function userEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of ['NODE_ENV', 'DATABASE_URL', 'MIGRATION_DATABASE_URL', 'SERVING_ROLE_PASSWORD', 'DATABASE_POOL_MAX', 'DATABASE_STATEMENT_TIMEOUT_MS', 'DATABASE_LOCK_TIMEOUT_MS', 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'JWT_SECRET', 'JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_MAX_AGE', 'JWT_CLOCK_TOLERANCE', 'PORT', 'HOST', 'DATA_DIR', 'GRAPHQL_INTROSPECTION', 'CORS_ORIGINS', 'LOG_LEVEL', 'TRUST_PROXY', 'AUDIT_SIGNING_KEY', 'AUDIT_SEAL_INTERVAL_MS', 'AUDIT_ANCHOR_FILE']) {
    delete base[name];
  }
  return { ...base, ...env };
}

export function spawnNode(script: string, args: string[], env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  return collected(child, () => child.kill('SIGKILL'));
}

/**
 * `npm start` run in `packageDir` as a terminal runs a foreground job: in a process group of its
 * own (npm, and the node it starts), which is what Ctrl-C signals; see {@link pressCtrlC}.
 */
function spawnNpmStart(packageDir: string, env: Record<string, string>): NodeProcess {
  const child = spawn('npm', ['start'], { cwd: packageDir, env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return collected(child, () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  });
}

/** What Ctrl-C in a terminal does: SIGINT to every process of the foreground process group. */
export function pressCtrlC(proc: NodeProcess): void {
  process.kill(-proc.child.pid!, 'SIGINT');
}

/**
 * A directory that npm takes for this package (links to its package.json, build settings,
 * sources and node_modules) but with a dist/ of its own: `npm start` there rebuilds that one,
 * not the dist/ that other test files run at the same time. Remove it with `rm -r`, which
 * removes the links, not what they point to.
 */
export async function linkedPackage(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'api-npm-start-'));
  for (const entry of ['package.json', '.swcrc', 'src', 'bench', 'drizzle', 'node_modules']) {
    await symlink(path.join(ROOT, entry), path.join(dir, entry));
  }
  return dir;
}

/** Collects the output of `child` as it arrives; `kill` is how {@link killAll} ends it. */
function collected(child: ChildProcess, kill: () => void): NodeProcess {
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal, ...output });
    });
  });
  const proc: NodeProcess = { child, output, exited, kill };
  running.add(proc);
  return proc;
}

/** Waits for the process to exit; a process still running after `timeoutMs` is killed and fails the test. */
export async function waitForExit(proc: NodeProcess, timeoutMs = EXIT_TIMEOUT_MS): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`still running after ${timeoutMs} ms\nstdout:\n${proc.output.stdout}\nstderr:\n${proc.output.stderr}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command to completion, like a user in a shell. */
export function run(script: string, args: string[], env: Record<string, string>): Promise<Exit> {
  return waitForExit(spawnNode(script, args, env));
}

/** The complete pino JSON lines printed so far; a line that is not JSON fails the test. */
export function logLines(stdout: string): LogLine[] {
  return completeLines(stdout).map(parseLogLine);
}

/** The server's pino lines in the output of `npm start`, without npm's banners and the scripts it echoes. */
export function npmLogLines(stdout: string): LogLine[] {
  return completeLines(stdout)
    .filter((line) => line.startsWith('{'))
    .map(parseLogLine);
}

/** The lines of `output` that are complete (a line being written may end without its newline) and not blank. */
function completeLines(output: string): string[] {
  return output
    .slice(0, output.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line.trim() !== '');
}

function parseLogLine(line: string): LogLine {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    throw new Error(`stdout line is not JSON: ${line}`);
  }
}

export interface RunningApi {
  readonly proc: NodeProcess;
  /** The `/graphql` URL from the "GraphQL API ready" line. */
  readonly url: string;
}

/** Starts `node dist/main.js` and waits for its "GraphQL API ready" log line. */
export function startApi(env: Record<string, string>): Promise<RunningApi> {
  return whenReady(spawnNode(MAIN, [], env), logLines);
}

/** Starts `npm start` in `packageDir` (see {@link linkedPackage}) and waits for the server's "GraphQL API ready" line. */
export function startApiWithNpm(packageDir: string, env: Record<string, string>): Promise<RunningApi> {
  return whenReady(spawnNpmStart(packageDir, env), npmLogLines);
}

/** Waits for the "GraphQL API ready" line among the `lines` of the output of `proc`. */
async function whenReady(proc: NodeProcess, lines: (stdout: string) => LogLine[]): Promise<RunningApi> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exit: Exit | undefined;
  void proc.exited.then((result) => (exit = result));
  while (Date.now() < deadline && exit === undefined) {
    const ready = lines(proc.output.stdout).find((line) => line.msg === 'GraphQL API ready');
    if (ready) return { proc, url: String(ready.url) };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  proc.kill();
  throw new Error(
    `${exit ? `exited with ${exit.code ?? exit.signal}` : `not ready after ${START_TIMEOUT_MS} ms`} before "GraphQL API ready"\n` +
      `stdout:\n${proc.output.stdout}\nstderr:\n${proc.output.stderr}`,
  );
}

/** Sends SIGTERM, as a process manager does, and waits for the exit. */
export async function stopApi(api: RunningApi): Promise<Exit> {
  api.proc.child.kill('SIGTERM');
  return waitForExit(api.proc);
}

/** `npm run token -- <args>`: the printed token. */
export async function mintToken(env: Record<string, string>, ...args: string[]): Promise<string> {
  const result = await run(TOKEN_CLI, args, env);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const lines = result.stdout.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

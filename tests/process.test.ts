import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * The built server as users run it (`npm start` is `node dist/main.js` after a build; `npm test`
 * builds dist first), in embedded mode: no DATABASE_URL, no JWT_SECRET, a temporary DATA_DIR.
 */

const ROOT = path.resolve(__dirname, '..');
const MAIN = path.join(ROOT, 'dist/main.js');
const TOKEN_CLI = path.join(ROOT, 'dist/cli/token.js');
const START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 30_000;

jest.setTimeout(120_000);

type LogLine = { level: number; msg: string } & Record<string, unknown>;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A spawned `node` process whose output is collected as it arrives. */
interface NodeProcess {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  /** Settles when the process has exited, whatever the reason. */
  readonly exited: Promise<Exit>;
}

const running = new Set<ChildProcess>();

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * The environment of a user with nothing configured: the variables the server reads are removed
 * from jest's own (which has NODE_ENV=test and maybe DATABASE_URL), then `env` is applied.
 */
function userEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of ['NODE_ENV', 'DATABASE_URL', 'DATABASE_POOL_MAX', 'JWT_SECRET', 'JWKS_URL', 'PORT', 'HOST', 'DATA_DIR', 'GRAPHQL_INTROSPECTION', 'CORS_ORIGINS', 'LOG_LEVEL']) {
    delete base[name];
  }
  return { ...base, ...env };
}

function spawnNode(script: string, args: string[], env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, ...output });
    });
  });
  return { child, output, exited };
}

/** Waits for the process to exit; a process still running after `timeoutMs` is killed and fails the test. */
async function waitForExit(proc: NodeProcess, timeoutMs = EXIT_TIMEOUT_MS): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      proc.child.kill('SIGKILL');
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
function run(script: string, args: string[], env: Record<string, string>): Promise<Exit> {
  return waitForExit(spawnNode(script, args, env));
}

/** The complete pino JSON lines printed so far; a line that is not JSON fails the test. */
function logLines(stdout: string): LogLine[] {
  return stdout
    .slice(0, stdout.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`stdout line is not JSON: ${line}`);
      }
    });
}

interface RunningApi {
  readonly proc: NodeProcess;
  /** The `/graphql` URL from the "GraphQL API ready" line. */
  readonly url: string;
}

/** Starts `node dist/main.js` and waits for its "GraphQL API ready" log line. */
async function startApi(env: Record<string, string>): Promise<RunningApi> {
  const proc = spawnNode(MAIN, [], env);
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exit: Exit | undefined;
  void proc.exited.then((result) => (exit = result));
  while (Date.now() < deadline && exit === undefined) {
    const ready = logLines(proc.output.stdout).find((line) => line.msg === 'GraphQL API ready');
    if (ready) return { proc, url: String(ready.url) };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  proc.child.kill('SIGKILL');
  throw new Error(
    `${exit ? `exited with ${exit.code ?? exit.signal}` : `not ready after ${START_TIMEOUT_MS} ms`} before "GraphQL API ready"\n` +
      `stdout:\n${proc.output.stdout}\nstderr:\n${proc.output.stderr}`,
  );
}

/** Sends SIGTERM, as a process manager does, and waits for the exit. */
async function stopApi(api: RunningApi): Promise<Exit> {
  api.proc.child.kill('SIGTERM');
  return waitForExit(api.proc);
}

/** `npm run token -- <args>`: the printed token. */
async function mintToken(env: Record<string, string>, ...args: string[]): Promise<string> {
  const result = await run(TOKEN_CLI, args, env);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const lines = result.stdout.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

async function graphql(url: string, token: string, query: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

const devSecretWarning = (stdout: string) => logLines(stdout).find((line) => line.msg.startsWith('JWT_SECRET is not set'));

describe('node dist/main.js in embedded mode', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let api: RunningApi | undefined;
  let aliceToken: string;
  let itemId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'api-process-test-'));
    env = { DATA_DIR: dataDir, PORT: '0' };
  });
  afterAll(async () => {
    if (api) await stopApi(api);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts without DATABASE_URL or JWT_SECRET, logging JSON lines and the URL it listens on', async () => {
    api = await startApi(env);
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const lines = logLines(api.proc.output.stdout);
    expect(lines.map((line) => line.msg)).toContain('DATABASE_URL is not set: using the embedded PGlite database');
    expect(devSecretWarning(api.proc.output.stdout)).toMatchObject({ level: 40, dataDir });
    expect(devSecretWarning(api.proc.output.stdout)!.msg).toContain('generated a development secret');

    const health = await fetch(new URL('/healthz', api.url));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('accepts a token minted by the token CLI for the same DATA_DIR', async () => {
    aliceToken = await mintToken(env, '--sub', 'alice');
    expect(await graphql(api!.url, aliceToken, '{ me { id role } }')).toEqual({
      status: 200,
      body: { data: { me: { id: 'alice', role: 'USER' } } },
    });

    const created = await graphql(api!.url, aliceToken, 'mutation { createItem(input: {title: "survives restarts"}) { id title ownerId } }');
    expect(created.body).toEqual({ data: { createItem: { id: expect.any(String), title: 'survives restarts', ownerId: 'alice' } } });
    itemId = created.body.data.createItem.id;
  });

  it('rejects a token signed with another secret', async () => {
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'api-process-test-other-'));
    try {
      const foreign = await mintToken({ DATA_DIR: otherDir }, '--sub', 'alice');
      const response = await graphql(api!.url, foreign, '{ me { id } }');
      expect(response.status).toBe(401);
      expect(response.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('exits with code 0 on SIGTERM', async () => {
    const exit = await stopApi(api!);
    api = undefined;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.stderr).toBe('');
    expect(logLines(exit.stdout).map((line) => line.msg)).toEqual(
      expect.arrayContaining(['shutting down: finishing in-flight requests', 'stopped']),
    );
  });

  it('keeps the data and the development secret across a restart on the same DATA_DIR', async () => {
    api = await startApi(env);
    expect(devSecretWarning(api.proc.output.stdout)!.msg).toContain('using a development secret');
    const response = await graphql(api.url, aliceToken, `{ item(id: "${itemId}") { id title ownerId } }`);
    expect(response).toEqual({
      status: 200,
      body: { data: { item: { id: itemId, title: 'survives restarts', ownerId: 'alice' } } },
    });
  });

  it('makes an ADMIN of a token minted with --role admin', async () => {
    const adminToken = await mintToken(env, '--sub', 'root', '--role', 'admin');
    const response = await graphql(api!.url, adminToken, '{ me { id role } items { nodes { id ownerId } } }');
    expect(response.body).toEqual({
      data: { me: { id: 'root', role: 'ADMIN' }, items: { nodes: [{ id: itemId, ownerId: 'alice' }] } },
    });
  });
});

describe('the token CLI', () => {
  it('exits 1 with a usage line when --sub is missing', async () => {
    const result = await run(TOKEN_CLI, [], { DATA_DIR: path.join(os.tmpdir(), 'never-created') });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('usage: npm run token -- --sub <user id> [--role admin|user] [--expires 8h]\n');
  });
});

describe('production refuses an unsafe configuration', () => {
  /** An address nothing listens on: the refusal must come before any connection attempt. */
  const UNREACHABLE_DATABASE = 'postgres://postgres@127.0.0.1:1/nothing';

  it.each([
    ['without DATABASE_URL', { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }, 'DATABASE_URL'],
    ['without JWT_SECRET or JWKS_URL', { NODE_ENV: 'production', DATABASE_URL: UNREACHABLE_DATABASE }, 'JWT_SECRET'],
  ])('exits 1 %s, with one line on stderr', async (_case, env, mentioned) => {
    const result = await run(MAIN, [], { ...env, PORT: '0', DATA_DIR: path.join(os.tmpdir(), 'never-created') });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^refusing to start: [^\n]+\n$/);
    expect(result.stderr).toContain(mentioned);
  });
});

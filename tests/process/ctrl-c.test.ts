import { rm } from 'node:fs/promises';
import http from 'node:http';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  killAll,
  linkedPackage,
  npmLogLines,
  pressCtrlC,
  startApiWithNpm,
  waitForExit,
  type NodeProcess,
  type RunningApi,
} from '../support/node-process';
import { testServerEnv } from '../support/test-server';

/**
 * Ctrl-C on `npm start` in a terminal. The terminal sends SIGINT to the whole foreground process
 * group, npm and node, and npm forwards the one it gets to node: one Ctrl-C is two SIGINTs for
 * node, and the second must not cut short the graceful stop that commits the audit trail's last
 * rows. Pressing Ctrl-C again is how a user says "now".
 */

jest.setTimeout(60_000);

const FORCED = 'forced exit: in-flight requests and audit rows not yet committed are lost';

let database: TestDatabase;
let packageDirs: string[] = [];
let held: http.ClientRequest | undefined;
/**
 * The `npm start` of each test, begun together (each in a package of its own, since each builds its
 * dist/): building and starting is most of the time a test takes.
 */
let started: [Promise<RunningApi>, Promise<RunningApi>];

beforeAll(async () => {
  database = await createTestDatabase({ migrated: true });
  packageDirs = await Promise.all([linkedPackage(), linkedPackage()]);
  const env = testServerEnv(database);
  started = [startApiWithNpm(packageDirs[0]!, env), startApiWithNpm(packageDirs[1]!, env)];
  // Each failure is reported by the test that awaits it; none may go unhandled meanwhile.
  for (const api of started) api.catch(() => {});
});
afterAll(async () => {
  killAll();
  held?.destroy();
  await database.drop();
  for (const dir of packageDirs) await rm(dir, { recursive: true, force: true });
});

const messages = (stdout: string) => npmLogLines(stdout).map((line) => line.msg);

/** Waits until the server has logged `msg`; its exit or 10 s of silence fails the test. */
async function untilLogged(proc: NodeProcess, msg: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline && proc.child.exitCode === null; ) {
    if (messages(proc.output.stdout).includes(msg)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`"${msg}" was not logged\nstdout:\n${proc.output.stdout}\nstderr:\n${proc.output.stderr}`);
}

/**
 * A request the server has begun (it answered `100 Continue`) but whose body never comes: the
 * graceful stop waits for it, for the drain's grace period of 10 s.
 */
async function requestWithoutBody(url: string): Promise<http.ClientRequest> {
  const request = http.request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': '100', expect: '100-continue' },
  });
  // The forced exit resets the connection.
  request.on('error', () => {});
  request.flushHeaders();
  await new Promise<void>((resolve, reject) => {
    request.once('continue', resolve);
    request.once('response', (response) => reject(new Error(`answered ${response.statusCode} instead of 100 Continue`)));
  });
  return request;
}

it('stops gracefully on Ctrl-C, though node gets two SIGINTs, and exits 0', async () => {
  const api = await started[0];
  expect((await fetch(new URL('/healthz', api.url))).status).toBe(200);

  pressCtrlC(api.proc);
  const exit = await waitForExit(api.proc);
  expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
  expect(messages(exit.stdout)).toEqual(expect.arrayContaining(['shutting down: finishing in-flight requests', 'stopped']));
  expect(messages(exit.stdout)).not.toContain(FORCED);
});

it('exits at once, logged as forced, on a second Ctrl-C while a request holds up the stop', async () => {
  const api = await started[1];
  held = await requestWithoutBody(api.url);

  pressCtrlC(api.proc);
  // node has had one SIGINT or two (npm forwards its own), and waits for the held request.
  await untilLogged(api.proc, 'shutting down: finishing in-flight requests');
  // Past the second in which node takes further SIGINTs for the same press (ONE_PRESS_MS in src/main.ts).
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  expect(api.proc.child.exitCode).toBeNull();
  expect(messages(api.proc.output.stdout)).not.toContain(FORCED);
  pressCtrlC(api.proc);
  const exit = await waitForExit(api.proc, 5_000);
  // npm exits with node's code: 128 + SIGINT, as a shell reports a process that SIGINT ended.
  expect(exit.code).toBe(130);
  expect(npmLogLines(exit.stdout)).toContainEqual(expect.objectContaining({ level: 50, msg: FORCED, signal: 'SIGINT' }));
  expect(messages(exit.stdout)).not.toContain('stopped');
});

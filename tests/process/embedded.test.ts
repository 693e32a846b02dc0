import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expectRequestError } from '../support/errors';
import { graphql } from '../support/graphql-http';
import { killAll, logLines, mintToken, run, startApi, stopApi, MAIN, TOKEN_CLI, VERIFY_CLI, type Exit, type RunningApi } from '../support/node-process';

/**
 * The built server as users run it (`npm start` is `node dist/main.js` after a build; `npm test`
 * builds dist first), in embedded mode: no DATABASE_URL, no JWT_SECRET, a temporary DATA_DIR.
 */

jest.setTimeout(120_000);
afterAll(killAll);

const devSecretWarning = (stdout: string) => logLines(stdout).find((line) => line.msg.startsWith('JWT_SECRET is not set'));

let dataDir: string;
let env: Record<string, string>;
/**
 * The first start on a fresh DATA_DIR, the slowest step here (PGlite creates its database there):
 * begun before any test, so that it goes on while the tests that need no DATA_DIR run (they come
 * first), and awaited by the first test of embedded mode, which checks it.
 */
let firstStart: Promise<RunningApi>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'api-process-test-'));
  env = { DATA_DIR: dataDir, PORT: '0', AUDIT_SEAL_INTERVAL_MS: '100' };
  firstStart = startApi(env);
  // Its failure is reported by the test that awaits it; none may go unhandled meanwhile.
  firstStart.catch(() => {});
});

/*
 * The commands below need no DATA_DIR and no server of their own: this file's first start goes on
 * meanwhile, and each describe starts its commands at once in `beforeAll`, every test checking
 * one of them (node's start, not the test, is what takes time).
 */

describe('the token CLI', () => {
  const NO_DATA_DIR = { DATA_DIR: path.join(os.tmpdir(), 'never-created') };
  const SECRET_ENV = { JWT_SECRET: 'x'.repeat(32), ...NO_DATA_DIR };
  let withoutSub: Promise<Exit>;
  let minted: Promise<string>;
  let overMaxAge: Promise<Exit>;
  let longSub: Promise<Exit>;

  beforeAll(() => {
    withoutSub = run(TOKEN_CLI, [], NO_DATA_DIR);
    minted = mintToken({ ...SECRET_ENV, JWT_ISSUER: 'https://auth.example.test/', JWT_AUDIENCE: 'audited-api' }, '--sub', 'alice');
    overMaxAge = run(TOKEN_CLI, ['--sub', 'alice', '--expires', '2h'], { ...SECRET_ENV, JWT_MAX_AGE: '1h' });
    longSub = run(TOKEN_CLI, ['--sub', 'a'.repeat(256)], SECRET_ENV);
    // Each failure is reported by the test that awaits it; none may go unhandled meanwhile.
    for (const started of [withoutSub, minted, overMaxAge, longSub]) started.catch(() => {});
  });

  it('exits 1 with a usage line when --sub is missing', async () => {
    const result = await withoutSub;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('usage: npm run token -- --sub <user id> [--role admin|user] [--expires 8h] [--issuer iss] [--audience aud]\n');
  });

  /** The claims of a token, read without verifying it. */
  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));

  it('mints a token that expires in 8h by default, carrying JWT_ISSUER and JWT_AUDIENCE', async () => {
    const claims = claimsOf(await minted);
    expect(claims).toMatchObject({ sub: 'alice', iss: 'https://auth.example.test/', aud: 'audited-api' });
    expect(claims.exp - claims.iat).toBe(8 * 3600);
  });

  it('refuses a lifetime over JWT_MAX_AGE, which the server would refuse', async () => {
    const result = await overMaxAge;
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain('exceeds JWT_MAX_AGE');
  });

  it('refuses a subject the server would refuse', async () => {
    const result = await longSub;
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain('--sub must be 1 to 255 characters');
  });
});

describe('production refuses an unsafe configuration', () => {
  /** An address nothing listens on: the refusal must come before any connection attempt. */
  const UNREACHABLE_DATABASE = 'postgres://postgres@127.0.0.1:1/nothing';
  const CASES: [string, Record<string, string>, string][] = [
    ['without DATABASE_URL', { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }, 'DATABASE_URL'],
    ['without JWT_SECRET or JWKS_URL', { NODE_ENV: 'production', DATABASE_URL: UNREACHABLE_DATABASE }, 'JWT_SECRET'],
    [
      'with JWKS_URL but no JWT_AUDIENCE (tokens for other applications would be accepted)',
      { NODE_ENV: 'production', DATABASE_URL: UNREACHABLE_DATABASE, JWKS_URL: 'https://idp.example.test/jwks.json', JWT_ISSUER: 'https://idp.example.test/' },
      'JWT_AUDIENCE',
    ],
    [
      'with JWKS_URL but no JWT_ISSUER',
      { NODE_ENV: 'production', DATABASE_URL: UNREACHABLE_DATABASE, JWKS_URL: 'https://idp.example.test/jwks.json', JWT_AUDIENCE: 'audited-api' },
      'JWT_ISSUER',
    ],
    ['with a JWT_MAX_AGE that is not a duration', { NODE_ENV: 'production', DATABASE_URL: UNREACHABLE_DATABASE, JWT_SECRET: 'x'.repeat(32), JWT_MAX_AGE: 'forever' }, 'JWT_MAX_AGE'],
    ['without AUDIT_SIGNING_KEY (seals signed by a generated key prove nothing)', { NODE_ENV: 'production', DATABASE_URL: UNREACHABLE_DATABASE, JWT_SECRET: 'x'.repeat(32) }, 'AUDIT_SIGNING_KEY'],
    [
      'with an AUDIT_SIGNING_KEY that is not an Ed25519 private key',
      // An X25519 key: PKCS#8 like an Ed25519 one, but it cannot sign.
      { NODE_ENV: 'production', DATABASE_URL: UNREACHABLE_DATABASE, JWT_SECRET: 'x'.repeat(32), AUDIT_SIGNING_KEY: 'MC4CAQAwBQYDK2VuBCIEIAjNcl5ngwc3oaPl4CpwMrM1mS4/ibA8YDDr+7ZCsEpV' },
      'AUDIT_SIGNING_KEY must be an Ed25519 private key',
    ],
  ];
  /** The exit of each case's server, by its environment. */
  const exits = new Map<Record<string, string>, Promise<Exit>>();

  beforeAll(() => {
    for (const [, settings] of CASES) {
      const exit = run(MAIN, [], { ...settings, PORT: '0', DATA_DIR: path.join(os.tmpdir(), 'never-created') });
      exit.catch(() => {}); // reported by the test that awaits it
      exits.set(settings, exit);
    }
  });

  it.each(CASES)('exits 1 %s, with one line on stderr', async (_case, settings, mentioned) => {
    const result = await exits.get(settings)!;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^refusing to start: [^\n]+\n$/);
    expect(result.stderr).toContain(mentioned);
  });
});

describe('node dist/main.js in embedded mode', () => {
  let api: RunningApi | undefined;
  let aliceToken: string;
  let adminToken: string;
  let itemId: string;

  afterAll(async () => {
    if (api) await stopApi(api);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts without DATABASE_URL or JWT_SECRET, logging JSON lines and the URL it listens on', async () => {
    api = await firstStart;
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const lines = logLines(api.proc.output.stdout);
    expect(lines.map((line) => line.msg)).toContain('DATABASE_URL is not set: using the embedded PGlite database');
    expect(devSecretWarning(api.proc.output.stdout)).toMatchObject({ level: 40, dataDir });
    expect(devSecretWarning(api.proc.output.stdout)!.msg).toContain('generated a development secret');
    expect(lines.find((line) => line.msg.startsWith('AUDIT_SIGNING_KEY is not set'))!.msg).toContain('generated a development key');

    const health = await fetch(new URL('/healthz', api.url));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('accepts a token minted by the token CLI for the same DATA_DIR', async () => {
    // The admin's token too, for the last test: the CLI only reads the secret, so it runs alongside.
    [aliceToken, adminToken] = await Promise.all([mintToken(env, '--sub', 'alice'), mintToken(env, '--sub', 'root', '--role', 'admin')]);
    expect(await graphql(api!.url, aliceToken, '{ me { id: userId role } }')).toEqual({
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
      expectRequestError(await graphql(api!.url, foreign, '{ me { id: userId } }'), { status: 401, code: 'UNAUTHENTICATED' });
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

  it('seals the trail with the development key under DATA_DIR, which audit:verify finds there once the server is stopped', async () => {
    const verified = await run(VERIFY_CLI, [], env);
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toMatch(/^OK: [1-9]\d* seals, [1-9]\d* sealed rows unchanged, /);
  });

  it('runs audit:export on the embedded database under DATA_DIR', async () => {
    const exporter = path.join(path.dirname(VERIFY_CLI), 'audit-export.js');
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const exported = await run(exporter, ['--from', from, '--to', to], env);
    expect(exported.code).toBe(0);
    const rows = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { action: string });
    expect(rows.map((row) => row.action)).toContain('create_item');
    expect(exported.stderr).toMatch(/^exported \d+ row\(s\) from /);
  });

  it('runs audit:retention on the embedded database under DATA_DIR, signing with the development key there', async () => {
    const retention = path.join(path.dirname(VERIFY_CLI), 'audit-retention.js');
    const dryRun = await run(retention, ['--before', '2001-01-01', '--dry-run'], env);
    expect(dryRun).toMatchObject({ code: 0, stderr: '', stdout: 'dry run: 0 month(s) end on or before 2001-01-01T00:00:00.000Z; nothing dropped\n' });
    const nothing = await run(retention, ['--before', '2001-01-01'], env);
    expect(nothing).toMatchObject({ code: 0, stderr: '', stdout: 'no month of the trail ends on or before 2001-01-01T00:00:00.000Z; nothing dropped\n' });
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

  it('refuses a second process on the same DATA_DIR, server or command, with a clear message', async () => {
    const inUse = new RegExp(`^refusing to start: DATA_DIR ${dataDir} is in use by process ${api!.proc.child.pid} \\(a server or an npm run command\\): stop it first, or set DATA_DIR to another folder\n$`);
    const [second, verified] = await Promise.all([run(MAIN, [], env), run(VERIFY_CLI, [], env)]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(inUse);
    expect(verified.code).toBe(2);
    expect(verified.stderr).toContain(`DATA_DIR ${dataDir} is in use by process ${api!.proc.child.pid}`);
    // The first one goes on serving.
    expect((await fetch(new URL('/healthz', api!.url))).status).toBe(200);
  });

  it('makes an ADMIN of a token minted with --role admin', async () => {
    const response = await graphql(api!.url, adminToken, '{ me { id: userId role } items { nodes { id ownerId } } }');
    expect(response.body).toEqual({
      data: { me: { id: 'root', role: 'ADMIN' }, items: { nodes: [{ id: itemId, ownerId: 'alice' }] } },
    });
  });
});

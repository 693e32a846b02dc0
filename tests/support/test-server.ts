import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import type { DestinationStream } from 'pino';
import postgres from 'postgres';
import { signToken, type TokenClaims } from '../../src/auth/token-signer';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/config/logger';
import { startServer, type Server } from '../../src/server';
import { createTestDatabase, type TestDatabase } from './database';
import { postGraphQL, type GraphQLResponse } from './graphql-http';
import { createTestServingRole, type TestServingRole } from './serving-role';
import type { ApiFeature } from '../../src/api/feature';

export type { GraphQLResponse } from './graphql-http';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
/** The seal-signing key of test servers (an Ed25519 PKCS#8 key, base64), so none is generated under DATA_DIR. */
export const TEST_AUDIT_SIGNING_KEY = 'MC4CAQAwBQYDK2VwBCIEILH41S6PoW3Ce4NE1qL62YsfOpQT/A9TRewIvbJdk5lE';
/** Its public half as seals name it. */
export const TEST_AUDIT_PUBLIC_KEY = '1maJGCwWuvcN4B1drjONDcXcGs-cJ7abF70jez1XZt8';

export interface RequestOptions {
  variables?: Record<string, unknown>;
  /** A bearer token, or a user to mint one for. */
  as?: string | TokenClaims;
  operationName?: string;
  headers?: Record<string, string>;
}

/** The API on an ephemeral port over its own fresh database, driven through real HTTP. */
export interface TestServer {
  readonly url: string;
  /** Base URL `/metrics` is served under, when it is. */
  readonly metricsUrl: string | undefined;
  readonly database: TestDatabase;
  /** A direct connection to the server's database, for arranging and checking rows. */
  readonly sql: postgres.Sql;
  graphql<TData = any>(query: string, options?: RequestOptions): Promise<GraphQLResponse<TData>>;
  token(claims: TokenClaims): Promise<string>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Receives the server's log lines (JSON, level info and up); otherwise `TEST_LOG_LEVEL` to stdout. */
  readonly log?: DestinationStream;
  /** The features to serve; the API's by default. */
  readonly features?: readonly ApiFeature[];
  /** SQL files applied after the API's migrations and before the server starts: another feature's migrations. */
  readonly migrations?: readonly string[];
  /** Where the server connects instead of its database's URL: the same database through a pooler. */
  readonly through?: (url: string) => string;
}

/** The configuration every test server runs with: `database`, the test secret, an ephemeral port. */
export function testServerEnv(database: TestDatabase): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    // The embedded PGlite serves one connection at a time.
    DATABASE_POOL_MAX: database.embedded ? '1' : '10',
    JWT_SECRET: TEST_JWT_SECRET,
    AUDIT_SIGNING_KEY: TEST_AUDIT_SIGNING_KEY,
    // The embedded PGlite mixes up the messages of two connections at work at once, so a test's own
    // connection must never meet the sealer's background round there: it seals once an hour.
    ...(database.embedded ? { AUDIT_SEAL_INTERVAL_MS: '3600000' } : {}),
    PORT: '0',
    ...TEST_RATE_LIMITS,
  };
}

/**
 * Tests send many requests from one address as a few users, faster than the default limits allow;
 * the files about limits set their own.
 */
export const TEST_RATE_LIMITS = { RATE_LIMIT_PER_CALLER: '1000000', RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_PER_PROCESS: '10000000' } as const;

/** Starts the server as production code does, with `env` on top of {@link testServerEnv}. */
export async function startTestServer(env: Record<string, string> = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase({ migrated: true });
  let servingRole: TestServingRole | undefined;
  let server: Server;
  try {
    // Inside the try: a ConfigError must not leak the database (an open PGlite keeps jest alive).
    const settings: Record<string, string> = { ...testServerEnv(database), ...env };
    // Production serves only as a role that cannot rewrite the trail: migrate as the test's
    // superuser, serve as a serving role. The embedded PGlite has one role and skips that check.
    if (loadConfig(settings).production && !database.embedded) {
      servingRole = await createTestServingRole(database.url);
      Object.assign(settings, { MIGRATION_DATABASE_URL: database.url, DATABASE_URL: servingRole.url });
    }
    await applyMigrations(database.url, options.migrations ?? []);
    if (options.through) settings.DATABASE_URL = options.through(settings.DATABASE_URL!);
    const logger = options.log ? createLogger('info', options.log) : createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
    server = await startServer(loadConfig(settings), logger, { checkServingRole: !database.embedded, features: options.features });
  } catch (error) {
    await database.drop();
    await servingRole?.drop();
    throw error;
  }
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const token = (claims: TokenClaims) => signToken(TEST_JWT_SECRET, claims);

  return {
    url: server.url,
    metricsUrl: server.metricsUrl,
    database,
    sql,
    token,
    async graphql(query, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.as !== undefined) {
        headers.authorization = `Bearer ${typeof options.as === 'string' ? options.as : await token(options.as)}`;
      }
      return postGraphQL(`${server.url}/graphql`, { query, variables: options.variables, operationName: options.operationName }, headers);
    },
    async stop() {
      await sql.end();
      await server.stop();
      await database.drop();
      await servingRole?.drop();
    },
  };
}

/** Common callers. */
export const alice: TokenClaims = { sub: 'alice' };
export const bob: TokenClaims = { sub: 'bob' };
export const admin: TokenClaims = { sub: 'root', role: 'admin' };

/** Applies each SQL file to the database at `url`, in order, as `npm run db:migrate` would. */
async function applyMigrations(url: string, files: readonly string[]): Promise<void> {
  if (files.length === 0) return;
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    for (const file of files) await sql.unsafe(await readFile(file, 'utf8'));
  } finally {
    await sql.end();
  }
}

import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { parseAccessLogPolicy, parseAccessReasonPolicy, type AccessLogPolicy, type AccessReasonPolicy } from './access-transparency';
import type { TokenPolicy } from './token-policy';
import { DEFAULT_QUERY_LIMITS, QUERY_LIMIT_VARIABLES, type QueryLimitName, type QueryLimits } from './query-limits';
import { DEFAULT_SESSION_TIMEOUTS, type SessionTimeouts } from './database-timeouts';
import { parsePoolMode, type PoolMode } from './database-pooling';
import { parseRateLimits, parseWebSocketLimits, type RateLimits, type WebSocketLimits } from './door-limits';
import { ConfigError, nonEmpty, parseBoolean, parseDurationSetting, parseInteger, parseMilliseconds } from './settings';
import type { MetricsExposure } from './metrics-exposure';
import { parseSigningKey } from './signing-key';

/** Everything the server reads from its environment, parsed once at start. */
export interface AppConfig {
  readonly production: boolean;
  /** PostgreSQL to use; `undefined` starts the embedded PGlite database. */
  readonly databaseUrl: string | undefined;
  /** The owner role's connection, used only to migrate; unset: migrate as `databaseUrl` when that role may. */
  readonly migrationDatabaseUrl: string | undefined;
  /** A streaming replica the trail's own queries read from while it keeps up; unset: they read `databaseUrl`. */
  readonly databaseReadUrl: string | undefined;
  /** How far behind the replica may be and still serve trail reads, in milliseconds. */
  readonly databaseReadMaxLagMs: number;
  /** postgres.js pool size for `databaseUrl`; the embedded database always uses one connection. */
  readonly databasePoolMax: number;
  /** Whether `databaseUrl` is a pooler in transaction mode (PgBouncer), or a session of our own. */
  readonly databasePoolMode: PoolMode;
  /** Statement, lock and idle-in-transaction limits of the serving connections. */
  readonly databaseTimeouts: SessionTimeouts;
  /** Where the embedded database and the generated development secret live. */
  readonly dataDir: string;
  readonly jwtSecret: string | undefined;
  readonly jwksUrl: string | undefined;
  /** Issuer, audience, lifetime and clock checks applied to every bearer token. */
  readonly jwt: TokenPolicy;
  readonly port: number;
  readonly host: string;
  readonly introspection: boolean;
  /** Serve the dashboard page at `/dashboard` (its data always needs an admin token). */
  readonly dashboard: boolean;
  /** Allowed browser origins; empty means CORS is off (same-origin only). */
  readonly corsOrigins: readonly string[];
  readonly logLevel: string;
  /** Express `trust proxy`: which proxies may set X-Forwarded-For, so audit rows get the real client IP. */
  readonly trustProxy: boolean | number | string;
  /** Sizes past which a GraphQL document is refused before execution. */
  readonly queryLimits: QueryLimits;
  /** Requests per caller and per process, on every door. */
  readonly rateLimits: RateLimits;
  /** Message size, handshake time and subscription counts of the WebSocket door. */
  readonly webSocketLimits: WebSocketLimits;
  /**
   * Where `/metrics` is served; `undefined` serves none: production without `METRICS_PORT` or
   * `METRICS_TOKEN`. Development without them serves it on the API's port, unprotected.
   */
  readonly metrics: MetricsExposure | undefined;
  /** The Ed25519 key that signs seals of the trail; `undefined`: a development key under `dataDir` (never in production). */
  readonly auditSigningKey: KeyObject | undefined;
  /** How often the sealer seals finished audit rows, in milliseconds. */
  readonly auditSealIntervalMs: number;
  /** The reasons admins state for accessing others' records, and whether they must. */
  readonly accessReasons: AccessReasonPolicy;
  /** What owners are told of the admins who accessed their data. */
  readonly accessLog: AccessLogPolicy;
}

export { ConfigError } from './settings';

/**
 * Reads and checks the environment. Throws {@link ConfigError} for settings that would make a
 * production deployment unsafe (no real database, or no way to verify tokens).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const production = env.NODE_ENV === 'production';
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  const migrationDatabaseUrl = nonEmpty(env.MIGRATION_DATABASE_URL);
  const databaseReadUrl = nonEmpty(env.DATABASE_READ_URL);
  if (databaseReadUrl && !databaseUrl) throw new ConfigError('DATABASE_READ_URL requires DATABASE_URL: the embedded database has no replica');
  const jwtSecret = nonEmpty(env.JWT_SECRET);
  const jwksUrl = nonEmpty(env.JWKS_URL);

  if (production && !databaseUrl) {
    throw new ConfigError('NODE_ENV=production requires DATABASE_URL (the embedded database is for development only)');
  }
  if (migrationDatabaseUrl && !databaseUrl) {
    throw new ConfigError('MIGRATION_DATABASE_URL needs DATABASE_URL (the embedded database has a single role)');
  }
  if (production && !jwtSecret && !jwksUrl) {
    throw new ConfigError('NODE_ENV=production requires JWT_SECRET or JWKS_URL to verify bearer tokens');
  }
  if (jwtSecret && jwksUrl) {
    throw new ConfigError('set either JWT_SECRET or JWKS_URL, not both');
  }
  if (jwtSecret && Buffer.byteLength(jwtSecret) < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 bytes long');
  }
  const jwtIssuer = nonEmpty(env.JWT_ISSUER);
  const jwtAudience = nonEmpty(env.JWT_AUDIENCE);
  // An identity provider signs tokens for every application it serves: without these checks a
  // token issued for another application, with role "admin" in it, would make its holder an ADMIN.
  if (production && jwksUrl && (!jwtIssuer || !jwtAudience)) {
    throw new ConfigError('NODE_ENV=production with JWKS_URL requires JWT_ISSUER and JWT_AUDIENCE');
  }

  const port = parseInteger('PORT', env.PORT, 4000, 0, 65535);
  return {
    production,
    databaseUrl,
    migrationDatabaseUrl,
    databaseReadUrl,
    databaseReadMaxLagMs: parseMilliseconds('DATABASE_READ_MAX_LAG_MS', env, 5_000),
    databasePoolMax: parseInteger('DATABASE_POOL_MAX', env.DATABASE_POOL_MAX, 10, 1, 100),
    databasePoolMode: parsePoolMode(env.DATABASE_POOL_MODE),
    databaseTimeouts: {
      statementTimeoutMs: parseMilliseconds('DATABASE_STATEMENT_TIMEOUT_MS', env, DEFAULT_SESSION_TIMEOUTS.statementTimeoutMs),
      lockTimeoutMs: parseMilliseconds('DATABASE_LOCK_TIMEOUT_MS', env, DEFAULT_SESSION_TIMEOUTS.lockTimeoutMs),
      idleInTransactionSessionTimeoutMs: parseMilliseconds('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', env, DEFAULT_SESSION_TIMEOUTS.idleInTransactionSessionTimeoutMs),
    },
    dataDir: path.resolve(nonEmpty(env.DATA_DIR) ?? '.data'),
    jwtSecret,
    jwksUrl,
    jwt: {
      issuer: jwtIssuer,
      audience: jwtAudience,
      maxAgeSeconds: parseDurationSetting('JWT_MAX_AGE', env.JWT_MAX_AGE, 24 * 3600, 60, 30 * 86400),
      clockToleranceSeconds: parseDurationSetting('JWT_CLOCK_TOLERANCE', env.JWT_CLOCK_TOLERANCE, 30, 0, 300),
      jwksCacheMaxAgeSeconds: parseDurationSetting('JWKS_CACHE_MAX_AGE', env.JWKS_CACHE_MAX_AGE, 60, 1, 86400),
    },
    port,
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    // Checked in development too, so a typo fails on a laptop rather than at deploy time.
    introspection: parseBoolean('GRAPHQL_INTROSPECTION', env.GRAPHQL_INTROSPECTION) || !production,
    dashboard: parseBoolean('DASHBOARD', env.DASHBOARD) || !production,
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    trustProxy: parseTrustProxy(nonEmpty(env.TRUST_PROXY)),
    queryLimits: parseQueryLimits(env),
    rateLimits: parseRateLimits(env),
    webSocketLimits: parseWebSocketLimits(env),
    metrics: parseMetricsExposure(env, production, port),
    auditSigningKey: parseAuditSigningKey(production, env.AUDIT_SIGNING_KEY),
    auditSealIntervalMs: parseInteger('AUDIT_SEAL_INTERVAL_MS', env.AUDIT_SEAL_INTERVAL_MS, 1000, 50, 3_600_000),
    accessReasons: parseAccessReasonPolicy(env, production),
    accessLog: parseAccessLogPolicy(env),
  };
}

function parseMetricsExposure(env: NodeJS.ProcessEnv, production: boolean, apiPort: number): MetricsExposure | undefined {
  const host = nonEmpty(env.METRICS_HOST);
  const token = nonEmpty(env.METRICS_TOKEN);
  const port = nonEmpty(env.METRICS_PORT) === undefined ? undefined : parseInteger('METRICS_PORT', env.METRICS_PORT, 0, 0, 65535);
  if (host && port === undefined) throw new ConfigError('METRICS_HOST needs METRICS_PORT (without it, /metrics is served on PORT)');
  if (port !== undefined && port !== 0 && port === apiPort) {
    throw new ConfigError('METRICS_PORT must differ from PORT (unset it to serve /metrics on PORT with METRICS_TOKEN)');
  }
  if (token && Buffer.byteLength(token) < 32) throw new ConfigError('METRICS_TOKEN must be at least 32 bytes long');
  const maxOperationNames = parseInteger('METRICS_MAX_OPERATION_NAMES', env.METRICS_MAX_OPERATION_NAMES, 100, 1, 10_000);
  // Unprotected metrics tell anyone who reaches the API what it serves and to whom: not in production.
  if (production && port === undefined && !token) return undefined;
  return { listen: port === undefined ? undefined : { port, host: host ?? '127.0.0.1' }, token, maxOperationNames };
}

/** Production signs seals with a key of its own: a generated one would sign a chain nobody can check later. */
function parseAuditSigningKey(production: boolean, value: string | undefined): KeyObject | undefined {
  const text = nonEmpty(value);
  if (text === undefined) {
    if (production) throw new ConfigError('NODE_ENV=production requires AUDIT_SIGNING_KEY to sign the audit trail\'s seals (docs/integrity.md)');
    return undefined;
  }
  const key = parseSigningKey(text);
  if (!key) throw new ConfigError('AUDIT_SIGNING_KEY must be an Ed25519 private key: PKCS#8 PEM, or its base64 body on one line');
  return key;
}

function parseQueryLimits(env: NodeJS.ProcessEnv): QueryLimits {
  const limit = (name: QueryLimitName) =>
    parseInteger(QUERY_LIMIT_VARIABLES[name], env[QUERY_LIMIT_VARIABLES[name]], DEFAULT_QUERY_LIMITS[name], 1, 1_000_000_000);
  return {
    maxTokens: limit('maxTokens'),
    maxRecursiveSelections: limit('maxRecursiveSelections'),
    maxDepth: limit('maxDepth'),
    maxAliases: limit('maxAliases'),
    maxDirectives: limit('maxDirectives'),
    maxCost: limit('maxCost'),
  };
}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return /^[0-9]+$/.test(value) ? Number(value) : value;
}

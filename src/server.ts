import type { KeyObject } from 'node:crypto';
import { assertBackstops, AuditTrail, discardingAuditSink, ensureAuditMonths, loadOrCreateDevSigningKey, Sealer, startAuditUpkeep } from './audit/wiring';
import type { TokenKeySource } from './auth/token-verifier';
import { createTokenVerifier } from './auth/token-verifier';
import { loadOrCreateDevSecret } from './auth/dev-secret';
import type { AppConfig } from './config/config';
import type { Logger } from './config/logger';
import { connectDatabase, type Database } from './db/database';
import { startEmbeddedPostgres } from './db/embedded';
import { prepareDatabase } from './db/prepare-database';
import { TrailReads } from './db/trail-reads';
import { buildExecutableSchema } from './graphql/schema';
import { startHttpServer } from './http/app';
import { AuditIntegrityService } from './audit-logs/integrity/audit-integrity.service';
import { Metrics } from './metrics';
import { Admission } from './pipeline';
import type { ApiFeature } from './api/feature';
import { auditActionsOf, auditedResourcesOf } from './graphql/audit-actions';
import { API_FEATURES } from './graphql/features';

/** A started API: its base URL and how to shut it down cleanly. */
export interface Server {
  readonly url: string;
  /** Base URL `/metrics` is served under (`url`, or `METRICS_PORT`'s); `undefined` when it is not served. */
  readonly metricsUrl: string | undefined;
  /** Finishes in-flight requests, then closes the pool and any embedded database. */
  stop(): Promise<void>;
}

/** How {@link startServer} composes the API; production passes none. */
export interface ServerOptions {
  /**
   * Benchmark only (`npm run bench`); never set it from the environment or configuration.
   * `false` serves the same API without its audit trail — admin reads are not noted and no audit
   * rows are stored — so the cost of auditing can be measured against it.
   * Defaults to `true`.
   */
  readonly audit?: boolean;
  /**
   * The features it serves. Defaults to the API's, every `<name>.feature.ts` in `src/`; an
   * application embedding the server (or a test) may add its own.
   */
  readonly features?: readonly ApiFeature[];
  /**
   * Tests and the benchmark on the embedded PGlite only: `false` skips production's check that the
   * serving role cannot rewrite the trail, which a single-role database cannot pass. Defaults to `true`.
   */
  readonly checkServingRole?: boolean;
  /**
   * Benchmark only (`npm run bench`), like `audit`: `false` runs no sealer, so the cost of sealing
   * can be measured against it. Defaults to `true`.
   */
  readonly seal?: boolean;
  /**
   * Benchmark only (`npm run bench`), like `audit`: `false` starts on a database whose audit
   * backstop was dropped, so the backstop's cost can be measured against it. Defaults to `true`:
   * the server refuses to start while a declared resource's backstop is missing or disabled.
   */
  readonly backstop?: boolean;
}

/**
 * The composition root: database (configured or embedded), migrations and the serving role's
 * check, the coming months of the trail, token verification, schema and HTTP server, started in
 * that order.
 */
export async function startServer(config: AppConfig, logger: Logger, options: ServerOptions = {}): Promise<Server> {
  const audit = options.audit !== false;
  const features = options.features ?? API_FEATURES;
  if (!audit) logger.warn('the audit trail is OFF: benchmark only, nothing is recorded');
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir);
  if (embedded) logger.info({ dataDir: config.dataDir }, 'DATABASE_URL is not set: using the embedded PGlite database');

  const url = config.databaseUrl ?? embedded!.url;
  const maxConnections = embedded ? 1 : config.databasePoolMax;
  const poolMode = embedded ? 'session' : config.databasePoolMode;
  const database = connectDatabase(url, { maxConnections, timeouts: config.databaseTimeouts, poolMode });
  const replica = config.databaseReadUrl
    ? connectDatabase(config.databaseReadUrl, { maxConnections, timeouts: config.databaseTimeouts, poolMode, applicationName: 'audited-graphql-api trail reads' })
    : undefined;
  const trailReads = new TrailReads({ primary: database, replica, maxLagMs: config.databaseReadMaxLagMs, logger });
  const metrics = new Metrics({ maxOperationNames: config.metrics?.maxOperationNames });
  metrics.observePool(database.poolUsage, maxConnections);
  let sealing: { stop(): Promise<void> } | undefined;
  try {
    await prepareDatabase(config, database, url, logger, { checkServingRole: options.checkServingRole !== false });
    if (audit && options.backstop !== false) await assertBackstops(database.sql, auditedResourcesOf(features));
    await ensureAuditMonths(database.db);
    await trailReads.start();
    if (replica) {
      metrics.gauge({
        name: 'audit_read_replica_lag_seconds',
        help: 'How far the read replica the trail\'s queries read from is behind the primary (-1: not answering); past DATABASE_READ_MAX_LAG_MS they read the primary',
        read: () => trailReads.lagSeconds ?? -1,
      });
    }
    sealing = audit && options.seal !== false ? await startSealing(config, logger, embedded ? database : undefined, url) : undefined;
    // From the database, not the sealer: any replica reports it, whichever one holds the sealer lease.
    metrics.gauge({
      name: 'audit_seal_lag_seconds',
      help: 'Age of the oldest audit row no seal covers yet (0 when every row is sealed): how far tamper evidence trails the trail',
      read: async () => (await new AuditIntegrityService(database.db).status()).oldestUnsealedAgeSeconds ?? 0,
    });
    const admission = new Admission({
      verifyToken: createTokenVerifier(await tokenKeySource(config, logger), config.jwt),
      auditTrail: new AuditTrail({
        db: database.db,
        actions: auditActionsOf(features),
        accessReasons: config.accessReasons.mode,
        ...(audit ? { observer: metrics.audit } : { sink: discardingAuditSink }),
      }),
      rateLimits: config.rateLimits,
      accessReasons: config.accessReasons,
      logger,
    });
    const http = await startHttpServer({ config, schema: await buildExecutableSchema(features), database, trailReads, admission, logger, metrics });
    const auditUpkeep = startAuditUpkeep(database.db, logger);
    logger.info({ url: `${http.url}/graphql` }, 'GraphQL API ready');
    if (http.metricsUrl) logger.info({ url: `${http.metricsUrl}/metrics` }, 'metrics ready');
    return {
      url: http.url,
      metricsUrl: http.metricsUrl,
      async stop() {
        auditUpkeep.stop();
        await http.stop();
        await sealing?.stop();
        await trailReads.stop();
        await replica?.close();
        await database.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await sealing?.stop();
    await trailReads.stop();
    await replica?.close();
    await database.close();
    await embedded?.stop();
    throw error;
  }
}

/**
 * Starts this process's sealer: on a connection of its own, so a long seal holds none of the API's;
 * on the embedded database (one process, one connection) through the pool.
 */
async function startSealing(config: AppConfig, logger: Logger, embedded: Database | undefined, url: string): Promise<{ stop(): Promise<void> }> {
  const signingKey = await sealSigningKey(config, logger);
  const own = embedded ? undefined : connectDatabase(url, { maxConnections: 1, applicationName: 'audited-graphql-api sealer', poolMode: config.databasePoolMode });
  const sealer = new Sealer({ sql: (own ?? embedded)!.sql, signingKey, intervalMs: config.auditSealIntervalMs, logger });
  sealer.start();
  return {
    async stop() {
      sealer.stop();
      await own?.close();
    },
  };
}

async function sealSigningKey(config: AppConfig, logger: Logger): Promise<KeyObject> {
  if (config.auditSigningKey) return config.auditSigningKey;
  const { key, created } = await loadOrCreateDevSigningKey(config.dataDir);
  logger.warn(
    { dataDir: config.dataDir },
    `AUDIT_SIGNING_KEY is not set: ${created ? 'generated' : 'using'} a development key under DATA_DIR to sign the audit trail's seals`,
  );
  return key;
}

async function tokenKeySource(config: AppConfig, logger: Logger): Promise<TokenKeySource> {
  if (config.jwksUrl) return { jwksUrl: config.jwksUrl };
  if (config.jwtSecret) return { secret: config.jwtSecret };
  const { secret, created } = await loadOrCreateDevSecret(config.dataDir);
  logger.warn(
    { dataDir: config.dataDir },
    `JWT_SECRET is not set: ${created ? 'generated' : 'using'} a development secret under DATA_DIR; run "npm run token -- --sub alice" for a token`,
  );
  return { secret };
}

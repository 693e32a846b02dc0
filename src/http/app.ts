import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Context } from '../api/context';
import { ApolloServerPluginAuditTrail, type AuditTrail } from '../audit';
import type { TokenVerifier } from '../auth/token-verifier';
import type { AppConfig } from '../config/config';
import type { Logger } from '../config/logger';
import type { Database } from '../db/database';
import { createFormatError } from '../graphql/format-error';
import { ApolloServerPluginHideSuggestions } from '../graphql/hide-suggestions';
import { KnownOperationTypes } from '../graphql/known-operation-types';
import { queryLimits } from '../graphql/query-limits';
import { auditExportRoute } from './audit-export';
import { healthRoutes } from './health';
import { jsonErrors } from './json-errors';
import { requestContext } from './request-context';
import { requestId } from './request-id';
import { sandboxLandingPage } from './sandbox';

export interface HttpServerOptions {
  readonly config: Pick<AppConfig, 'production' | 'introspection' | 'corsOrigins' | 'port' | 'host' | 'trustProxy' | 'queryLimits'>;
  readonly schema: GraphQLSchema;
  readonly database: Database;
  readonly verifyToken: TokenVerifier;
  readonly logger: Logger;
  readonly auditTrail: AuditTrail;
}

export interface RunningHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  stop(): Promise<void>;
}

/** Serves `/graphql` (POST and GET), `/audit/export`, `/healthz` and `/readyz`. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { config, schema, database, verifyToken, logger, auditTrail } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(requestId());
  const httpServer = http.createServer(app);
  const limits = queryLimits({ limits: config.queryLimits });

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.introspection,
    csrfPrevention: true,
    // main.ts owns shutdown: drain HTTP, then close the pool, then exit 0.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError: createFormatError(logger),
    ...limits.serverOptions,
    validationRules: [KnownOperationTypes, ...limits.serverOptions.validationRules],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginAuditTrail({ logger }),
      limits.plugin,
      // Without introspection, suggestions would be the way to guess the schema.
      ...(config.production ? [ApolloServerPluginHideSuggestions()] : []),
      config.production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : sandboxLandingPage(),
    ],
  });
  await apollo.start();

  app.use(healthRoutes(database.sql, logger));
  app.use(auditExportRoute({ database, verifyToken, auditTrail, logger }));

  app.use(
    '/graphql',
    cors({ origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false, exposedHeaders: ['X-Request-Id'] }),
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: requestContext({ db: database.db, verifyToken, auditTrail }),
    }),
  );

  app.use(jsonErrors(logger));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { url: `http://${host}:${port}`, stop: () => apollo.stop() };
}

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
import { ApolloServerPluginAuditTrail } from '../audit/wiring';
import type { AppConfig } from '../config/config';
import type { Logger } from '../config/logger';
import type { Database } from '../db/database';
import type { TrailReads } from '../db/trail-reads';
import { createFormatError } from '../graphql/format-error';
import { ApolloServerPluginHideSuggestions } from '../graphql/hide-suggestions';
import { servedOperationTypes } from '../graphql/known-operation-types';
import { queryLimits } from '../graphql/query-limits';
import type { Metrics } from '../metrics';
import type { Admission, TrustProxy } from '../pipeline';
import { admitGraphQLRequest, admitRequests } from './admit';
import { auditExportRoute } from './audit-export';
import { dashboardRoutes } from './dashboard';
import { graphiqlRoutes } from './graphiql';
import { healthRoutes } from './health';
import { serveLiveFeed } from './live-feed';
import { jsonErrors } from './json-errors';
import { metricsRoute } from './metrics-route';
import { requestId } from './request-id';
import { sandboxLandingPage } from './sandbox';

export interface HttpServerOptions {
  readonly config: Pick<
    AppConfig,
    'production' | 'introspection' | 'dashboard' | 'corsOrigins' | 'port' | 'host' | 'trustProxy' | 'queryLimits' | 'webSocketLimits' | 'metrics' | 'accessLog'
  >;
  readonly schema: GraphQLSchema;
  readonly database: Database;
  /** Where the trail's own queries, exports and the live feed read (a read replica while it keeps up). */
  readonly trailReads: TrailReads;
  /** The request pipeline's first stage, shared by every door. */
  readonly admission: Admission;
  readonly logger: Logger;
  /** Measures `/graphql` requests; served at `/metrics` as `config.metrics` says. */
  readonly metrics: Metrics;
}

export interface RunningHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** Base URL `/metrics` is served under: {@link url}, a listen address of its own, or none. */
  readonly metricsUrl: string | undefined;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  stop(): Promise<void>;
}

/** Serves `/graphql` (POST and GET), `/audit/export`, `/healthz`, `/readyz` and `/metrics` (on this port or its own). */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { config, schema, database, admission, logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(requestId());
  const httpServer = http.createServer(app);
  const limits = queryLimits({ limits: config.queryLimits });
  const formatError = createFormatError(logger);
  const trustProxy = app.get('trust proxy fn') as TrustProxy;
  const liveFeed = serveLiveFeed({
    httpServer,
    schema,
    trailReads: options.trailReads,
    admission,
    logger,
    queryLimits: config.queryLimits,
    introspection: config.introspection,
    limits: config.webSocketLimits,
    formatError,
    trustProxy,
    accessLog: config.accessLog,
  });

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.introspection,
    // A request a browser sends cross-site without a preflight can carry only ambient credentials
    // (cookies), which this API never reads: its callers prove who they are with a bearer token, and
    // an Authorization header is itself what makes a browser preflight. So a request bearing one (a
    // GET from urql, which sends queries that way) is let through, and every other request that
    // could be a forgery is refused as Apollo refuses it: no JSON content type, no preflight header.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    // main.ts owns shutdown: drain HTTP, then close the pool, then exit 0.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError,
    ...limits.serverOptions,
    validationRules: [servedOperationTypes('http'), ...limits.serverOptions.validationRules],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Live feeds end (and record their end) before HTTP drains; refusals summed so far are written last.
      { serverWillStart: async () => ({ drainServer: () => liveFeed.dispose(), serverWillStop: () => admission.stop() }) },
      ApolloServerPluginAuditTrail({ logger }),
      limits.plugin,
      metrics.graphqlRequests.plugin,
      // Without introspection, suggestions would be the way to guess the schema.
      ...(config.production ? [ApolloServerPluginHideSuggestions()] : []),
      config.production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : sandboxLandingPage(),
    ],
  });
  await apollo.start();

  app.use(healthRoutes(database.sql, logger));
  app.use('/audit/export', admitRequests(admission, trustProxy));
  app.use(auditExportRoute({ trailReads: options.trailReads, admission, logger }));
  if (config.metrics && !config.metrics.listen) app.use(metricsRoute(metrics, config.metrics.token, logger));
  if (config.dashboard) app.use(dashboardRoutes());
  // Beside the Sandbox, in development only: its packages are development dependencies.
  if (!config.production) app.use(graphiqlRoutes());

  app.use(
    '/graphql',
    metrics.graphqlRequests.middleware,
    cors({ origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false, exposedHeaders: ['X-Request-Id'] }),
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      // Admitted in Apollo's context function, which runs after its CSRF check: a request a browser
      // was tricked into sending is refused before its token is even looked at, and leaves no row.
      context: async ({ req, res }): Promise<Context> => {
        const admitted = await admitGraphQLRequest(admission, req, res, trustProxy);
        const context: Context = {
          viewer: admitted.viewer,
          db: database.db,
          trailReads: options.trailReads,
          audit: admission.open(admitted, res.locals.requestId as string),
          accessLog: config.accessLog,
        };
        return metrics.graphqlRequests.attach(context, res);
      },
    }),
  );

  app.use(jsonErrors(logger));

  const url = await listen(httpServer, config.port, config.host);
  const exposure = config.metrics;
  if (!exposure) logger.info('/metrics is not served: in production it needs METRICS_PORT or METRICS_TOKEN');
  let metricsUrl = exposure && !exposure.listen ? url : undefined;
  let metricsServer: http.Server | undefined;
  if (exposure?.listen) {
    metricsServer = http.createServer(metricsApp(metrics, exposure.token, logger));
    try {
      metricsUrl = await listen(metricsServer, exposure.listen.port, exposure.listen.host);
    } catch (error) {
      await apollo.stop();
      throw error;
    }
  }
  return {
    url,
    metricsUrl,
    async stop() {
      await Promise.all([apollo.stop(), metricsServer && close(metricsServer)]);
    },
  };
}

/** The listen address of its own that `/metrics` is served on, with nothing else. */
function metricsApp(metrics: Metrics, token: string | undefined, logger: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(metricsRoute(metrics, token, logger));
  app.use(jsonErrors(logger));
  return app;
}

/** Starts `server` on `port` and `host`; resolves to its base URL. */
async function listen(server: http.Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

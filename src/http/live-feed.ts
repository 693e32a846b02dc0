import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { GraphQLError, parse, specifiedRules, validate, type GraphQLFormattedError, type GraphQLSchema, type ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import proxyaddr from 'proxy-addr';
import { WebSocketServer } from 'ws';
import { AUTHENTICATE, SealWatcher, type AuditRequest, type AuditTrail } from '../audit';
import { finishFeed, type FeedContext } from '../audit-logs/audit-log.feed';
import { TokenRejected } from '../auth/token-rejection';
import type { TokenVerifier } from '../auth/token-verifier';
import type { Viewer } from '../auth/viewer';
import type { Logger } from '../config/logger';
import type { Database } from '../db/database';
import { servedOperationTypes } from '../graphql/known-operation-types';
import { clientIp } from './request-id';
import { userAgentOf } from './user-agent';

/** Options for {@link serveLiveFeed}. */
export interface LiveFeedOptions {
  readonly httpServer: http.Server;
  readonly schema: GraphQLSchema;
  readonly database: Database;
  readonly verifyToken: TokenVerifier;
  readonly auditTrail: AuditTrail;
  readonly logger: Logger;
  /** The query limits and other rules HTTP operations are validated with. */
  readonly validationRules: readonly ValidationRule[];
  /** How errors reach clients (Apollo's `formatError`): client errors as they are, the rest masked. */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Express's compiled `trust proxy`, so rows record the client's address as HTTP ones do. */
  readonly trustProxy: (address: string, hop: number) => boolean;
}

/** What graphql-ws keeps per connection. */
interface Connection {
  viewer?: Viewer;
  request?: Omit<AuditRequest, 'requestId' | 'operationName' | 'viewer'>;
  readonly feeds: Map<string, { context: FeedContext; stop: AbortController }>;
}

/**
 * The live feed: GraphQL over WebSocket (the graphql-ws protocol, which Apollo Sandbox speaks) on
 * the same `/graphql` path, for subscriptions only. The bearer token comes in `connectionParams`
 * (`{ "authorization": "Bearer …" }`); a refused token closes the connection (4403) and is recorded
 * as a failed logon. Each subscription gets its own request id and audit trail, like an HTTP request.
 */
export function serveLiveFeed(options: LiveFeedOptions): { dispose(): Promise<void> } {
  const { schema, database, verifyToken, auditTrail, logger } = options;
  const wsServer = new WebSocketServer({ server: options.httpServer, path: '/graphql' });
  const seals = new SealWatcher(database.db);
  const rules = [...specifiedRules, servedOperationTypes('websocket'), ...options.validationRules];
  const format = (error: GraphQLError) => options.formatError(error.toJSON(), error);
  const finish = async (connection: Connection, id: string) => {
    const feed = connection.feeds.get(id);
    if (!feed) return;
    connection.feeds.delete(id);
    feed.stop.abort();
    await finishFeed(feed.context).catch((error: unknown) =>
      logger.error({ err: error, requestId: feed.context.audit.request.requestId }, 'audit trail write failed at the end of a live feed'),
    );
  };

  const server = useServer<Record<string, unknown> | undefined, { connection: Connection }>(
    {
      schema,
      onConnect: async (ctx) => {
        const upgrade = ctx.extra.request;
        ctx.extra.connection = { feeds: new Map() };
        const request = {
          ip: clientIp(proxyaddr(upgrade, options.trustProxy)),
          userAgent: userAgentOf(upgrade.headers['user-agent']),
        };
        ctx.extra.connection.request = request;
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        try {
          ctx.extra.connection.viewer = await verifyToken(typeof authorization === 'string' ? authorization : undefined);
          return true;
        } catch (error) {
          if (!(error instanceof TokenRejected)) throw error;
          const audit = auditTrail.forRequest({ ...request, viewer: undefined, requestId: randomUUID(), operationName: null });
          audit.denied({ action: AUTHENTICATE.name, details: { reason: error.reason } });
          await audit.flush();
          return false;
        }
      },
      onSubscribe: (ctx, id, payload) => {
        // Set by onConnect, which graphql-ws completes before it accepts any subscription.
        const connection = ctx.extra.connection!;
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [withCode(error instanceof GraphQLError ? error : new GraphQLError('The document could not be parsed.'), 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document, rules);
        if (errors.length > 0) return errors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
        const stop = new AbortController();
        const audit = auditTrail.forRequest({
          ...connection.request!,
          viewer: connection.viewer,
          requestId: randomUUID(),
          operationName: payload.operationName ?? null,
        });
        const context: FeedContext = { db: database.db, viewer: connection.viewer, audit, seals, closed: stop.signal, delivered: { rows: 0 } };
        connection.feeds.set(id, { context, stop });
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue: context };
      },
      // A subscription refused or failed before its first row: its rows are written before the client hears.
      onOperation: async (ctx, id, _payload, _args, result) => {
        if (!(Symbol.asyncIterator in result)) await finish(ctx.extra.connection!, id);
      },
      onNext: (_ctx, _id, _payload, _args, result) => ('errors' in result && result.errors ? { ...result, errors: result.errors.map(format) } : result),
      onError: (_ctx, _id, _payload, errors) => errors.map(format),
      onComplete: (ctx, id) => finish(ctx.extra.connection!, id),
      onClose: async (ctx) => {
        const connection = ctx.extra.connection;
        if (connection) await Promise.all([...connection.feeds.keys()].map((id) => finish(connection, id)));
      },
    },
    wsServer,
  );
  return {
    async dispose() {
      seals.pause();
      await server.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

/** `error` with the code Apollo gives the same failure over HTTP, so it reaches the client as it is. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

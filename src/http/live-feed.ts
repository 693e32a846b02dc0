import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { SealWatcher } from '../audit/wiring';
import { finishFeed, type FeedContext } from '../audit-logs/feed/audit-log.feed';
import { SealedStream } from '../audit-logs/feed/audit-log.stream';
import type { AccessLogPolicy } from '../config/access-transparency';
import type { WebSocketLimits } from '../config/door-limits';
import type { QueryLimits } from '../config/query-limits';
import type { Logger } from '../config/logger';
import { InvalidInput, Unauthenticated } from '../core/errors';
import type { TrailReads } from '../db/trail-reads';
import { toGraphQLError } from '../graphql/client-errors';
import { servedOperationTypes } from '../graphql/known-operation-types';
import { checkOperation, noteRefusal, type OperationCheckOptions } from '../graphql/query-limits';
import { originOf, Refused, type Admission, type Admitted, type TrustProxy } from '../pipeline';

/** Options for {@link serveLiveFeed}. */
export interface LiveFeedOptions {
  readonly httpServer: http.Server;
  readonly schema: GraphQLSchema;
  /** Where the feed reads: a read replica while it keeps up, else the primary. */
  readonly trailReads: TrailReads;
  readonly admission: Admission;
  readonly logger: Logger;
  /** The same limits HTTP operations are held to. */
  readonly queryLimits: QueryLimits;
  /** Whether introspection is served, as over HTTP. */
  readonly introspection: boolean;
  readonly limits: WebSocketLimits;
  /** How errors reach clients (Apollo's `formatError`): client errors as they are, the rest masked. */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  readonly trustProxy: TrustProxy;
  /** What owners' feeds say of the admins who accessed their data. */
  readonly accessLog: AccessLogPolicy;
}

/** The longest a Node.js timer waits; a token valid for longer is looked at again then. */
const MAX_TIMER_MS = 2_147_483_647;

/** What graphql-ws keeps per connection. */
interface Connection {
  readonly admitted: Admitted;
  /** What `connection_init` presented, verified again while the connection lives. */
  readonly authorization: unknown;
  readonly feeds: Map<string, { context: FeedContext; stop: AbortController }>;
  readonly timers: NodeJS.Timeout[];
}

/**
 * The live feed: GraphQL over WebSocket (the graphql-ws protocol, which Apollo Sandbox speaks) on
 * the same `/graphql` path, for subscriptions only. Every connection and every subscription goes
 * through the request pipeline as an HTTP request does — admission (the bearer token from
 * `connectionParams`, rate limits), the same document checks and query limits, the same field
 * checks and recording — within the door's own bounds: message size, time to `connection_init`,
 * subscriptions per connection and per process. A token that expires or is withdrawn ends the
 * connection (4403), recorded as a refused `authenticate`.
 */
export function serveLiveFeed(options: LiveFeedOptions): { dispose(): Promise<void> } {
  const { schema, trailReads, admission, logger, limits } = options;
  const wsServer = new WebSocketServer({ server: options.httpServer, path: '/graphql', maxPayload: limits.maxPayloadBytes });
  const stream = new SealedStream(trailReads, new SealWatcher(trailReads.primary.db), logger);
  const check: OperationCheckOptions = { schema, limits: options.queryLimits, rules: [servedOperationTypes('websocket')], introspection: options.introspection };
  const format = (error: GraphQLError) => options.formatError(error.toJSON(), error);
  let subscriptions = 0;

  const finish = async (connection: Connection, id: string) => {
    const feed = connection.feeds.get(id);
    if (!feed) return;
    connection.feeds.delete(id);
    subscriptions--;
    feed.stop.abort();
    await finishFeed(feed.context).catch((error: unknown) =>
      logger.error({ err: error, requestId: feed.context.audit.request.requestId }, 'audit trail write failed at the end of a live feed'),
    );
  };
  /** Ends the connection of a caller whose token no longer holds (the refusal is recorded). */
  const recheck = async (connection: Connection, socket: WebSocket) => {
    try {
      await admission.recheck(connection.admitted, connection.authorization);
    } catch (error) {
      if (!(error instanceof Unauthenticated)) return logger.error({ err: error }, 'live feed: checking a token again failed');
      socket.close(CloseCode.Forbidden, 'Forbidden: the bearer token is no longer valid');
    }
  };

  const server = useServer<Record<string, unknown> | undefined, { connection?: Connection }>(
    {
      schema,
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        let admitted: Admitted;
        try {
          const presented = { authorization, accessReason: ctx.connectionParams?.accessReason, accessReasonField: 'connectionParams.accessReason' };
          admitted = await admission.admit(originOf(ctx.extra.request, options.trustProxy), presented, 'websocket');
        } catch (error) {
          // A close reason holds 123 bytes at most: the field, not the codes the policy takes.
          if (error instanceof InvalidInput) ctx.extra.socket.close(CloseCode.BadRequest, `Bad request: invalid ${error.field}`);
          if (error instanceof Refused) ctx.extra.socket.close(CloseCode.TooManyInitialisationRequests, `Too many requests: retry after ${error.retryAfterSeconds} s`);
          if (error instanceof Refused || error instanceof Unauthenticated || error instanceof InvalidInput) return false;
          throw error;
        }
        const connection: Connection = { admitted, authorization, feeds: new Map(), timers: [] };
        ctx.extra.connection = connection;
        const until = admitted.viewer?.validUntil;
        if (until !== undefined) {
          const socket = ctx.extra.socket;
          connection.timers.push(setTimeout(() => void recheck(connection, socket), Math.min(Math.max(0, until - Date.now()), MAX_TIMER_MS)));
          connection.timers.push(setInterval(() => void recheck(connection, socket), limits.tokenRecheckSeconds * 1000));
        }
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        // Set by onConnect, which graphql-ws completes before it accepts any subscription.
        const connection = ctx.extra.connection!;
        try {
          await admission.recheck(connection.admitted, connection.authorization);
          await admission.take(connection.admitted, 'websocket');
          if (connection.feeds.size >= limits.maxSubscriptionsPerConnection) throw new Refused('subscriptions_per_connection', 1);
          if (subscriptions >= limits.maxSubscriptions) throw new Refused('subscriptions_per_process', 5);
        } catch (error) {
          if (error instanceof Unauthenticated) ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden: the bearer token is no longer valid');
          if (error instanceof Refused && error.limit.startsWith('subscriptions')) admission.refused(connection.admitted, error, 'websocket');
          if (error instanceof Refused || error instanceof Unauthenticated) return [toGraphQLError(error, false)];
          throw error;
        }
        const audit = admission.open(connection.admitted, randomUUID(), payload.operationName ?? null);
        const checked = checkOperation(check, payload);
        if ('errors' in checked) {
          if (checked.refusal) noteRefusal(audit, checked.refusal);
          await audit.flush();
          return checked.errors;
        }
        const stop = new AbortController();
        const context: FeedContext = { db: trailReads.primary.db, trailReads, viewer: connection.admitted.viewer, audit, accessLog: options.accessLog, stream, closed: stop.signal, delivered: { rows: 0 } };
        connection.feeds.set(id, { context, stop });
        subscriptions++;
        return { schema, document: checked.document, variableValues: payload.variables, operationName: payload.operationName, contextValue: context };
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
        if (!connection) return;
        for (const timer of connection.timers) clearTimeout(timer);
        await Promise.all([...connection.feeds.keys()].map((id) => finish(connection, id)));
      },
    },
    wsServer,
  );
  return {
    async dispose() {
      await stream.stop();
      await server.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

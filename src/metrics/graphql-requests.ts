import type { ApolloServerPlugin, BaseContext, GraphQLResponse } from '@apollo/server';
import type { RequestHandler, Response } from 'express';
import type { GraphQLFormattedError } from 'graphql';
import type { Counter, Histogram } from 'prom-client';
import { DEFAULT_QUERY_LIMITS } from '../config/query-limits';
import { ErrorCode } from '../core/errors';
import { UNKNOWN_OPERATION, type OperationLabels } from './operation-labels';
import { requestOutcome } from './request-outcome';

/** What is learnt of one `/graphql` request while it runs, read once its response has been sent. */
interface RequestRecord {
  operation: string;
  /** Apollo's response; final once the HTTP response is, whatever plugin changed it last. */
  response: GraphQLResponse | undefined;
}

/**
 * Where a context carries its request's record: a symbol no resolver reads, kept when Apollo
 * copies the context for each operation (it copies own enumerable properties).
 */
const RECORD = Symbol('graphql request metrics');
type Recorded = { readonly [RECORD]: RequestRecord };

const LIMIT_NAMES = new Set<string>(Object.keys(DEFAULT_QUERY_LIMITS));

/**
 * Measures `/graphql` requests from their arrival (before the body is read) until the response
 * is sent, so a request refused before GraphQL runs (a bad token, malformed JSON) is measured
 * too; one whose client goes away first is not. Three parts meet
 * through the request's record: {@link middleware} starts it, {@link attach} puts it in the
 * request's GraphQL context (Apollo's plugins see only that), {@link plugin} fills it in.
 */
export class GraphQLRequestMetrics {
  private readonly byResponse = new WeakMap<Response, RequestRecord>();

  constructor(
    private readonly operations: OperationLabels,
    private readonly duration: Histogram<'operation' | 'outcome'>,
    private readonly refusedDocuments: Counter<'limit'>,
  ) {}

  /** Mount in front of everything else on `/graphql`. A CORS preflight is not a request of the API, and is not counted. */
  readonly middleware: RequestHandler = (req, res, next) => {
    if (req.method === 'OPTIONS') return next();
    const started = performance.now();
    const record: RequestRecord = { operation: UNKNOWN_OPERATION, response: undefined };
    this.byResponse.set(res, record);
    res.once('finish', () => this.observe(record, res.statusCode, (performance.now() - started) / 1000));
    next();
  };

  /** Call from the context function with the (plain object) context it built; returns it with the request's record. */
  attach<TContext extends object>(context: TContext, res: Response): TContext {
    const record = this.byResponse.get(res);
    return record ? { ...context, [RECORD]: record } : context;
  }

  /** Learns the operation's name and the response Apollo sends. */
  readonly plugin: ApolloServerPlugin<BaseContext> = {
    requestDidStart: async ({ contextValue }) => {
      const record = (contextValue as Partial<Recorded>)[RECORD];
      if (!record) return;
      return {
        didResolveOperation: async ({ operationName }) => {
          record.operation = this.operations.of(operationName);
        },
        willSendResponse: async ({ response }) => {
          record.response = response;
        },
      };
    },
  };

  private observe(record: RequestRecord, status: number, seconds: number): void {
    const errors = errorsOf(record.response);
    this.duration.observe({ operation: record.operation, outcome: requestOutcome(status, errors) }, seconds);
    for (const error of errors ?? []) {
      const limit = error.extensions?.limit;
      if (error.extensions?.code === ErrorCode.QUERY_TOO_COMPLEX && typeof limit === 'string' && LIMIT_NAMES.has(limit)) {
        this.refusedDocuments.inc({ limit });
      }
    }
  }
}

function errorsOf(response: GraphQLResponse | undefined): readonly GraphQLFormattedError[] | undefined {
  if (!response) return undefined;
  return response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
}

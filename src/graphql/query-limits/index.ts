import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerValidationErrorCode } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import type { Context } from '../../api/context';
import { type RequestAudit } from '../../audit';
import { QUERY_REFUSED } from '../../audit/wiring';
import { operationCost } from './cost';
import type { QueryLimits } from '../../config/query-limits';
import { hasMoreTokensThan, recursiveSelections } from './measure';
import { QueryLimitExceeded, refusalError, type QueryRefusal } from './refusal';
import { queryLimitRules } from './validation-rules';

/** Options for {@link queryLimits}. */
export interface QueryLimitsOptions {
  /** The limits; see {@link QueryLimits} for each one's meaning and default. */
  readonly limits: QueryLimits;
}

/** What {@link queryLimits} adds to the Apollo Server configuration. */
export interface QueryLimitsConfiguration {
  /** Spread into the `ApolloServer` options: the parser's token cap and the validation rules. */
  readonly serverOptions: Pick<ApolloServerOptions<Context>, 'parseOptions' | 'maxRecursiveSelections'> & {
    readonly validationRules: NonNullable<ApolloServerOptions<Context>['validationRules']>;
  };
  /** Add to `plugins`: checks the cost, records each refusal and answers it. */
  readonly plugin: ApolloServerPlugin<Context>;
}

/**
 * Refuses, before execution, documents over any of the {@link QueryLimits}, each stage at the
 * cheapest point: the token cap inside graphql-js's parser; Apollo's `maxRecursiveSelections`
 * alongside graphql-js's own validation; depth, aliases and directives (GraphQL Armor) once the
 * document is known valid and small; the cost (graphql-query-complexity) once the operation and
 * its variables are known.
 *
 * A refused request is answered HTTP 400 with one error, `extensions.code` `QUERY_TOO_COMPLEX`
 * plus `limit`, `max` and `measured`, and leaves one `denied` `query_refused` audit row with
 * those figures (never the document), written with the request's trail before the answer leaves
 * (if it cannot be written, the audit plugin answers 503).
 */
export function queryLimits({ limits }: QueryLimitsOptions): QueryLimitsConfiguration {
  return {
    serverOptions: {
      parseOptions: { maxTokens: limits.maxTokens },
      maxRecursiveSelections: limits.maxRecursiveSelections,
      validationRules: queryLimitRules(limits),
    },
    plugin: {
      async requestDidStart({ contextValue }) {
        // Found by the stage that measured it; Apollo does not await parsing's and validation's
        // end hooks, so the row is written in didEncounterErrors, which every refusal reaches.
        let refusal: QueryRefusal | undefined;

        return {
          async parsingDidStart({ source }) {
            return async (error) => {
              if (error && source !== undefined && hasMoreTokensThan(source, limits.maxTokens)) {
                refusal = { limit: 'maxTokens', max: limits.maxTokens, measured: limits.maxTokens + 1 };
              }
            };
          },
          async validationDidStart({ document }) {
            return async (errors) => {
              refusal = errors && refusalAmong(errors, () => recursiveSelections(document), limits);
            };
          },
          async didResolveOperation({ schema, document, operation, request }) {
            if (!operation) return; // no such operation in the document: execution says so, running nothing
            const cost = operationCost({ schema, document, operation, variables: request.variables }, limits.maxRecursiveSelections + 1);
            if (cost !== undefined && cost > limits.maxCost) {
              refusal = { limit: 'maxCost', max: limits.maxCost, measured: cost };
              throw new QueryLimitExceeded(refusal); // stops execution; the answer is set below
            }
          },
          async didEncounterErrors() {
            // Written with the request's other rows before the answer leaves (the audit plugin answers 503 if it cannot be).
            if (refusal) noteRefusal(contextValue.audit, refusal);
          },
          async willSendResponse({ response }) {
            if (!refusal) return;
            response.http.status = 400;
            response.body = { kind: 'single', singleResult: { errors: [refusalError(refusal)] } };
          },
        };
      },
    },
  };
}

export { checkOperation, type CheckedOperation, type OperationCheckOptions, type RefusedOperation } from './check-operation';

/** Records a refused document as one denied `query_refused` row of its request: the figures, never the document. */
export function noteRefusal(audit: RequestAudit, refusal: QueryRefusal): void {
  audit.denied({ action: QUERY_REFUSED, details: { ...refusal } });
}

/** The first limit among a failed validation's errors, if a limit is why it failed. */
function refusalAmong(errors: readonly Error[], countSelections: () => number, limits: QueryLimits): QueryRefusal | undefined {
  for (const error of errors) {
    if (error instanceof QueryLimitExceeded) return error.refusal;
    if (
      error instanceof GraphQLError &&
      error.extensions.validationErrorCode === ApolloServerValidationErrorCode.MAX_RECURSIVE_SELECTIONS_EXCEEDED
    ) {
      return { limit: 'maxRecursiveSelections', max: limits.maxRecursiveSelections, measured: countSelections() };
    }
  }
  return undefined;
}

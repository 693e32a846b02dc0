import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { QueryLimitName } from '../../config/query-limits';
import { ErrorCode } from '../../core/errors';

/** Which limit a document exceeded, by how much. */
export interface QueryRefusal {
  readonly limit: QueryLimitName;
  readonly max: number;
  /**
   * What the document measured. For `maxTokens` it is `max + 1`: the parser stops counting at
   * the first token past the limit, so a 1 MB document costs no more than a small one.
   */
  readonly measured: number;
}

const DESCRIBE: Record<QueryLimitName, (measured: number, max: number) => string> = {
  maxTokens: (_measured, max) => `it has more than ${max} tokens`,
  maxRecursiveSelections: (measured) => `it makes ${measured} selections once fragments are expanded`,
  maxDepth: (measured) => `it nests fields ${measured} levels deep`,
  maxAliases: (measured) => `it uses ${measured} aliases`,
  maxDirectives: (measured) => `it uses ${measured} directives`,
  maxCost: (measured) => `its cost, an upper bound of the field values in its response, is ${measured}`,
};

function message({ limit, max, measured }: QueryRefusal): string {
  return `Query refused before execution: ${DESCRIBE[limit](measured, max)}; the limit is ${max}.`;
}

/**
 * A refusal as an error: reported by the validation rules, thrown before execution for the cost,
 * and carrying the refusal so the query-limits plugin can tell it from other errors.
 */
export class QueryLimitExceeded extends GraphQLError {
  constructor(readonly refusal: QueryRefusal) {
    super(message(refusal), { extensions: refusalExtensions(refusal) });
  }
}

/** What clients receive (HTTP 400): the same shape for every limit, with the figures to fix the query. */
export function refusalError(refusal: QueryRefusal): GraphQLFormattedError {
  return { message: message(refusal), extensions: refusalExtensions(refusal) };
}

function refusalExtensions({ limit, max, measured }: QueryRefusal) {
  return { code: ErrorCode.QUERY_TOO_COMPLEX, limit, max, measured };
}

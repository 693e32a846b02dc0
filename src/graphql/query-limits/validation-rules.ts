import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { ASTVisitor, ValidationContext, ValidationRule } from 'graphql';
import type { QueryLimitName, QueryLimits } from '../../config/query-limits';
import { QueryLimitExceeded } from './refusal';

/** The options of a GraphQL Armor rule used here: a threshold and the callback it reports each count to. */
interface ArmorMeasure {
  readonly n: number;
  readonly propagateOnRejection: boolean;
  readonly onAccept: ((context: ValidationContext | null, details: { n: number }) => void)[];
}

type ArmorRule = (options: ArmorMeasure) => (context: ValidationContext) => object;

/**
 * A GraphQL Armor rule used as the measure and this module as the judge: with no threshold of its
 * own, Armor reports each operation's count to `onAccept`, and an operation over `max` is reported
 * as a {@link QueryLimitExceeded} carrying the figures (Armor's own rejection has them only in
 * its message text).
 */
function limitRule(limit: QueryLimitName, max: number, armorRule: ArmorRule): ValidationRule {
  return (context) =>
    armorRule({
      n: Number.POSITIVE_INFINITY,
      propagateOnRejection: false,
      onAccept: [
        (_context, { n }) => {
          if (n > max) context.reportError(new QueryLimitExceeded({ limit, max, measured: n }));
        },
      ],
    })(context) as ASTVisitor;
}

/**
 * Depth, alias and directive limits as graphql-js validation rules. Apollo runs them after the
 * specified rules and `maxRecursiveSelections` have passed, so the documents they walk are valid
 * and of bounded size.
 */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  return [
    // Fragments flattened: depth is how deep fields nest, however the client groups them.
    limitRule('maxDepth', limits.maxDepth, (options) => maxDepthRule({ ...options, flattenFragments: true })),
    limitRule('maxAliases', limits.maxAliases, maxAliasesRule),
    limitRule('maxDirectives', limits.maxDirectives, maxDirectivesRule),
  ];
}

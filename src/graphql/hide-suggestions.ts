import type { ApolloServerPlugin } from '@apollo/server';

/** graphql-js appends its suggestions last: ` Did you mean "title"?`, `… the enum value "DENIED"?`. */
const SUGGESTION = / ?Did you mean .+\?$/s;

/**
 * Removes graphql-js's "Did you mean …?" suggestions from every error a client receives, so the
 * schema cannot be guessed field by field once introspection is off (production).
 *
 * Apollo's `hideSchemaDetailsFromClientErrors` only cleans validation errors, and GraphQL Armor's
 * `blockFieldSuggestion` misses `Did you mean the enum value …?`; variable coercion errors carry
 * both kinds (`Field "outcom" is not defined by type "AuditLogFilter". Did you mean "outcome"?`).
 */
export function ApolloServerPluginHideSuggestions(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) error.message = error.message.replace(SUGGESTION, '');
        },
      };
    },
  };
}

import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';

/** The operation the development explorers open with: who you are, and a page of your items. */
export const EXAMPLE_QUERY = `query MyItems {
  me { id userId role }
  items(first: 5) {
    edges { cursor node { id title updatedAt } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}
`;

/** The Sandbox's first tab: how to add a token, then {@link EXAMPLE_QUERY}. */
export const SANDBOX_EXAMPLE_OPERATION = `# Put a token from \`npm run token -- --sub alice\` in the Authorization header (Headers, below), then run.
${EXAMPLE_QUERY}`;

/** The header the Sandbox's first tab starts with; a placeholder to replace with a real token. */
export const SANDBOX_AUTHORIZATION_PLACEHOLDER = 'Bearer <paste a token from npm run token>';

/**
 * The development landing page: Apollo Sandbox (loaded from Apollo's CDN), opening with
 * {@link SANDBOX_EXAMPLE_OPERATION} and an `Authorization` header to fill in. The header is given to
 * the first tab only (`headers`), not as `embed.initialState.sharedHeaders`, which the Sandbox also
 * sends with its introspection polls: a placeholder there would be refused as a bad token, and
 * recorded as a denied `authenticate`, every few seconds.
 */
export function sandboxLandingPage(): ApolloServerPlugin {
  return ApolloServerPluginLandingPageLocalDefault({
    embed: true,
    footer: false,
    document: SANDBOX_EXAMPLE_OPERATION,
    headers: { Authorization: SANDBOX_AUTHORIZATION_PLACEHOLDER },
  });
}

// GraphiQL against this server's /graphql, with nothing loaded from outside it: the offline
// explorer for networks where Apollo Sandbox (served from Apollo's CDN) cannot load.
const EXAMPLE = `# Add your token under Headers, below: {"Authorization": "Bearer <a token from npm run token -- --sub alice>"}
# (the schema loads without one, in development), then run.
query MyItems {
  me { id userId role }
  items(first: 5) {
    edges { cursor node { id title updatedAt } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}
`;

const fetcher = GraphiQL.createFetcher({ url: new URL('/graphql', window.location.href).toString() });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery: EXAMPLE, defaultEditorToolsVisibility: 'headers', shouldPersistHeaders: false }),
);

// GraphiQL against this server's /graphql, with nothing loaded from outside it: the offline
// explorer for networks where Apollo Sandbox (served from Apollo's CDN) cannot load.
// The example operation comes from the server (example.js), the same as the Sandbox's.
const fetcher = GraphiQL.createFetcher({ url: new URL('/graphql', window.location.href).toString() });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery: globalThis.GRAPHIQL_EXAMPLE, defaultEditorToolsVisibility: 'headers', shouldPersistHeaders: false }),
);

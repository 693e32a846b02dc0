import path from 'node:path';
import express, { Router } from 'express';
import { EXAMPLE_QUERY } from './sandbox';

/** What GraphiQL opens with: how to add a token (under Headers, as JSON), then the Sandbox's example. */
const GRAPHIQL_EXAMPLE_OPERATION = `# Add your token under Headers, below: {"Authorization": "Bearer <a token from npm run token -- --sub alice>"}
# (the schema loads without one, in development), then run.
${EXAMPLE_QUERY}`;

/** The page's own files, served as written (as the dashboard's: the build leaves `src/http/graphiql/` alone). */
const PAGE = path.resolve(__dirname, '../../src/http/graphiql');

/** The browser builds the page loads: its path under `/graphiql/vendor/`, and the package and file it is. */
const VENDOR_FILES: Record<string, readonly [string, string]> = {
  'react.js': ['react', 'umd/react.production.min.js'],
  'react-dom.js': ['react-dom', 'umd/react-dom.production.min.js'],
  'graphiql.js': ['graphiql', 'graphiql.min.js'],
  'graphiql.css': ['graphiql', 'graphiql.min.css'],
};

/** An installed package's file, found when the route is made (development installs only); packages' `exports` hide their UMD builds from `require.resolve`. */
const packageFile = (name: string, file: string) => path.join(path.dirname(require.resolve(`${name}/package.json`)), file);

/**
 * `/graphiql` in development, beside Apollo Sandbox: GraphiQL from npm (with React), served by
 * this server, so the explorer works where Apollo's CDN cannot be reached (air-gapped networks).
 * The packages are development dependencies, so a production install has neither the page nor its
 * code; its policy allows only its own scripts and styles and connections to this origin.
 */
export function graphiqlRoutes(): Router {
  const router = Router();
  router.use('/graphiql', (_req, res, next) => {
    res.set({
      // GraphiQL's editors set styles from script; its stylesheet embeds its fonts and icons.
      'Content-Security-Policy':
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    next();
  });
  for (const [served, [name, file]] of Object.entries(VENDOR_FILES)) {
    const location = packageFile(name, file);
    router.get(`/graphiql/vendor/${served}`, (_req, res) => res.sendFile(location));
  }
  router.get('/graphiql/example.js', (_req, res) => {
    res.type('application/javascript').send(`globalThis.GRAPHIQL_EXAMPLE = ${JSON.stringify(GRAPHIQL_EXAMPLE_OPERATION)};\n`);
  });
  router.use('/graphiql', express.static(PAGE));
  return router;
}

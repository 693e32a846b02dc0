import path from 'node:path';
import express, { Router } from 'express';

/**
 * The page's files, served as written: `src/` and `dist/` sit at the same depth below the project
 * root, and the build leaves them alone (swc would turn the browser module into CommonJS).
 */
const PAGE = path.resolve(__dirname, '../../src/http/dashboard');

/** The browser build of graphql-ws's client, which the dashboard's live feed imports. */
const GRAPHQL_WS_DIST = path.dirname(require.resolve('graphql-ws'));

/** uPlot's browser module and stylesheet, which draw the dashboard's charts (axes, legends, values). */
const UPLOT_DIST = path.dirname(require.resolve('uplot'));

/**
 * `/dashboard`: one static page (`dashboard/`) that draws the trail from the public API with the
 * admin token its user pastes: charts (uPlot) from `auditStats`, break-glass accesses and "who
 * accessed item X" from `auditLogs`,
 * the `auditLogAdded` live feed and `/audit/export`. It holds no data of its own, so serving it
 * discloses nothing; its policy allows only its own scripts and connections to this origin.
 */
export function dashboardRoutes(): Router {
  const router = Router();
  router.use('/dashboard', (_req, res, next) => {
    res.set({
      'Content-Security-Policy':
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    next();
  });
  router.use('/dashboard/vendor/graphql-ws', express.static(GRAPHQL_WS_DIST, { index: false }));
  router.use('/dashboard/vendor/uplot', express.static(UPLOT_DIST, { index: false }));
  router.use('/dashboard', express.static(PAGE));
  return router;
}

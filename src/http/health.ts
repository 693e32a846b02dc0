import { Router } from 'express';
import type postgres from 'postgres';
import { auditTrailWritable } from '../audit/wiring';
import type { Logger } from '../config/logger';

/** How long `/readyz` waits for the database before it answers 503. */
const READINESS_TIMEOUT_MS = 2_000;

type NotReady = 'database_unavailable' | 'audit_trail_not_writable';

interface Readiness {
  readonly reason?: NotReady;
  /** For the log: the error code (e.g. `ECONNREFUSED`, `3D000`) or `timeout`; never SQL. */
  readonly cause?: string;
}

/**
 * `/healthz` is liveness: the process is up and its event loop answers. It asks nothing of the
 * database, so an outage there never gets a healthy process restarted.
 *
 * `/readyz` is readiness: the database answers within {@link READINESS_TIMEOUT_MS} and the audit
 * trail can be written. Otherwise it answers 503 with the reason, so no traffic is routed to an
 * instance whose every audited request would fail.
 */
export function healthRoutes(sql: postgres.Sql, logger: Logger): Router {
  const router = Router();
  let lastReason: NotReady | undefined;

  router.get('/healthz', (_req, res) => {
    res.set('cache-control', 'no-store').json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const { reason, cause } = await checkReadiness(sql);
    // Probes poll every few seconds: log the changes, not every answer.
    if (reason !== lastReason) {
      if (reason) logger.warn({ reason, cause }, 'not ready: /readyz answers 503');
      else logger.info('ready: /readyz answers 200');
      lastReason = reason;
    }
    res.set('cache-control', 'no-store');
    if (reason) res.status(503).json({ status: 'unavailable', reason });
    else res.json({ status: 'ok' });
  });

  return router;
}

async function checkReadiness(sql: postgres.Sql): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), READINESS_TIMEOUT_MS);
  });
  try {
    const writable = await Promise.race([auditTrailWritable(sql), timeout]);
    if (writable === 'timeout') return { reason: 'database_unavailable', cause: 'timeout' };
    return writable ? {} : { reason: 'audit_trail_not_writable' };
  } catch (error) {
    const { code } = (error ?? {}) as { code?: unknown };
    return { reason: 'database_unavailable', cause: typeof code === 'string' ? code : 'error' };
  } finally {
    clearTimeout(timer);
  }
}

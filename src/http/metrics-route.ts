import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Logger } from '../config/logger';
import type { Metrics } from '../metrics';

/**
 * `GET /metrics` in Prometheus's text format. With `token`, only a request carrying
 * `Authorization: Bearer <token>` is answered; any other gets 401 and learns nothing else.
 */
export function metricsRoute(metrics: Metrics, token: string | undefined, logger: Logger): Router {
  const router = Router();
  const authorized = token === undefined ? () => true : bearerCheck(token);

  router.get('/metrics', async (req, res) => {
    res.set('cache-control', 'no-store');
    if (!authorized(req.get('authorization'))) {
      res.status(401).set('www-authenticate', 'Bearer realm="metrics"').type('text/plain').send('Unauthorized\n');
      return;
    }
    try {
      const text = await metrics.render();
      res.type(metrics.contentType).send(text);
    } catch (error) {
      logger.error({ err: error }, 'metrics could not be rendered');
      res.status(500).type('text/plain').send('Internal server error\n');
    }
  });
  return router;
}

/**
 * Whether an `Authorization` header carries `token`, in time that does not depend on how much of
 * it matches: both sides are hashed to the same length first, then compared in constant time.
 */
function bearerCheck(token: string): (header: string | undefined) => boolean {
  const expected = sha256(`Bearer ${token}`);
  return (header) => timingSafeEqual(sha256(header ?? ''), expected);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

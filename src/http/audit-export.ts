import { Router, type Response } from 'express';
import { INVALID_ARGUMENT } from '../audit/wiring';
import { EXPORT_AUDIT_LOGS } from '../audit-logs/query/audit-log.actions';
import { ExportNotRecorded, runAuditExport, type ExportOutput } from '../audit-logs/export/audit-log.export';
import { exportWindowOf } from '../audit-logs/export/audit-log.export-window';
import { isAdmin } from '../auth/viewer';
import type { Logger } from '../config/logger';
import { Forbidden, InvalidInput, RateLimited, Unauthenticated, type ClientError } from '../core/errors';
import type { TrailReads } from '../db/trail-reads';
import type { Admission } from '../pipeline';
import { admittedOf, sendClientError } from './admit';

/** Options for {@link auditExportRoute}. */
export interface AuditExportOptions {
  /** Where exports read: a read replica while it keeps up, else the primary. */
  readonly trailReads: TrailReads;
  /** The request pipeline's admission, which has let the request in (see `admitRequests`). */
  readonly admission: Admission;
  readonly logger: Logger;
  /**
   * Exports one process runs at once; more are answered 429. Each holds a connection of the pool
   * for as long as its reader takes, so a few must not starve the API. Defaults to 2.
   */
  readonly maxConcurrent?: number;
}

const VIA = 'GET /audit/export';
const exportEvent = { action: EXPORT_AUDIT_LOGS } as const;

/**
 * `GET /audit/export?from&to&format=ndjson|csv|ocsf` with an admin's bearer token: the rows of a
 * time window, streamed oldest first with constant memory, recorded as `export_audit_logs` before
 * the first byte. Refusals are recorded too, and answered with a GraphQL-shaped JSON error.
 */
export function auditExportRoute(options: AuditExportOptions): Router {
  const { trailReads, admission, logger } = options;
  const maxConcurrent = options.maxConcurrent ?? 2;
  let running = 0;
  const router = Router();

  router.get('/audit/export', async (req, res, next) => {
    try {
      const admitted = admittedOf(res);
      const audit = admission.open(admitted, res.locals.requestId as string);
      const refuse = async (error: ClientError, details: Record<string, unknown>, event = exportEvent) => {
        audit.denied({ ...event, details }, VIA);
        await audit.flush();
        sendClientError(res, error, error instanceof Unauthenticated ? 401 : error instanceof Forbidden ? 403 : undefined);
      };
      if (!admitted.viewer) return await refuse(new Unauthenticated('Exporting the audit trail needs an admin bearer token.'), { reason: 'unauthenticated' });
      if (!isAdmin(admitted.viewer)) return await refuse(new Forbidden('Only admins may export the audit trail.'), { reason: 'not_admin' });
      let window;
      try {
        window = exportWindowOf(req.query);
      } catch (error) {
        if (!(error instanceof InvalidInput)) throw error;
        return await refuse(error, { argument: error.field }, { action: INVALID_ARGUMENT });
      }
      if (running >= maxConcurrent) {
        return await refuse(new RateLimited(`At most ${maxConcurrent} exports run at once; try again shortly.`, 5), { reason: 'too_many_exports' });
      }
      running++;
      try {
        await runAuditExport(trailReads.database.sql, audit, window, responseOutput(res, window), VIA);
        res.end();
      } catch (error) {
        if (error instanceof ExportNotRecorded) {
          logger.error({ err: error, requestId: audit.request.requestId }, 'audit trail write failed; export withheld');
          return res.status(503).json({
            errors: [{ message: 'The audit trail could not be written, so nothing was exported. Try again later.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
          });
        }
        if (!res.headersSent) return next(error);
        // Headers and rows are out: all that is left is to cut the response short, so the reader
        // sees a broken transfer rather than a complete-looking file.
        logger.error({ err: error, requestId: audit.request.requestId }, 'export cut short');
        res.destroy();
      } finally {
        running--;
      }
    } catch (error) {
      next(error);
    }
  });
  return router;
}

/** The response as an export's output: headers on start, writes that wait for a slow reader. */
function responseOutput(res: Response, window: { from: Date; to: Date }): ExportOutput {
  const stamp = (date: Date) => date.toISOString().replace(/[:.]/g, '-');
  return {
    start(rows, encoding) {
      res.status(200).set({
        'Content-Type': encoding.contentType,
        'Content-Disposition': `attachment; filename="audit-logs_${stamp(window.from)}_${stamp(window.to)}.${encoding.extension}"`,
        'Cache-Control': 'no-store',
        'X-Audit-Rows': String(rows),
      });
    },
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        if (res.destroyed) return reject(new ReaderGone());
        if (res.write(chunk)) return resolve();
        const onDrain = () => (res.off('close', onClose), resolve());
        const onClose = () => (res.off('drain', onDrain), reject(new ReaderGone()));
        res.once('drain', onDrain).once('close', onClose);
      }),
  };
}

/** The client closed the connection before the export was complete. */
class ReaderGone extends Error {
  override readonly name = 'ReaderGone';
  readonly code = 'CLIENT_CLOSED';
}

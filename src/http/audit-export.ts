import { Router, type Response } from 'express';
import type { AuditTrail } from '../audit';
import { EXPORT_AUDIT_LOGS } from '../audit-logs/audit-log.actions';
import { exportWindowOf, ExportNotRecorded, runAuditExport, type ExportOutput } from '../audit-logs/audit-log.export';
import { TokenRejected } from '../auth/token-rejection';
import type { TokenVerifier } from '../auth/token-verifier';
import { isAdmin } from '../auth/viewer';
import type { Logger } from '../config/logger';
import { InvalidInput } from '../core/errors';
import type { Database } from '../db/database';
import { authenticatedRequest } from './authenticated-request';

/** Options for {@link auditExportRoute}. */
export interface AuditExportOptions {
  readonly database: Database;
  readonly verifyToken: TokenVerifier;
  readonly auditTrail: AuditTrail;
  readonly logger: Logger;
  /**
   * Exports one process runs at once; more are answered 429. Each holds a connection of the pool
   * for as long as its reader takes, so a few must not starve the API. Defaults to 2.
   */
  readonly maxConcurrent?: number;
}

const VIA = 'GET /audit/export';
const exportEvent = { action: EXPORT_AUDIT_LOGS.name, resourceType: EXPORT_AUDIT_LOGS.resourceType } as const;

/**
 * `GET /audit/export?from&to&format=ndjson|csv|ocsf` with an admin's bearer token: the rows of a
 * time window, streamed oldest first with constant memory, recorded as `export_audit_logs` before
 * the first byte. Refusals are recorded too, and answered with a GraphQL-shaped JSON error.
 */
export function auditExportRoute(options: AuditExportOptions): Router {
  const { database, verifyToken, auditTrail, logger } = options;
  const maxConcurrent = options.maxConcurrent ?? 2;
  let running = 0;
  const router = Router();

  router.get('/audit/export', async (req, res, next) => {
    try {
      let authenticated;
      try {
        authenticated = await authenticatedRequest(req, res, verifyToken, auditTrail);
      } catch (error) {
        if (!(error instanceof TokenRejected)) throw error;
        return sendError(res, 401, 'UNAUTHENTICATED', error.message);
      }
      const { viewer, audit } = authenticated;
      const refuse = async (status: number, code: string, message: string, details: Record<string, unknown>) => {
        audit.denied({ ...exportEvent, details }, VIA);
        await audit.flush();
        sendError(res, status, code, message, typeof details.field === 'string' ? { field: details.field } : {});
      };
      if (!viewer) return await refuse(401, 'UNAUTHENTICATED', 'Exporting the audit trail needs an admin bearer token.', { reason: 'unauthenticated' });
      if (!isAdmin(viewer)) return await refuse(403, 'FORBIDDEN', 'Only admins may export the audit trail.', { reason: 'not_admin' });
      let window;
      try {
        window = exportWindowOf(req.query);
      } catch (error) {
        if (!(error instanceof InvalidInput)) throw error;
        return await refuse(400, 'BAD_USER_INPUT', error.message, { reason: 'invalid_input', field: error.field });
      }
      if (running >= maxConcurrent) {
        res.set('Retry-After', '5');
        return await refuse(429, 'TOO_MANY_REQUESTS', `At most ${maxConcurrent} exports run at once; try again shortly.`, { reason: 'too_many_exports' });
      }
      running++;
      try {
        await runAuditExport(database.sql, audit, window, responseOutput(res, window), VIA);
        res.end();
      } catch (error) {
        if (error instanceof ExportNotRecorded) {
          logger.error({ err: error, requestId: audit.request.requestId }, 'audit trail write failed; export withheld');
          return sendError(res, 503, 'INTERNAL_SERVER_ERROR', 'The audit trail could not be written, so nothing was exported. Try again later.');
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

function sendError(res: Response, status: number, code: string, message: string, extensions: Record<string, unknown> = {}): void {
  res.status(status).json({ errors: [{ message, extensions: { code, ...extensions } }] });
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

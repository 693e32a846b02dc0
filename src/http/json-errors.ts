import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../config/logger';

/**
 * Express's last error handler. Its default answers with an HTML page and, outside production, a
 * stack trace; clients of a GraphQL API get a GraphQL-shaped JSON error instead, and operators
 * get the stack in the log.
 */
export function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error: { status?: number; type?: string }, _req, res, next) => {
    if (res.headersSent) return next(error);
    // body-parser marks client mistakes (malformed JSON, body too large) with a 4xx status.
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) logger.error({ err: error }, 'unhandled error in HTTP pipeline');
    const message = status === 500 ? 'Internal server error' : `Bad request${error.type ? `: ${error.type.replace(/\./g, ' ')}` : ''}`;
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
  };
}

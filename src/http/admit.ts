import type { Request, RequestHandler, Response } from 'express';
import { ClientError, InvalidInput, RateLimited } from '../core/errors';
import { toGraphQLError } from '../graphql/client-errors';
import type { Admission, Admitted, TrustProxy } from '../pipeline';
import { originOf } from '../pipeline';

/** The request pipeline's admission of an HTTP request: token, rate limits, the `authenticate` row of a refused token. */
const admit = (admission: Admission, req: Request, res: Response, trustProxy: TrustProxy) =>
  admission.admit(
    originOf(req, trustProxy),
    { authorization: req.get('authorization'), accessReason: req.get('access-reason'), accessReasonField: 'Access-Reason' },
    'http',
    res.locals.requestId as string,
  );

/**
 * Admission in front of a route that is not GraphQL (`/audit/export`): a refusal is answered here,
 * as a GraphQL-shaped JSON error (401 `UNAUTHENTICATED`, 429 `RATE_LIMITED` with `Retry-After`).
 */
export function admitRequests(admission: Admission, trustProxy: TrustProxy): RequestHandler {
  return async (req, res, next) => {
    try {
      res.locals.admitted = await admit(admission, req, res, trustProxy);
      next();
    } catch (error) {
      if (error instanceof ClientError) return sendClientError(res, error);
      next(error);
    }
  };
}

/**
 * Admission of a `/graphql` request, from Apollo's context function: a refusal becomes the GraphQL
 * error Apollo answers the whole request with, with its HTTP status (401, 400 for a bad
 * `Access-Reason`, or 429 with `Retry-After`).
 */
export async function admitGraphQLRequest(admission: Admission, req: Request, res: Response, trustProxy: TrustProxy): Promise<Admitted> {
  try {
    return await admit(admission, req, res, trustProxy);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    if (error instanceof RateLimited) res.set('Retry-After', String(error.retryAfterSeconds));
    const refusal = toGraphQLError(error);
    // Apollo answers an error thrown by the context function with 500 unless it names a status.
    if (error instanceof InvalidInput) refusal.extensions.http = { status: 400 };
    throw refusal;
  }
}

/** The caller {@link admitRequests} let in. */
export const admittedOf = (res: Response): Admitted => res.locals.admitted as Admitted;

/** `error` as a GraphQL-shaped JSON answer with its HTTP status (and `Retry-After` for a rate limit). */
export function sendClientError(res: Response, error: ClientError, status = httpStatusOf(error)): void {
  if (error instanceof RateLimited) res.set('Retry-After', String(error.retryAfterSeconds));
  res.status(status).json({ errors: [{ message: error.message, extensions: { code: error.code, ...error.extensions } }] });
}

function httpStatusOf(error: ClientError): number {
  return 'httpStatus' in error && typeof error.httpStatus === 'number' ? error.httpStatus : 400;
}

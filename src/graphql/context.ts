import type { RequestAudit } from '../audit/request-audit';
import type { Viewer } from '../auth/viewer';
import type { Db } from '../db/database';
import { unauthenticated } from './errors';

/** Per-request state every resolver receives. */
export interface Context {
  /** `undefined` for anonymous callers; graphql-shield keeps them away from data fields. */
  readonly viewer: Viewer | undefined;
  readonly db: Db;
  /** This request's audit trail; features tell it what happened, it decides how to store it. */
  readonly audit: RequestAudit;
}

/** The caller behind a field that permissions already require to be authenticated. */
export function viewerOf(context: Context): Viewer {
  if (!context.viewer) throw unauthenticated();
  return context.viewer;
}

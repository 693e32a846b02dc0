import type { AuditContext } from '../audit';
import type { AccessLogPolicy } from '../config/access-transparency';
import { Unauthenticated } from '../core/errors';
import type { Db } from '../db/database';
import type { Viewer } from '../auth/viewer';

/** Per-request state every resolver receives. */
export interface Context extends AuditContext {
  readonly db: Db;
  /** What owners are told of the admins who accessed their data (`myDataAccess`). */
  readonly accessLog: AccessLogPolicy;
}

/** The caller behind a field that permissions already require to be authenticated. */
export function viewerOf(context: Context): Viewer {
  if (!context.viewer) throw new Unauthenticated();
  return context.viewer;
}

import type { AuditContext } from '../audit';
import { Unauthenticated } from '../core/errors';
import type { Db } from '../db/database';
import type { Viewer } from '../auth/viewer';

/** Per-request state every resolver receives. */
export interface Context extends AuditContext {
  readonly db: Db;
}

/** The caller behind a field that permissions already require to be authenticated. */
export function viewerOf(context: Context): Viewer {
  if (!context.viewer) throw new Unauthenticated();
  return context.viewer;
}

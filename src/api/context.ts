import type { AuditContext } from '../audit';
import type { AccessLogPolicy } from '../config/access-transparency';
import { Unauthenticated } from '../core/errors';
import type { Db } from '../db/database';
import type { TrailReads } from '../db/trail-reads';
import type { Viewer } from '../auth/viewer';

/** Per-request state every resolver receives. */
export interface Context extends AuditContext {
  readonly db: Db;
  /** Where the trail's own queries read: a read replica while it keeps up, else `db`'s primary. */
  readonly trailReads: Pick<TrailReads, 'database' | 'databaseWith' | 'primary' | 'lagSeconds'>;
  /** What owners are told of the admins who accessed their data (`myDataAccess`). */
  readonly accessLog: AccessLogPolicy;
}

/** The caller behind a field that permissions already require to be authenticated. */
export function viewerOf(context: Context): Viewer {
  if (!context.viewer) throw new Unauthenticated();
  return context.viewer;
}

import type { Viewer } from '../../auth/viewer';
import type { RequestAudit } from './request-audit';

/** What the audit middleware and plugin need of the GraphQL context; the app's context extends it. */
export interface AuditContext {
  /** `undefined` for anonymous callers. */
  readonly viewer: Viewer | undefined;
  /** This request's audit trail: the one object every row of the request is written through. */
  readonly audit: RequestAudit;
}

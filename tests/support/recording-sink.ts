import { AuditTrail } from '../../src/audit/wiring';
import { type AuditEvent, type AuditSink } from '../../src/audit/operations';
import { Role, type Viewer } from '../../src/auth/viewer';
import type { Db } from '../../src/db/database';
import { AUDIT_ACTIONS } from '../../src/graphql/audit-actions';

/** An audit sink that keeps events in memory, or fails every write when told to. */
export class RecordingSink implements AuditSink {
  readonly recordsReads = true;
  readonly events: AuditEvent[] = [];
  failing = false;

  async write(_request: unknown, events: readonly AuditEvent[]): Promise<void> {
    if (this.failing) throw new Error('audit_logs is unavailable');
    this.events.push(...events);
  }

  writeInTransaction(_tx: unknown, request: unknown, events: readonly AuditEvent[]): Promise<void> {
    return this.write(request, events);
  }

  /** No database, so no backstop to tell. */
  async claimStatement(): Promise<void> {}
}

export const ADMIN: Viewer = { id: 'root', role: Role.ADMIN };

/** A context for in-process execution whose rows go to `sink`; nothing touches a database. */
export function inProcessContext(sink: AuditSink, viewer: Viewer = ADMIN) {
  const db = undefined as unknown as Db;
  const trail = new AuditTrail({ db, sink, actions: AUDIT_ACTIONS });
  return { viewer, db, audit: trail.forRequest({ viewer, requestId: 'in-process', ip: null, userAgent: null, accessReason: null, operationName: null }) };
}

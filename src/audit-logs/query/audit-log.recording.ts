import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../api/context';
import type { AuditAction } from '../../audit';
import type { AuditLogRow } from '../../audit/operations';
import { InvalidInput } from '../../core/errors';
import { viewAuditLogs } from './audit-log.actions';
import { disclosuresOf, type Disclosure } from './audit-log.disclosure';

type ViewEvent = Disclosure & { action: AuditAction; details: Record<string, unknown> };

/** Records the query as a `view_audit_logs` read of what `rows` disclose. */
export function noteView(context: Context, info: GraphQLResolveInfo, rows: readonly AuditLogRow[], view: ViewEvent): void {
  const field = `${info.parentType.name}.${info.fieldName}`;
  for (const disclosure of disclosuresOf(rows, context.viewer, view)) {
    context.audit.noteRead({ ...view, ...disclosure, ...(disclosure === view ? {} : { resourceId: null }) }, field);
  }
}

/** Runs `work`; bad input is recorded as a refused `view_audit_logs` before the error reaches the client. */
export function recordingRefusal<T>(context: Context, info: GraphQLResolveInfo, details: Record<string, unknown>, work: () => T): T {
  const refuse = (error: unknown): never => {
    if (error instanceof InvalidInput) {
      context.audit.denied(
        { ...viewAuditLogs, details: { ...details, reason: 'invalid_input', field: error.field } },
        `${info.parentType.name}.${info.fieldName}`,
      );
    }
    throw error;
  };
  try {
    const result = work();
    return (result instanceof Promise ? result.catch(refuse) : result) as T;
  } catch (error) {
    return refuse(error);
  }
}

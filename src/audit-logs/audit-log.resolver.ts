import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { Context } from '../api/context';
import { parseBigintId } from '../api/ids';
import { readPageArgs } from '../api/page';
import { auditQueryDetails, viewAuditLogs } from './audit-log.actions';
import { AuditLogsArgs } from './audit-log.inputs';
import { AuditLogService } from './audit-log.service';
import { AUDIT_LOG_PAGE, AuditLog, AuditLogConnection } from './audit-log.type';

/** The audit trail, for admins only (see `audit-log.rules.ts`); every query of it is itself recorded. */
@Resolver(() => AuditLog)
export class AuditLogResolver {
  @Query(() => AuditLogConnection, { description: 'Audit entries, newest first. Admins only.' })
  async auditLogs(@Args(() => AuditLogsArgs) args: AuditLogsArgs, @Ctx() context: Context): Promise<AuditLogConnection> {
    const page = readPageArgs(AUDIT_LOG_PAGE, args);
    const rows = await new AuditLogService(context.db).list(args.filter, page);
    context.audit.noteRead({ ...viewAuditLogs, details: auditQueryDetails({ ...args, first: page.first }) });
    return AuditLogConnection.fromPage(rows, AuditLog.fromRow);
  }

  @Query(() => AuditLog, { nullable: true, description: 'One audit entry by id. Admins only.' })
  async auditLog(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<AuditLog | null> {
    const row = await new AuditLogService(context.db).findById(parseBigintId(id, 'id'));
    context.audit.noteRead({ ...viewAuditLogs, resourceId: id, details: { id } });
    return row ? AuditLog.fromRow(row) : null;
  }
}

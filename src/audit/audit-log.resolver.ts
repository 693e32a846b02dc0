import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import { parseBigintId } from '../graphql/ids';
import { checkPageSize } from '../graphql/pagination';
import { VIEW_AUDIT_LOGS, auditQueryDetails } from './audit-log.actions';
import { AuditLogsArgs } from './audit-log.inputs';
import { AuditLogService } from './audit-log.service';
import { AuditLog, AuditLogConnection } from './audit-log.type';

const MAX_PAGE_SIZE = 200;

/** The audit trail, for admins only (see `permissions.ts`); every query of it is itself recorded. */
@Resolver(() => AuditLog)
export class AuditLogResolver {
  @Query(() => AuditLogConnection, { description: 'Audit entries, newest first. Admins only.' })
  async auditLogs(@Args(() => AuditLogsArgs) args: AuditLogsArgs, @Ctx() context: Context): Promise<AuditLogConnection> {
    const first = checkPageSize(args.first, MAX_PAGE_SIZE);
    const page = await new AuditLogService(context.db).list(args.filter, first, args.after);
    context.audit.noteRead({ ...VIEW_AUDIT_LOGS, details: auditQueryDetails({ ...args, first }) });
    return AuditLogConnection.fromPage(page, AuditLog.fromRow);
  }

  @Query(() => AuditLog, { nullable: true, description: 'One audit entry by id. Admins only.' })
  async auditLog(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<AuditLog | null> {
    const row = await new AuditLogService(context.db).findById(parseBigintId(id, 'id'));
    context.audit.noteRead({ ...VIEW_AUDIT_LOGS, resourceId: id, details: { id } });
    return row ? AuditLog.fromRow(row) : null;
  }
}

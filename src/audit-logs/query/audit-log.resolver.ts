import { Arg, Args, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../api/context';
import { readPageArgs } from '../../api/page';
import { auditQueryDetails, viewAuditLogs } from './audit-log.actions';
import { AuditLogsArgs } from './audit-log.inputs';
import { noteView, recordingRefusal } from './audit-log.recording';
import { AuditLogService } from './audit-log.service';
import { AuditLogOrder } from './audit-log.order';
import { AUDIT_LOG_NODE, AUDIT_LOG_PAGE, AuditLog, AuditLogConnection } from './audit-log.type';
import { AuditIntegrityService } from '../integrity/audit-integrity.service';
import { AuditIntegrity } from '../integrity/audit-integrity.type';

/**
 * The audit trail, for admins only (see `audit-log.rules.ts`). Every query of it is itself
 * recorded, refused or not, naming the owned records whose data it showed.
 */
@Resolver(() => AuditLog)
export class AuditLogResolver {
  @Query(() => AuditLogConnection, { description: 'Audit entries, newest first unless `order` says otherwise. Admins only.' })
  async auditLogs(@Args(() => AuditLogsArgs) args: AuditLogsArgs, @Ctx() context: Context, @Info() info: GraphQLResolveInfo): Promise<AuditLogConnection> {
    const details = auditQueryDetails(args);
    const page = recordingRefusal(context, info, details, () => readPageArgs(AUDIT_LOG_PAGE, args));
    // One database for the page and its seals: the replica, while it keeps up (and has the cursor's row).
    const { searches: db } = await context.trailReads.databaseWith(page.afterId);
    const service = new AuditLogService(db);
    const rows = await recordingRefusal(context, info, details, () =>
      args.order === AuditLogOrder.SEALED_ASC ? service.listSealed(args.filter, page) : service.list(args.filter, page, args.order),
    );
    noteView(context, info, rows.rows, { ...viewAuditLogs, details: { ...details, first: page.first } });
    const integrity = await new AuditIntegrityService(db).ofRows(rows.rows);
    return AuditLogConnection.fromPage(rows, (row) => AuditLog.fromRow(row, integrity.get(row.id)!));
  }

  @Query(() => AuditIntegrity, { description: 'How far the seal chain has come: its head, and what is not sealed yet. Admins only.' })
  async auditIntegrity(@Ctx() context: Context, @Info() info: GraphQLResolveInfo): Promise<AuditIntegrity> {
    const status = await new AuditIntegrityService(context.db).status();
    noteView(context, info, [], { ...viewAuditLogs, details: { integrity: true } });
    return { ...status, readReplicaLagSeconds: lagOf(context.trailReads.lagSeconds) };
  }

  @Query(() => AuditLog, { nullable: true, description: 'One audit entry by id. Admins only.' })
  async auditLog(@Arg('id', () => ID) id: string, @Ctx() context: Context, @Info() info: GraphQLResolveInfo): Promise<AuditLog | null> {
    const auditLogId = recordingRefusal(context, info, { id }, () => AUDIT_LOG_NODE.parse(id, 'id'));
    const { searches: db } = context.trailReads.database;
    const row = await new AuditLogService(db).findById(auditLogId);
    noteView(context, info, row ? [row] : [], { ...viewAuditLogs, resourceId: String(auditLogId), details: { id } });
    if (!row) return null;
    const integrity = await new AuditIntegrityService(db).ofRows([row]);
    return AuditLog.fromRow(row, integrity.get(row.id)!);
  }
}

/** The replica's lag as `auditIntegrity` shows it: -1 while it cannot be measured (unreachable). */
const lagOf = (lag: number | null | undefined): number | null => (lag === undefined ? -1 : lag);

import { Args, Ctx, Info, Query, Resolver } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../api/context';
import { auditStatsDetails, viewAuditLogs } from '../query/audit-log.actions';
import { noteView, recordingRefusal } from '../query/audit-log.recording';
import { AuditStatsArgs } from './audit-stats.inputs';
import { AuditStatsService } from './audit-stats.service';
import { AuditActionInfo, AuditStats } from './audit-stats.type';

/** Dashboards' reads of the trail, for admins only (`audit-log.rules.ts`): counts and the actions behind them. */
@Resolver()
export class AuditStatsResolver {
  @Query(() => AuditStats, {
    description: 'Counts of sealed audit rows by key and hour or day, from rollups the seals keep (never the trail). Admins only; recorded like auditLogs.',
  })
  async auditStats(@Args(() => AuditStatsArgs) args: AuditStatsArgs, @Ctx() context: Context, @Info() info: GraphQLResolveInfo): Promise<AuditStats> {
    const details = auditStatsDetails(args);
    const stats = await recordingRefusal(context, info, details, () => new AuditStatsService(context.trailReads.database.searches, context.audit.actions).stats(args));
    // Counts name no record, so the row discloses none.
    noteView(context, info, [], { ...viewAuditLogs, details });
    return stats;
  }

  /** The registry itself, not the trail: nothing of the trail is shown, so an admin's read is not recorded. */
  @Query(() => [AuditActionInfo], { description: 'Every action the trail records, with when and what it keeps. Admins only.' })
  auditActions(@Ctx() context: Context): AuditActionInfo[] {
    return context.audit.actions.all().map(({ name, resourceType, description, details }) => ({ name, resourceType, description, details }));
  }
}

import { ArgsType, Field, Int } from 'type-graphql';
import { AuditLogFilter } from '../query/audit-log.inputs';
import { AuditStatsBucketSize, AuditStatsKey, AuditStatsOrder } from './audit-stats.type';

/** How many buckets one `auditStats` answers at most: a month of hours is 744. */
export const AUDIT_STATS_MAX_BUCKETS = 1_000;

@ArgsType()
export class AuditStatsArgs {
  @Field(() => AuditLogFilter, {
    nullable: true,
    description: 'Only userId, action, actions, resourceType, outcome, adminBypass, from and to (whole UTC hours; days with userId); any other field is refused.',
  })
  filter?: AuditLogFilter | null;

  @Field(() => [AuditStatsKey], { description: 'The keys to count by; [] counts all rows of each bucket together.' })
  groupBy!: AuditStatsKey[];

  @Field(() => AuditStatsBucketSize, { nullable: true, description: 'Omitted: one bucket per key combination over the whole range. HOUR is refused with userId.' })
  bucket?: AuditStatsBucketSize | null;

  @Field(() => Int, { nullable: true, defaultValue: 100, description: `1 to ${AUDIT_STATS_MAX_BUCKETS}.` })
  first!: number | null;

  @Field(() => AuditStatsOrder, { defaultValue: AuditStatsOrder.COUNT_DESC })
  order!: AuditStatsOrder;
}

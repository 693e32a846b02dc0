import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { documentedEnum } from '../../api/documented-enum';
import { Role } from '../../api/role.enum';
import { AuditOutcome } from '../query/audit-log.type';

/** What `auditStats` can group by: the columns its rollups keep. Values are the keys' field names. */
export enum AuditStatsKey {
  ACTION = 'action',
  OUTCOME = 'outcome',
  USER_ID = 'userId',
  USER_ROLE = 'userRole',
  RESOURCE_TYPE = 'resourceType',
  ADMIN_BYPASS = 'adminBypass',
  ACCESS_REASON = 'accessReason',
}

registerEnumType(AuditStatsKey, { name: 'AuditStatsKey', description: 'A column `auditStats` groups by.' });

export enum AuditStatsBucketSize {
  HOUR = 'hour',
  DAY = 'day',
}

registerEnumType(AuditStatsBucketSize, { name: 'AuditStatsBucketSize', description: 'Buckets of `auditStats`, in UTC.' });

export const AuditStatsOrder = documentedEnum('AuditStatsOrder', 'How `auditStats` orders its buckets; ties go by time, then by keys.', {
  COUNT_DESC: 'Largest count first: top users, top actions.',
  TIME_ASC: 'Oldest bucket first, then largest count: time series.',
});
export type AuditStatsOrder = (typeof AuditStatsOrder)[keyof typeof AuditStatsOrder];

@ObjectType({ description: 'The values a bucket groups; a key not in `groupBy` is null (as are `userId` and `userRole` of anonymous callers).' })
export class AuditStatsKeys {
  @Field(() => String, { nullable: true })
  action!: string | null;

  @Field(() => AuditOutcome, { nullable: true })
  outcome!: AuditOutcome | null;

  @Field(() => String, { nullable: true, description: 'The acting user (JWT `sub`), as `AuditLog.userId`.' })
  userId!: string | null;

  @Field(() => Role, { nullable: true })
  userRole!: Role | null;

  @Field(() => String, { nullable: true })
  resourceType!: string | null;

  @Field(() => Boolean, { nullable: true })
  adminBypass!: boolean | null;

  @Field(() => String, { nullable: true, description: 'The access reason code the rows\' requests stated, as `AuditLog.accessReason.code`; null also for none.' })
  accessReason!: string | null;
}

@ObjectType({ description: 'How many sealed audit rows share these keys in this bucket.' })
export class AuditStatsBucket {
  @Field(() => AuditStatsKeys)
  keys!: AuditStatsKeys;

  @Field(() => Date, { nullable: true, description: 'Start of the hour or day (UTC); null without `bucket`: the whole filtered range.' })
  bucketStart!: Date | null;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: 'Counts of sealed audit rows (rows join about one seal interval after they commit).' })
export class AuditStats {
  @Field(() => [AuditStatsBucket])
  buckets!: AuditStatsBucket[];

  @Field(() => Boolean, { description: 'More buckets matched than `first`.' })
  hasMore!: boolean;
}

@ObjectType({ description: 'An action the trail records.' })
export class AuditActionInfo {
  @Field(() => String, { description: 'As stored in `action` and used in filters.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'The `resourceType` its rows carry; null when it is about the request itself.' })
  resourceType!: string | null;

  @Field(() => String, { description: 'When it is recorded.' })
  description!: string;

  @Field(() => String, { description: 'What its rows keep in `details`.' })
  details!: string;
}

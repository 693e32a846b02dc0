import { ArgsType, Field, ID, InputType } from 'type-graphql';
import { AfterArg, FirstArg } from '../../api/page';
import { Role } from '../../api/role.enum';
import { MAX_FILTER_ACTIONS } from './audit-log.limits';
import { AuditLogOrder } from './audit-log.order';
import { ChangeSource } from '../../api/change-source.enum';
import { AUDIT_LOG_PAGE, AuditOutcome } from './audit-log.type';

export const ACTIONS_DESCRIPTION = `Any of these actions (at most ${MAX_FILTER_ACTIONS}).`;
export const EXCLUDE_ACTIONS_DESCRIPTION = `None of these actions (at most ${MAX_FILTER_ACTIONS}): e.g. a dashboard leaving out its own \`view_audit_logs\` reads.`;

@InputType({ description: 'All given conditions must hold (AND).' })
export class AuditLogFilter {
  @Field(() => String, { nullable: true, description: 'The acting user (JWT `sub`).' })
  userId?: string | null;

  @Field(() => String, { nullable: true })
  action?: string | null;

  @Field(() => [String], { nullable: true, description: ACTIONS_DESCRIPTION })
  actions?: string[] | null;

  @Field(() => [String], { nullable: true, description: EXCLUDE_ACTIONS_DESCRIPTION })
  excludeActions?: string[] | null;

  @Field(() => Role, { nullable: true, description: 'The actor’s role at that moment.' })
  userRole?: Role | null;

  @Field(() => String, { nullable: true })
  resourceType?: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The global id of a record (an `Item`’s `id`, an `AuditLog`’s `resourceId`): rows naming it alone or among others.',
  })
  resourceId?: string | null;

  @Field(() => String, { nullable: true, description: 'Rows about this user’s records (JWT `sub`): whose data was read or changed.' })
  ownerId?: string | null;

  @Field(() => AuditOutcome, { nullable: true })
  outcome?: AuditOutcome | null;

  @Field(() => Boolean, { nullable: true })
  adminBypass?: boolean | null;

  @Field(() => ChangeSource, { nullable: true, description: 'Where it was done: `DATABASE` finds the changes made outside the API.' })
  source?: ChangeSource | null;

  @Field(() => String, { nullable: true, description: 'The access reason code the request stated (`support`, `incident`…; see `Access-Reason`).' })
  accessReason?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Rows of requests that stated the break-glass code (true), or not (false).' })
  breakGlass?: boolean | null;

  @Field(() => String, { nullable: true })
  requestId?: string | null;

  @Field(() => String, { nullable: true, description: 'The client address, as recorded (exact match).' })
  ip?: string | null;

  @Field(() => String, { nullable: true, description: 'The GraphQL operation name, as recorded (exact match).' })
  operationName?: string | null;

  @Field(() => Date, { nullable: true, description: 'Inclusive.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Exclusive.' })
  to?: Date | null;
}

@ArgsType()
export class AuditLogsArgs {
  @Field(() => AuditLogFilter, { nullable: true })
  filter?: AuditLogFilter | null;

  @FirstArg(AUDIT_LOG_PAGE)
  first!: number | null;

  @AfterArg()
  after?: string | null;

  @Field(() => AuditLogOrder, { defaultValue: AuditLogOrder.NEWEST_FIRST })
  order!: AuditLogOrder;
}

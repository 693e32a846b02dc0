import { ArgsType, Field, ID, InputType } from 'type-graphql';
import { AfterArg, FirstArg } from '../api/page';
import { AUDIT_LOG_PAGE, AuditLogOrder, AuditOutcome } from './audit-log.type';

@InputType({ description: 'All given conditions must hold (AND).' })
export class AuditLogFilter {
  @Field(() => String, { nullable: true, description: 'The acting user (JWT `sub`).' })
  userId?: string | null;

  @Field(() => String, { nullable: true })
  action?: string | null;

  @Field(() => [String], { nullable: true, description: 'Any of these actions.' })
  actions?: string[] | null;

  @Field(() => String, { nullable: true })
  resourceType?: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The global id of a record (an `Item`’s `id`, an `AuditLog`’s `resourceId`): rows naming it alone or among others.',
  })
  resourceId?: string | null;

  @Field(() => AuditOutcome, { nullable: true })
  outcome?: AuditOutcome | null;

  @Field(() => Boolean, { nullable: true })
  adminBypass?: boolean | null;

  @Field(() => String, { nullable: true })
  requestId?: string | null;

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

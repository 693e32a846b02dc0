import type { GraphQLResolveInfo } from 'graphql';
import { Args, ArgsType, Ctx, Field, Info, Query, Resolver } from 'type-graphql';
import { viewerOf, type Context } from '../../api/context';
import { AfterArg, FirstArg, readPageArgs } from '../../api/page';
import { InvalidInput } from '../../core/errors';
import { AuditLogService } from '../query/audit-log.service';
import { accessEntry } from './access-log.entry';
import { VIEW_MY_DATA_ACCESS } from './access-log.actions';
import { ACCESS_LOG_PAGE, DataAccess, DataAccessConnection } from './access-log.type';

@ArgsType()
export class MyDataAccessArgs {
  @FirstArg(ACCESS_LOG_PAGE)
  first!: number | null;

  @AfterArg()
  after?: string | null;

  @Field(() => Date, { nullable: true, description: 'Inclusive.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Exclusive.' })
  to?: Date | null;
}

/**
 * Access transparency: every signed-in user sees the admins' reads and changes of the records they
 * own — when, which records, which fields, why — newest first, from the trail itself. Each row
 * shows its reader only their own records; reading the log is recorded (as a read of their own data).
 */
@Resolver(() => DataAccess)
export class AccessLogResolver {
  @Query(() => DataAccessConnection, {
    description: "Admins' reads and changes of your records, newest first: when, which records and fields, why, and by whom (or only their role).",
  })
  async myDataAccess(@Args(() => MyDataAccessArgs) args: MyDataAccessArgs, @Ctx() context: Context, @Info() info: GraphQLResolveInfo): Promise<DataAccessConnection> {
    const viewer = viewerOf(context);
    const details = { from: args.from?.toISOString() ?? null, to: args.to?.toISOString() ?? null, first: args.first, after: args.after ?? null };
    const field = `${info.parentType.name}.${info.fieldName}`;
    let page;
    try {
      const request = readPageArgs(ACCESS_LOG_PAGE, args);
      // The trail's own filter and indexes: rows naming this owner where an admin bypassed the scoping.
      page = await new AuditLogService(context.db).list({ ownerId: viewer.id, adminBypass: true, from: args.from, to: args.to }, request);
    } catch (error) {
      if (error instanceof InvalidInput) context.audit.denied({ action: VIEW_MY_DATA_ACCESS, ownerIds: [viewer.id], details: { ...details, reason: 'invalid_input', field: error.field } }, field);
      throw error;
    }
    context.audit.noteRead({ action: VIEW_MY_DATA_ACCESS, ownerIds: [viewer.id], details: { ...details, count: page.rows.length } }, field);
    return DataAccessConnection.fromPage(page, (row) => accessEntry(row, viewer.id, context.accessLog));
  }
}

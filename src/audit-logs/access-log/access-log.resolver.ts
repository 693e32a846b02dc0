import type { GraphQLResolveInfo } from 'graphql';
import { Args, ArgsType, Ctx, Field, Info, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import { viewerOf, type Context } from '../../api/context';
import { AfterArg, FirstArg, readPageArgs } from '../../api/page';
import { InvalidInput } from '../../core/errors';
import { AuditLogService } from '../query/audit-log.service';
import { accessEntry } from './access-log.entry';
import { ACCESS_LOG_FEED } from './access-log.feed';
import { openFeed, type FeedContext, type FeedEntry } from '../feed/audit-log.feed';
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

@ArgsType()
export class MyDataAccessedArgs {
  @AfterArg()
  after?: string | null;
}

@ObjectType({ description: 'An entry of your access log as the live feed delivers it.' })
export class DataAccessed {
  @Field(() => String, { description: 'Opaque; pass as `after` to resume the feed after this entry.' })
  cursor!: string;

  @Field(() => DataAccess)
  node!: DataAccess;
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
      const { searches: db } = await context.trailReads.databaseWith(request.afterId);
      page = await new AuditLogService(db).list({ ownerId: viewer.id, adminBypass: true, from: args.from, to: args.to }, request);
    } catch (error) {
      if (error instanceof InvalidInput) context.audit.denied({ action: VIEW_MY_DATA_ACCESS, ownerIds: [viewer.id], details: { ...details, reason: 'invalid_input', field: error.field } }, field);
      throw error;
    }
    context.audit.noteRead({ action: VIEW_MY_DATA_ACCESS, ownerIds: [viewer.id], details: { ...details, count: page.rows.length } }, field);
    return DataAccessConnection.fromPage(page, (row) => accessEntry(row, viewer.id, context.accessLog));
  }

  @Subscription(() => DataAccessed, {
    description:
      "`myDataAccess`, live: each admin read or change of your records as it is sealed (within about a second), in seal order, each once; after `after` (a cursor of this feed or of `myDataAccess`) to resume without a gap. Over graphql-ws.",
    subscribe: ({ args, context }) => {
      const feedContext = context as FeedContext;
      const filter = { ownerId: viewerOf(feedContext).id, adminBypass: true };
      return openFeed(ACCESS_LOG_FEED, filter, { after: (args as MyDataAccessedArgs).after, asked: {} }, feedContext);
    },
  })
  myDataAccessed(@Root() entry: FeedEntry<DataAccess>, @Args(() => MyDataAccessedArgs) _args: MyDataAccessedArgs): DataAccessed {
    return entry;
  }
}

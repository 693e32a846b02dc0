import { Args, ArgsType, Field, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import { AfterArg } from '../../api/page';
import { openAuditLogFeed, type FeedContext, type FeedEntry } from './audit-log.feed';
import { AuditLogFilter } from '../query/audit-log.inputs';
import { AuditLog } from '../query/audit-log.type';

@ObjectType({ description: 'A row of the trail as the live feed delivers it.' })
export class AuditLogAdded {
  @Field(() => String, { description: 'Opaque; pass as `after` to resume the feed after this row.' })
  cursor!: string;

  @Field(() => AuditLog)
  node!: AuditLog;
}

@ArgsType()
export class AuditLogAddedArgs {
  @Field(() => AuditLogFilter, { nullable: true })
  filter?: AuditLogFilter | null;

  @AfterArg()
  after?: string | null;
}

/** The live feed of the trail, over graphql-ws on `/graphql` (see `src/http/live-feed.ts`). Admins only. */
@Resolver()
export class AuditLogFeedResolver {
  @Subscription(() => AuditLogAdded, {
    description:
      'Rows of the trail as they are sealed, in seal order, each once: from now on, or after `after` (a cursor of this feed or of `auditLogs(order: SEALED_ASC)`) to resume without a gap. Admins only; over graphql-ws.',
    subscribe: ({ args, context }) => openAuditLogFeed(args as AuditLogAddedArgs, context as FeedContext),
  })
  auditLogAdded(@Root() entry: FeedEntry, @Args(() => AuditLogAddedArgs) _args: AuditLogAddedArgs): AuditLogAdded {
    return entry;
  }
}

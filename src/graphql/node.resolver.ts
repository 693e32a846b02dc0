import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import { viewerOf, type Context } from '../api/context';
import { decodeGlobalId } from '../api/global-id';
import { Node } from '../api/node';
import { AuditedReads } from '../audit';
import { AuditLogResolver } from '../audit-logs/audit-log.resolver';
import { AUDIT_LOG_NODE } from '../audit-logs/audit-log.type';
import { InvalidInput } from '../core/errors';
import { ItemResolver } from '../items/item.resolver';
import { ITEM_NODE } from '../items/item.type';
import { ViewerResolver } from '../viewer/viewer.resolver';
import { VIEWER_NODE } from '../viewer/viewer.type';

/**
 * Relay's `node(id:)`: each id is answered by its type's own query, so scoping and the audit trail
 * treat it exactly as that query (`item(id:)`, `auditLog(id:)`, `me`); `@AuditedReads()` records an
 * admin's read of someone else's item, and `permissions.ts` lets only admins fetch audit entries.
 */
@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description: 'The object with this global id, as its own query answers it: null if it does not exist or is not yours.',
  })
  @AuditedReads()
  async node(@Arg('id', () => ID) id: string, @Ctx() context: Context, @Info() info: GraphQLResolveInfo): Promise<Node | null> {
    const { type } = decodeGlobalId(id, 'id');
    if (type === ITEM_NODE) return new ItemResolver().item(id, context);
    if (type === AUDIT_LOG_NODE) return new AuditLogResolver().auditLog(id, context, info);
    if (type === VIEWER_NODE) return VIEWER_NODE.parse(id, 'id') === viewerOf(context).id ? new ViewerResolver().me(context) : null;
    throw new InvalidInput('id', 'is not the id of an object node() fetches');
  }
}

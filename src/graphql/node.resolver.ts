import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import { viewerOf, type Context } from '../api/context';
import { decodeGlobalId } from '../api/global-id';
import { Node } from '../api/node';
import { AuditedReads } from '../audit';
import { AuditLogResolver } from '../audit-logs/query/audit-log.resolver';
import { AUDIT_LOG_NODE } from '../audit-logs/query/audit-log.type';
import { InvalidInput } from '../core/errors';
import { ItemResolver } from '../items/item.resolver';
import { ITEM_NODE } from '../items/item.type';
import { ViewerResolver } from '../viewer/viewer.resolver';
import { VIEWER_NODE } from '../viewer/viewer.type';

/** Most ids one `nodes` call takes: each is answered by a query of its own. */
export const MAX_NODE_IDS = 100;

/**
 * Relay's `node(id:)` and `nodes(ids:)`: each id is answered by its type's own query, so scoping
 * and the audit trail treat it exactly as that query (`item(id:)`, `auditLog(id:)`, `me`);
 * `@AuditedReads()` records an admin's reads of someone else's items, and `permissions.ts` lets
 * only admins fetch audit entries.
 */
@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description: 'The object with this global id, as its own query answers it: null if it does not exist or is not yours.',
  })
  @AuditedReads()
  node(@Arg('id', () => ID) id: string, @Ctx() context: Context, @Info() info: GraphQLResolveInfo): Promise<Node | null> {
    checkNodeId(id, 'id');
    return fetchNode(id, context, info);
  }

  @Query(() => [Node], {
    nullable: 'items',
    description: `The objects with these global ids (at most ${MAX_NODE_IDS}), in order, each as \`node(id:)\` answers it.`,
  })
  @AuditedReads()
  async nodes(@Arg('ids', () => [ID]) ids: string[], @Ctx() context: Context, @Info() info: GraphQLResolveInfo): Promise<(Node | null)[]> {
    if (ids.length > MAX_NODE_IDS) throw new InvalidInput('ids', `must list at most ${MAX_NODE_IDS} ids`);
    // Every id is checked before any is fetched: bad input fetches (and records) nothing.
    ids.forEach((id, n) => checkNodeId(id, `ids[${n}]`));
    const found: (Node | null)[] = [];
    for (const id of ids) found.push(await fetchNode(id, context, info));
    return found;
  }
}

const NODE_TYPES = [ITEM_NODE, AUDIT_LOG_NODE, VIEWER_NODE];

/** Throws `BAD_USER_INPUT` on `field` unless `id` is a well-formed id of a type node() fetches. */
function checkNodeId(id: string, field: string): void {
  const { type } = decodeGlobalId(id, field);
  if (!type || !NODE_TYPES.includes(type as never)) throw new InvalidInput(field, 'is not the id of an object node() fetches');
  type.parse(id, field);
}

/** The object behind a checked id, through its type's own query. */
async function fetchNode(id: string, context: Context, info: GraphQLResolveInfo): Promise<Node | null> {
  const { type } = decodeGlobalId(id, 'id');
  if (type === ITEM_NODE) return new ItemResolver().item(id, context);
  if (type === AUDIT_LOG_NODE) return new AuditLogResolver().auditLog(id, context, info);
  return VIEWER_NODE.parse(id, 'id') === viewerOf(context).id ? new ViewerResolver().me(context) : null;
}

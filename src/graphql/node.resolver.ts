import { isObjectType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { Arg, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import type { Context } from '../api/context';
import type { NodeSource } from '../api/feature';
import { decodeGlobalId } from '../api/global-id';
import { Node } from '../api/node';
import { AuditedReads } from '../audit';
import { InvalidInput } from '../core/errors';

/** Most ids one `nodes` call takes: each is answered by a query of its own. */
export const MAX_NODE_IDS = 100;

/**
 * Relay's `node(id:)` and `nodes(ids:)`: each id is answered by its type's own query, as the
 * features declare (`nodes` of each `<name>.feature.ts`), so scoping and the audit trail treat it
 * exactly as that query (`item(id:)`, `auditLog(id:)`, `me`); `@AuditedReads()` records an admin's
 * reads of someone else's records, and `permissions.ts` applies each type's own access. `sources`
 * are the node types of the schema's features.
 */
export function nodeResolverFor(sources: readonly NodeSource[]) {
  /** Throws `BAD_USER_INPUT` on `field` unless `id` is a well-formed id of a type node() fetches. */
  const checkNodeId = (id: string, field: string): void => {
    const source = nodeSourceOf(id, field, sources);
    if (!source) throw new InvalidInput(field, 'is not the id of an object node() fetches');
    source.type.parse(id, field);
  };
  /** The object behind a checked id, through its type's own query. */
  const fetchNode = async (id: string, context: Context, info: GraphQLResolveInfo): Promise<Node | null> =>
    nodeSourceOf(id, 'id', sources)!.fetch(id, context, info);

  @Resolver()
  class NodeResolver {
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
  return NodeResolver;
}

/** The feature that answers ids of `id`'s type; undefined for a type node() does not fetch. */
export function nodeSourceOf(id: string, field: string, sources: readonly NodeSource[]): NodeSource | undefined {
  const { type } = decodeGlobalId(id, field);
  return sources.find((source) => source.type === type);
}

/**
 * Fails the schema build for an object type that implements `Node` without a feature answering
 * `node()` for its ids (`nodes` in its `<name>.feature.ts`): a client's refetch would fail.
 */
export function assertNodeSources(schema: GraphQLSchema, sources: readonly NodeSource[]): void {
  const answered = new Set(sources.map((source) => source.type.name));
  for (const type of Object.values(schema.getTypeMap())) {
    if (isObjectType(type) && type.getInterfaces().some((face) => face.name === 'Node') && !answered.has(type.name)) {
      throw new Error(`${type.name} implements Node, but no feature answers node() for its ids: list its node type in its <name>.feature.ts`);
    }
  }
}

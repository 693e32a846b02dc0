import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { AuditedReads } from '../audit';
import type { KeysetPage, Total } from '../core/keyset-page';
import { encodeCursor, type PageSpec } from './page';

@ObjectType({ description: 'Where a page starts and ends, and whether another follows (Relay cursor connections).' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean, {
    description: 'Always false: pages only go forward (`first`/`after`), and the Relay specification lets such a connection answer false.',
  })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'The first edge’s cursor; null on an empty page.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to fetch the next page; null on an empty page.' })
  endCursor!: string | null;
}

/**
 * Declares `<Name>Edge` and `<Name>Connection` types for `nodeType`, following the Relay
 * connection shape, like TypeGraphQL's generic-types example. Their node fields carry
 * `@AuditedReads()`: for node types that are not audited, one middleware call that returns at once.
 */
export function ConnectionType<T extends object>(name: string, nodeType: ClassType<T>, spec: PageSpec) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String, { description: 'Opaque; pass as `after` to continue after this node.' })
    cursor!: string;

    @Field(() => nodeType)
    @AuditedReads()
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => [nodeType])
    @AuditedReads()
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    /** Not a GraphQL field: the deferred count behind `totalCount`, run at most once. */
    countTotal!: () => Promise<Total>;
    private total?: Promise<Total>;

    @Field(() => Int, {
      description: 'The matching nodes, not only this page; counted only when selected. Exact unless `totalCountIsExact` says otherwise.',
    })
    async totalCount(): Promise<number> {
      return (await this.counted()).count;
    }

    @Field(() => Boolean, {
      description: 'False when counting stopped at its cap: at least `totalCount` nodes match. Counted only when selected.',
    })
    async totalCountIsExact(): Promise<boolean> {
      return (await this.counted()).exact;
    }

    private counted(): Promise<Total> {
      return (this.total ??= this.countTotal());
    }

    static fromPage<R extends { id: bigint }>(page: KeysetPage<R>, toNode: (row: R) => T): Connection {
      const connection = new Connection();
      const cursors = page.rows.map((row) => encodeCursor(spec.cursorKind, row.id));
      connection.nodes = page.rows.map(toNode);
      connection.edges = connection.nodes.map((node, index) => ({ cursor: cursors[index]!, node }));
      connection.pageInfo = {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: false,
        startCursor: cursors[0] ?? null,
        endCursor: cursors.at(-1) ?? null,
      };
      connection.countTotal = page.countTotal;
      return connection;
    }
  }
  return Connection;
}

import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { AuditedReads } from '../audit/audited-reads';
import { badUserInput } from './errors';

@ObjectType({ description: 'Where a page ends and whether another follows.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to fetch the next page.' })
  endCursor!: string | null;
}

/** One page of rows, with the total computed only if a client selects it. */
export interface Page<T> {
  readonly nodes: T[];
  readonly hasNextPage: boolean;
  readonly cursorOf: (node: T) => string;
  readonly countTotal: () => Promise<number>;
}

/**
 * The page for rows a keyset query fetched with `limit first + 1`: the extra row, if any, only
 * tells that another page follows. Cursors hold the row id, tagged with `cursorKind`.
 */
export function keysetPage<T extends { id: bigint }>(
  rows: T[],
  first: number,
  cursorKind: string,
  countTotal: () => Promise<number>,
): Page<T> {
  return {
    nodes: rows.slice(0, first),
    hasNextPage: rows.length > first,
    cursorOf: (row) => encodeCursor(cursorKind, row.id.toString()),
    countTotal,
  };
}

/** The fields every connection type shares; `totalCount` runs its query only when selected. */
export interface ConnectionShape<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: PageInfo;
  totalCount(): Promise<number>;
}

/**
 * Declares `<Name>Edge` and `<Name>Connection` types for `nodeType`, following the Relay
 * connection shape, like TypeGraphQL's generic-types example. Their node fields carry
 * `@AuditedReads()`: for node types that are not audited, one middleware call that returns at once.
 */
export function ConnectionType<T extends object>(name: string, nodeType: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String, { description: 'Opaque; pass as `after` to continue after this node.' })
    cursor!: string;

    @Field(() => nodeType)
    @AuditedReads()
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Connection implements ConnectionShape<T> {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => [nodeType])
    @AuditedReads()
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    /** Not a GraphQL field: the deferred count behind `totalCount`. */
    countTotal!: () => Promise<number>;

    @Field(() => Int, { description: 'All matching nodes, not only this page; counted only when selected.' })
    totalCount(): Promise<number> {
      return this.countTotal();
    }

    static fromPage<N>(page: Page<N>, toNode: (row: N) => T): Connection {
      const connection = new Connection();
      connection.nodes = page.nodes.map(toNode);
      connection.edges = page.nodes.map((row, index) => ({ cursor: page.cursorOf(row), node: connection.nodes[index]! }));
      const last = page.nodes.at(-1);
      connection.pageInfo = { hasNextPage: page.hasNextPage, endCursor: last === undefined ? null : page.cursorOf(last) };
      connection.countTotal = page.countTotal;
      return connection;
    }
  }
  return Connection;
}

/** Checks a page size argument against its allowed range; `null` is as invalid as 0. */
export function checkPageSize(first: number | null, max: number): number {
  if (first === null || !Number.isInteger(first) || first < 1 || first > max) {
    throw badUserInput('first', `must be between 1 and ${max}`);
  }
  return first;
}

/** Cursors are opaque to clients: a kind tag plus the keyset value, base64url-encoded. */
export function encodeCursor(kind: string, value: string): string {
  return Buffer.from(`${kind}:${value}`, 'utf8').toString('base64url');
}

/** Reverses {@link encodeCursor}; anything not minted for `kind` is `BAD_USER_INPUT` on `after`. */
export function decodeCursor(kind: string, cursor: string): string {
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!decoded.startsWith(`${kind}:`)) throw badUserInput('after', 'is not a valid cursor');
  return decoded.slice(kind.length + 1);
}

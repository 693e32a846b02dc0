import { Field, Int } from 'type-graphql';
import { InvalidInput } from '../core/errors';

/** How one connection pages: its cursor tag and its page sizes. */
export interface PageSpec {
  /** Tags its cursors, so a cursor of one connection is refused by another. */
  readonly cursorKind: string;
  readonly defaultSize: number;
  readonly maxSize: number;
}

/** What a resolver passes a service: a checked page size and the id the page starts after. */
export interface PageRequest {
  readonly first: number;
  readonly afterId: bigint | undefined;
}

/** The `first` argument of a connection: `1 to maxSize`, `defaultSize` when omitted. */
export function FirstArg(spec: PageSpec): PropertyDecorator {
  return Field(() => Int, { nullable: true, defaultValue: spec.defaultSize, description: `1 to ${spec.maxSize}.` });
}

/** The `after` argument of a connection. */
export function AfterArg(): PropertyDecorator {
  return Field(() => String, { nullable: true, description: 'An `endCursor` from the previous page.' });
}

/** Checks `first` and decodes `after`; `null` is as invalid a page size as 0. */
export function readPageArgs(spec: PageSpec, args: { first: number | null; after?: string | null }): PageRequest {
  const { first, after } = args;
  if (first === null || !Number.isInteger(first) || first < 1 || first > spec.maxSize) {
    throw new InvalidInput('first', `must be between 1 and ${spec.maxSize}`);
  }
  return { first, afterId: after == null ? undefined : decodeCursor(spec.cursorKind, after) };
}

/** Cursors are opaque to clients: a kind tag plus the row id, base64url-encoded. */
export function encodeCursor(kind: string, id: bigint): string {
  return Buffer.from(`${kind}:${id}`, 'utf8').toString('base64url');
}

/** Reverses {@link encodeCursor}; anything not minted for `kind` is `BAD_USER_INPUT` on `after`. */
function decodeCursor(kind: string, cursor: string): bigint {
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const id = decoded.startsWith(`${kind}:`) ? decoded.slice(kind.length + 1) : '';
  if (!/^[0-9]{1,19}$/.test(id) || BigInt(id) < 1n || BigInt(id) > MAX_BIGINT) throw new InvalidInput('after', 'is not a valid cursor');
  return BigInt(id);
}

const MAX_BIGINT = 9223372036854775807n;

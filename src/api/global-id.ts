import { InvalidInput } from '../core/errors';

const MAX_BIGINT = 9223372036854775807n;

/** Longest global id accepted: a 255-character user id, tagged and base64url-encoded, fits. */
const MAX_GLOBAL_ID = 400;

/**
 * One type of the API's objects with global ids (Relay's Global Object Identification): the id a
 * client sees is `base64url("<Type>:<key>")`, so `Item` 1 and `AuditLog` 1 never share an id and a
 * client cannot mistake one for the other. The database keeps the plain key.
 */
export interface NodeType<Key> {
  /** The GraphQL type name, also the id's tag. */
  readonly name: string;
  /** The `resource_type` audit rows store for records of this type, when they are audited. */
  readonly resourceType: string | undefined;
  /** The global id of the record with this key. */
  globalId(key: Key | string): string;
  /** The key behind a global id of this type; anything else is `BAD_USER_INPUT` on `field`. */
  parse(globalId: string, field: string): Key;
}

/** A global id taken apart; `type` is undefined when its tag names no type of this API. */
export interface DecodedGlobalId {
  readonly type: NodeType<unknown> | undefined;
  readonly tag: string;
  readonly key: string;
}

const byName = new Map<string, NodeType<unknown>>();
const byResourceType = new Map<string, NodeType<unknown>>();

/** Encodes `key` under `tag`: the one encoding of every global id. */
function encodeGlobalId(tag: string, key: string): string {
  return Buffer.from(`${tag}:${key}`, 'utf8').toString('base64url');
}

/**
 * Takes a global id apart, or throws `BAD_USER_INPUT` on `field`: a raw database id (`"42"`), a
 * cursor or any other string that is not an id this API minted (the encoding must be canonical,
 * so one record has exactly one id).
 */
export function decodeGlobalId(globalId: string, field: string): DecodedGlobalId {
  const decoded =
    globalId.length <= MAX_GLOBAL_ID && /^[A-Za-z0-9_-]+$/.test(globalId) ? Buffer.from(globalId, 'base64url').toString('utf8') : '';
  const match = /^([A-Za-z][A-Za-z_]*):(.+)$/s.exec(decoded);
  if (!match || encodeGlobalId(match[1]!, match[2]!) !== globalId) {
    throw new InvalidInput(field, 'is not an id this API returned (ids are opaque global ids, not database ids)');
  }
  return { type: byName.get(match[1]!), tag: match[1]!, key: match[2]! };
}

/** Declares a type whose records are keyed by a positive bigint (a table's identity column). */
export function bigintNodeType(name: string, resourceType?: string): NodeType<bigint> {
  return register({
    name,
    resourceType,
    globalId: (key) => encodeGlobalId(name, String(key)),
    parse(globalId, field) {
      const key = keyOf(this, globalId, field);
      if (!/^[0-9]{1,19}$/.test(key) || BigInt(key) < 1n || BigInt(key) > MAX_BIGINT) throw wrongType(this, field);
      return BigInt(key);
    },
  });
}

/** Declares a type whose records are keyed by text (a user id). */
export function textNodeType(name: string): NodeType<string> {
  return register({
    name,
    resourceType: undefined,
    globalId: (key) => encodeGlobalId(name, key),
    parse(globalId, field) {
      return keyOf(this, globalId, field);
    },
  });
}

/**
 * The global id of a record an audit row names by its stored `resource_type` and key. A resource
 * type no declared type stores is tagged with the resource type itself (lower case, so it meets no
 * GraphQL type name): still opaque and distinct, though `node` cannot fetch it.
 */
export function globalIdOfResource(resourceType: string | null, key: string): string {
  const type = resourceType === null ? undefined : byResourceType.get(resourceType);
  return type ? type.globalId(key) : encodeGlobalId(resourceType ?? 'unknown', key);
}

/**
 * What an audit row stores for the record behind a global id: its `resource_type` and key, for ids
 * of declared types and for those {@link globalIdOfResource} tagged with a resource type. An id of
 * a type no audit row is about is `BAD_USER_INPUT` on `field`.
 */
export function resourceOfGlobalId(globalId: string, field: string): { resourceType: string; key: string } {
  const { type, tag, key } = decodeGlobalId(globalId, field);
  if (type) type.parse(globalId, field);
  const resourceType = type ? type.resourceType : /^[a-z]/.test(tag) ? tag : undefined;
  if (!resourceType) throw new InvalidInput(field, 'is not the id of a record the audit trail is about');
  return { resourceType, key };
}

function register<Key>(type: NodeType<Key>): NodeType<Key> {
  if (byName.has(type.name)) throw new Error(`node type ${type.name} is declared twice`);
  byName.set(type.name, type as NodeType<unknown>);
  if (type.resourceType) byResourceType.set(type.resourceType, type as NodeType<unknown>);
  return type;
}

function keyOf(type: NodeType<unknown>, globalId: string, field: string): string {
  const decoded = decodeGlobalId(globalId, field);
  if (decoded.type !== type) throw wrongType(type, field);
  return decoded.key;
}

const wrongType = (type: NodeType<unknown>, field: string) => new InvalidInput(field, `must be the id of ${article(type.name)} ${type.name}`);

const article = (name: string) => (/^[AEIOU]/.test(name) ? 'an' : 'a');

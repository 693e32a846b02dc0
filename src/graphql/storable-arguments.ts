import { isObjectType, type GraphQLSchema } from 'graphql';
import type { IMiddlewareFieldMap, IMiddlewareFunction, IMiddlewareTypeMap } from 'graphql-middleware';
import { type AuditContext } from '../audit';
import { INVALID_ARGUMENT } from '../audit/wiring';
import { InvalidInput } from '../core/errors';

/**
 * NUL, which PostgreSQL `text` and `jsonb` cannot hold, and UTF-16 surrogates outside a pair, which
 * are no character at all (the driver would silently store U+FFFD). With the `u` flag a valid pair
 * is one code point, so `\p{Cs}` matches only the lone halves.
 */
const UNSTORABLE_CHARACTER = /[\u0000\p{Cs}]/u;

/**
 * Timestamps PostgreSQL can read from postgres.js: Dates travel as ISO strings, which outside years
 * 1–9999 (year 0, `-000001`, `+010000`) PostgreSQL refuses. Nothing this API stores lies outside them.
 */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const AFTER_LATEST = Date.parse('+010000-01-01T00:00:00Z');

/**
 * Refuses an argument PostgreSQL could not store or compare — before authorization and before any
 * resolver — as `BAD_USER_INPUT` naming its path, recorded as a denied `invalid_argument` (e.g.
 * `filter.requestId`, `input.title`, `filter.actions[1]`). One check for every argument of every
 * field, so no feature can forget it, and so such a value never reaches SQL, an audit row's
 * `details` or a log line. Only fields that take arguments are wrapped: the rest cost nothing.
 */
export function storableArguments(schema: GraphQLSchema): IMiddlewareTypeMap {
  const middleware: Record<string, IMiddlewareFieldMap> = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length > 0) (middleware[type.name] ??= {})[field.name] = checkArguments;
    }
  }
  return middleware;
}

const checkArguments: IMiddlewareFunction = (resolve, parent, args: Record<string, unknown>, context: AuditContext, info) => {
  for (const name in args) {
    const fault = unstorableIn(args[name], name);
    if (!fault) continue;
    // The attempt is recorded, by the argument's path only: its value is what cannot be stored.
    context.audit.denied({ action: INVALID_ARGUMENT, details: { argument: fault.field } }, `${info.parentType.name}.${info.fieldName}`);
    throw fault;
  }
  return resolve(parent, args, context, info);
};

/** The first value under `value` that cannot be stored, as the error naming its `path`. */
function unstorableIn(value: unknown, path: string): InvalidInput | undefined {
  if (typeof value === 'string') {
    return UNSTORABLE_CHARACTER.test(value)
      ? new InvalidInput(path, 'must not contain NUL characters or unpaired UTF-16 surrogates')
      : undefined;
  }
  if (value instanceof Date) {
    const time = value.getTime();
    return time >= EARLIEST && time < AFTER_LATEST ? undefined : new InvalidInput(path, 'must be between 0001-01-01 and 9999-12-31 (UTC)');
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const fault = unstorableIn(value[index], `${path}[${index}]`);
      if (fault) return fault;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const key in value) {
      const fault = unstorableIn((value as Record<string, unknown>)[key], `${path}.${key}`);
      if (fault) return fault;
    }
  }
  return undefined;
}

import { InvalidInput } from '../core/errors';

const MAX_BIGINT = 9223372036854775807n;

/** Parses a GraphQL `ID` that must be a positive PostgreSQL bigint; `field` names the argument. */
export function parseBigintId(value: string, field: string): bigint {
  if (!/^[0-9]{1,19}$/.test(value)) throw new InvalidInput(field, 'must be a positive integer id');
  const id = BigInt(value);
  if (id < 1n || id > MAX_BIGINT) throw new InvalidInput(field, 'must be a positive integer id');
  return id;
}

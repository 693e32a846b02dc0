import { registerEnumType } from 'type-graphql';

/**
 * A GraphQL enum whose values are their own names, each described for clients: the object code
 * compares with (`Order.NEWEST_FIRST`), registered as the enum `name` the schema shows.
 */
export function documentedEnum<const K extends string>(name: string, description: string, values: Readonly<Record<K, string>>): { readonly [V in K]: V } {
  const keys = Object.keys(values) as K[];
  const enumObject = Object.fromEntries(keys.map((key) => [key, key])) as { [V in K]: V };
  const valuesConfig = Object.fromEntries(keys.map((key) => [key, { description: values[key] }])) as Record<K, { description: string }>;
  registerEnumType(enumObject, { name, description, valuesConfig });
  return enumObject;
}

import { Field, ID, InterfaceType } from 'type-graphql';

/**
 * Relay's Global Object Identification: every object with an identity has a global `id` (see
 * `global-id.ts`) that `node(id:)` refetches. Implementations keep their database key in their own
 * properties (the audit trail records those) and expose the global id as `globalId`.
 */
@InterfaceType('Node', { description: 'An object with a global id, which `node(id:)` refetches.' })
export abstract class Node {
  @Field(() => ID, { name: 'id', description: 'Opaque and unique across every type; pass it to `node(id:)` or to arguments taking an ID.' })
  readonly globalId!: string;
}

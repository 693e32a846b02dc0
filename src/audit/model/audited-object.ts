import type { GraphQLObjectType } from 'graphql';
import { Extensions } from 'type-graphql';
import type { AuditedResource } from './audited-resource';

const AUDITED_RESOURCE = 'auditedResource';

/**
 * Marks the GraphQL object type of a declared resource: every record of it an admin reads but
 * does not own is recorded, one row per request and record. Its fields named after the
 * declaration's `id` and `owner` identify the record and its owner.
 */
export function AuditedObject(resource: AuditedResource): ClassDecorator {
  return Extensions({ [AUDITED_RESOURCE]: resource });
}

/** The declaration behind `type`, if any; cheap enough to call for every resolved field. */
export function auditedResourceOf(type: GraphQLObjectType): AuditedResource | undefined {
  return type.extensions[AUDITED_RESOURCE] as AuditedResource | undefined;
}

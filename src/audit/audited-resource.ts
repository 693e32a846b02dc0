import type { GraphQLObjectType } from 'graphql';
import { Extensions } from 'type-graphql';

const AUDITED_RESOURCE = 'auditedResource';

/** How the audit middleware recognises a record and its owner on an object type. */
export interface AuditedResourceOptions {
  /** Stored as `resource_type`, e.g. `item`. */
  readonly resourceType: string;
  /** The action recorded when an admin reads a record they do not own, e.g. `admin_view_item`. */
  readonly adminReadAction: string;
  /** The GraphQL field holding the record's id. */
  readonly idField: string;
  /** The GraphQL field holding the owner's user id. */
  readonly ownerField: string;
}

/**
 * Declares an object type as owned data: every field an admin resolves on someone else's record is
 * recorded, one row per request and record. The feature says *what* is audited; the audit module
 * decides how.
 */
export function AuditedResource(options: AuditedResourceOptions): ClassDecorator {
  return Extensions({ [AUDITED_RESOURCE]: options });
}

/** The declaration on `type`, if any; cheap enough to call for every resolved field. */
export function auditedResourceOf(type: GraphQLObjectType): AuditedResourceOptions | undefined {
  return type.extensions[AUDITED_RESOURCE] as AuditedResourceOptions | undefined;
}

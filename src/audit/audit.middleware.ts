import type { MiddlewareFn } from 'type-graphql';
import { Role } from '../auth/viewer';
import type { Context } from '../graphql/context';
import { auditedResourceOf } from './audited-resource';

/**
 * TypeGraphQL global middleware recording admin-scoped field access. It runs for every field of
 * every type, so the common path (a type not marked with `@AuditedResource`, or a non-admin
 * caller) is two property reads and a tail call: no await, no allocation.
 */
export const AdminAccessAudit: MiddlewareFn<Context> = ({ root, context, info }, next) => {
  const resource = auditedResourceOf(info.parentType);
  if (resource !== undefined && context.viewer?.role === Role.ADMIN) {
    const record = root as Record<string, unknown>;
    const ownerId = record[resource.ownerField];
    if (ownerId !== context.viewer.id) {
      context.audit.noteAdminRead(resource, String(record[resource.idField]), ownerId, info.fieldName);
    }
  }
  return next();
};

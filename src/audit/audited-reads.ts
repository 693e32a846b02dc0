import {
  getNamedType,
  isAbstractType,
  isIntrospectionType,
  isObjectType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { Extensions, UseMiddleware } from 'type-graphql';
import { AdminReadAudit } from './admin-read.middleware';
import { auditedResourceOf } from './audited-resource';

const AUDITED_READS = 'auditedReads';

/**
 * Marks a field (a query, a mutation, a connection's `nodes`) whose value holds records of an
 * `@AuditedResource` type, and registers {@link AdminReadAudit} on it. {@link assertReadsAudited}
 * refuses to build a schema in which such a field lacks the mark, so a new way to reach records
 * cannot silently skip the audit.
 */
export function AuditedReads(): MethodDecorator & PropertyDecorator {
  const middleware = UseMiddleware(AdminReadAudit);
  const mark = Extensions({ [AUDITED_READS]: true });
  return (prototype: object, field: string | symbol, descriptor?: PropertyDescriptor) => {
    middleware(prototype, field, descriptor as never);
    mark(prototype, field, descriptor as never);
  };
}

/** Throws, naming them, if any field returns audited records without {@link AuditedReads}. */
export function assertReadsAudited(schema: GraphQLSchema): void {
  const holdsAuditedRecords = (type: GraphQLNamedType): boolean =>
    isObjectType(type)
      ? auditedResourceOf(type) !== undefined
      : isAbstractType(type) && schema.getPossibleTypes(type).some((member) => auditedResourceOf(member) !== undefined);

  const unaudited: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const returned = getNamedType(field.type);
      if (!holdsAuditedRecords(returned)) continue;
      // The middleware reads ownership off concrete records: an interface or union of them is refused too.
      if (!isObjectType(returned) || field.extensions[AUDITED_READS] !== true) unaudited.push(`${type.name}.${field.name}`);
    }
  }
  if (unaudited.length > 0) {
    throw new Error(`fields returning audited records must be marked @AuditedReads(): ${unaudited.join(', ')}`);
  }
}

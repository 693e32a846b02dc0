import {
  getNamedType,
  isAbstractType,
  isIntrospectionType,
  isObjectType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { Extensions, UseMiddleware } from 'type-graphql';
import { AdminReadAudit } from '../graphql/admin-read.middleware';
import { auditedResourceOf } from './audited-object';

const AUDITED_READS = 'auditedReads';

/** Field names that say a type holds someone's data: such a type must be a declared resource. */
const OWNER_FIELD = /^owner(Id)?$/;

/**
 * Marks a field (a query, a mutation, a connection's `nodes`) whose value holds records of an
 * `@AuditedObject` type, and registers {@link AdminReadAudit} on it. {@link assertAuditCoverage}
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

/**
 * Throws, naming them, if the schema could let an admin read owned data unrecorded:
 * - an object type with an owner field (`owner`, `ownerId`) that is not an `@AuditedObject`;
 * - a field returning audited records, directly or through an interface or union (the middleware
 *   resolves each record's type), without {@link AuditedReads};
 * - a mutation returning them through an interface or union: a change's read is written in its
 *   transaction, which needs the resource before the change runs.
 */
export function assertAuditCoverage(schema: GraphQLSchema): void {
  const objectTypes = Object.values(schema.getTypeMap()).filter(
    (type): type is GraphQLObjectType => isObjectType(type) && !isIntrospectionType(type),
  );

  const unaudited = objectTypes.filter(
    (type) => auditedResourceOf(type) === undefined && Object.keys(type.getFields()).some((name) => OWNER_FIELD.test(name)),
  );
  if (unaudited.length > 0) {
    throw new Error(
      `types with an owner field must be declared audited resources (@AuditedObject): ${unaudited.map((type) => type.name).join(', ')}`,
    );
  }

  const holdsAuditedRecords = (type: GraphQLNamedType): boolean =>
    isObjectType(type)
      ? auditedResourceOf(type) !== undefined
      : isAbstractType(type) && schema.getPossibleTypes(type).some((member) => auditedResourceOf(member) !== undefined);
  const unmarked: string[] = [];
  for (const type of objectTypes) {
    for (const field of Object.values(type.getFields())) {
      const returned = getNamedType(field.type);
      if (!holdsAuditedRecords(returned)) continue;
      const throughAbstract = !isObjectType(returned) && type === schema.getMutationType();
      if (throughAbstract || field.extensions[AUDITED_READS] !== true) unmarked.push(`${type.name}.${field.name}`);
    }
  }
  if (unmarked.length > 0) {
    throw new Error(
      `fields returning audited records must be marked @AuditedReads() (and mutations must return the object type): ${unmarked.join(', ')}`,
    );
  }
}

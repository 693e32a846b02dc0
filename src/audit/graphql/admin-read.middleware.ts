import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  getDirectiveValues,
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import { isAdmin } from '../../auth/viewer';
import type { AuditContext } from '../record/audit-context';
import { auditedResourceOf } from '../model/audited-object';
import type { AuditedResource } from '../model/audited-resource';

/**
 * TypeGraphQL middleware on every field that returns records of an `@AuditedObject` type, directly
 * or through an interface or union such as `node(id:)` (see `@AuditedReads`). Once the field has
 * resolved, each record an admin does not own is noted with the fields the operation selects on
 * it; the audit plugin writes the notes before the response leaves. It runs once per
 * record-returning field — once for a list of 100 items, not for each of their 600 fields — and the
 * fields of records carry no middleware at all, so they stay synchronous property reads.
 */
export const AdminReadAudit: MiddlewareFn<AuditContext> = async ({ context, info }, next) => {
  const viewer = context.viewer;
  if (!viewer || !isAdmin(viewer) || !context.audit.recordsReads) return next();
  const type = getNamedType(info.returnType);
  if (isAbstractType(type)) {
    const result: unknown = await next();
    const fieldsOf = new Map<GraphQLObjectType, string[]>();
    const reads: ForeignRead[] = [];
    for (const record of recordsIn(result)) {
      const concrete = info.schema.getType((await type.resolveType?.(record, context, info, type)) ?? '');
      const resource = isObjectType(concrete) ? auditedResourceOf(concrete) : undefined;
      if (!resource || record[resource.ownerField] === viewer.id) continue;
      const concreteType = concrete as GraphQLObjectType;
      if (!fieldsOf.has(concreteType)) fieldsOf.set(concreteType, selectedFields(info, concreteType));
      reads.push({ resource, record, fields: fieldsOf.get(concreteType)! });
    }
    noteForeignReads(context, info, reads);
    return result;
  }
  const resource = isObjectType(type) ? auditedResourceOf(type) : undefined;
  if (!resource) return next();

  let fields: string[] | undefined;
  let recordedWithChange: ReadonlySet<string> = new Set();
  let result: unknown;
  // A mutation's record is read inside the change's transaction: it commits with the change.
  if (info.parentType === info.schema.getMutationType()) {
    fields = selectedFields(info, type as GraphQLObjectType);
    ({ result, recorded: recordedWithChange } = await context.audit.readingChange(resource, fields, async () => (await next()) as unknown));
  } else {
    result = await next();
  }
  const reads: ForeignRead[] = [];
  for (const record of recordsIn(result)) {
    if (record[resource.ownerField] === viewer.id || recordedWithChange.has(String(record[resource.idField]))) continue;
    reads.push({ resource, record, fields: (fields ??= selectedFields(info, type as GraphQLObjectType)) });
  }
  noteForeignReads(context, info, reads);
  return result;
};

/** A record of someone else's the field returned, and the fields the operation reads on it. */
interface ForeignRead {
  readonly resource: AuditedResource;
  readonly record: Record<string, unknown>;
  readonly fields: readonly string[];
}

/**
 * Notes the admin's reads of others' records — or, when the request may not bypass the owner
 * scoping (a reason is required and none was stated), refuses the whole field: its `denied` row
 * names the records it would have shown, and the client receives none of them.
 */
function noteForeignReads(context: AuditContext, info: GraphQLResolveInfo, reads: readonly ForeignRead[]): void {
  if (reads.length === 0) return;
  if (context.audit.mayBypass) {
    for (const { resource, record, fields } of reads) noteAdminRead(context, resource, record, [...fields]);
    return;
  }
  const field = `${info.parentType.name}.${info.fieldName}`;
  let refusal: Error | undefined;
  for (const resource of new Set(reads.map((read) => read.resource))) {
    const records = reads.filter((read) => read.resource === resource).map((read) => read.record);
    refusal = context.audit.bypassRefused(
      {
        action: resource.actions.adminRead,
        ...(records.length === 1 ? { resourceId: String(records[0]![resource.idField]) } : { resourceIds: records.map((record) => String(record[resource.idField])) }),
        ownerIds: [...new Set(records.map((record) => String(record[resource.ownerField])))],
        recordOwners: new Map(records.map((record) => [String(record[resource.idField]), String(record[resource.ownerField])])),
      },
      field,
    );
  }
  throw refusal;
}

const recordsIn = (result: unknown) =>
  (result == null ? [] : Array.isArray(result) ? result.flat(Infinity) : [result]).filter((record) => record != null) as Record<string, unknown>[];

function noteAdminRead(context: AuditContext, resource: AuditedResource, record: Record<string, unknown>, fields: string[]): void {
  context.audit.noteAdminRead(resource, String(record[resource.idField]), String(record[resource.ownerField]), fields);
}

/**
 * The names of the fields the operation reads on `type` below this field, through aliases,
 * fragments and inline fragments, honouring `@skip` and `@include` as execution does.
 */
function selectedFields(info: GraphQLResolveInfo, type: GraphQLObjectType): string[] {
  const names = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (!isIncluded(selection, info.variableValues)) continue;
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value !== '__typename') names.add(selection.name.value);
      } else {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : info.fragments[selection.name.value];
        if (fragment && appliesTo(fragment.typeCondition?.name.value, type, info)) visit(fragment.selectionSet);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet);
  return [...names];
}

function isIncluded(selection: SelectionNode, variables: Record<string, unknown>): boolean {
  return (
    getDirectiveValues(GraphQLSkipDirective, selection, variables)?.if !== true &&
    getDirectiveValues(GraphQLIncludeDirective, selection, variables)?.if !== false
  );
}

function appliesTo(condition: string | undefined, type: GraphQLObjectType, info: GraphQLResolveInfo): boolean {
  if (condition === undefined || condition === type.name) return true;
  const conditionType = info.schema.getType(condition);
  return isAbstractType(conditionType) && info.schema.isSubType(conditionType, type);
}

import type { GraphQLSchema } from 'graphql';
import { applyMiddleware, type IMiddleware } from 'graphql-middleware';
import { buildSchema } from 'type-graphql';
import { assertAuditCoverage, settleBeforeAudit } from '../audit/wiring';
import { describeAuditActions } from '../audit-logs/query/audit-log.descriptions';
import type { ApiFeature } from '../api/feature';
import { auditActionsOf } from './audit-actions';
// TypeGraphQL orders the schema's fields and types as the resolvers' modules are first imported:
// the features' in their folders' order, then node().
import { API_FEATURES } from './features';
import { assertNodeSources, nodeResolverFor } from './node.resolver';
import { permissionsFor } from './permissions';
import { storableArguments } from './storable-arguments';

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

const unusedPubSub = (): never => {
  throw new Error('no subscription of this API uses the TypeGraphQL PubSub');
};

/**
 * The TypeGraphQL schema of `features` (by default the API's, found in `src/`), without
 * authorization; `schema.graphql` is printed from the API's.
 */
export async function buildApiSchema(features: readonly ApiFeature[] = API_FEATURES): Promise<GraphQLSchema> {
  const sources = features.flatMap((feature) => feature.nodes ?? []);
  const schema = await buildSchema({
    resolvers: [...features.flatMap((feature) => feature.resolvers), nodeResolverFor(sources)] as unknown as [Function, ...Function[]],
    validate: false,
    // TypeGraphQL insists on a PubSub once there is a subscription, even though the only one brings
    // its own `subscribe` (the sealed stream in the database, shared by every process).
    pubSub: { publish: unusedPubSub, subscribe: unusedPubSub },
  });
  assertAuditCoverage(schema);
  assertNodeSources(schema, sources);
  describeAuditActions(schema, auditActionsOf(features));
  return schema;
}

/**
 * The executable schema: the TypeGraphQL schema with, on its root fields, the audit trail's
 * settle tracking (outermost, so it sees what the checks inside record), the refusal of arguments
 * PostgreSQL cannot store, and the graphql-shield rules. Shield would wrap every field of every
 * type in an async rule check; all rules live on root fields, so the others are left alone to keep
 * list resolution cheap.
 */
export async function buildExecutableSchema(features: readonly ApiFeature[] = API_FEATURES): Promise<GraphQLSchema> {
  const schema = await buildApiSchema(features);
  const generated = permissionsFor(features).generate(schema) as Record<string, IMiddleware>;
  const rootTypes = Object.keys(generated).filter((type) => ROOT_TYPES.has(type));
  // A subscription writes its own rows as it goes (its start before it returns): it must not wait for itself.
  const settle = Object.fromEntries(rootTypes.filter((type) => type !== 'Subscription').map((type) => [type, settleBeforeAudit]));
  const rules = Object.fromEntries(rootTypes.map((type) => [type, generated[type]]));
  return checkedWhenSubscribing(schema, (unchecked) => applyMiddleware(unchecked, settle as IMiddleware, storableArguments(unchecked), rules as IMiddleware));
}

/**
 * graphql-middleware wraps a field's `resolve` when it has one, and a subscription field's
 * `resolve` runs once per delivered row, after the subscription has started unchecked. Each
 * subscription field's `resolve` is set aside while `applyMiddleware` runs, so the checks wrap its
 * `subscribe` — they run once, before the subscription starts, as they do before a query's
 * resolver — and is put back unwrapped on the result.
 */
function checkedWhenSubscribing(schema: GraphQLSchema, apply: (schema: GraphQLSchema) => GraphQLSchema): GraphQLSchema {
  const fields = (of: GraphQLSchema) => Object.values(of.getSubscriptionType()?.getFields() ?? {});
  const perRow = new Map(fields(schema).map((field) => [field.name, field.resolve]));
  for (const field of fields(schema)) field.resolve = undefined;
  try {
    const checked = apply(schema);
    for (const field of fields(checked)) field.resolve = perRow.get(field.name);
    return checked;
  } finally {
    for (const field of fields(schema)) field.resolve = perRow.get(field.name);
  }
}

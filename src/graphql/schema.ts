import type { GraphQLSchema } from 'graphql';
import { applyMiddleware, type IMiddleware } from 'graphql-middleware';
import { buildSchema } from 'type-graphql';
import { assertReadsAudited } from '../audit/audited-reads';
import { AuditLogResolver } from '../audit/audit-log.resolver';
import { ViewerResolver } from '../auth/viewer.resolver';
import { ItemResolver } from '../items/item.resolver';
import { permissions } from './permissions';

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/** The TypeGraphQL schema, without authorization; `schema.graphql` is printed from it. */
export async function buildApiSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [ViewerResolver, ItemResolver, AuditLogResolver],
    validate: false,
  });
  assertReadsAudited(schema);
  return schema;
}

/**
 * The executable schema: the TypeGraphQL schema with the graphql-shield rules applied to the root
 * fields. Shield would wrap every field of every type in an async rule check; all rules live on
 * root fields, so the others are left alone to keep list resolution cheap.
 */
export async function buildExecutableSchema(): Promise<GraphQLSchema> {
  const schema = await buildApiSchema();
  const generated = permissions.generate(schema) as Record<string, IMiddleware>;
  const rootMiddleware = Object.fromEntries(Object.entries(generated).filter(([type]) => ROOT_TYPES.has(type)));
  return applyMiddleware(schema, rootMiddleware as IMiddleware);
}

import type { GraphQLResolveInfo } from 'graphql';
import { deny, rule, shield } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import type { Context } from '../api/context';
import { ACCESS_DENIED } from '../audit/wiring';
import type { AccessCheck, ApiFeature, NodeSource } from '../api/feature';
import { nodeSourceOf } from './node.resolver';
import { Forbidden, Unauthenticated, type ClientError } from '../core/errors';

/**
 * Records a refused call of a root field as a denied `access_denied` (failed access attempts,
 * PCI DSS 10.2.1.4); all of a request's refusals make one row, written before the response leaves.
 */
function refuse(context: Context, info: GraphQLResolveInfo, error: ClientError, reason: string): ClientError {
  context.audit.denied({ action: ACCESS_DENIED, details: { reason } }, `${info.parentType.name}.${info.fieldName}`);
  return error;
}

const isAuthenticated = rule({ cache: 'no_cache' })((_parent, _args, context: Context, info) =>
  context.viewer ? true : refuse(context, info, new Unauthenticated(), 'unauthenticated'),
);

/**
 * `node(id:)` and `nodes(ids:)`: each id's type decides, as its own query would (an audit entry
 * only for admins, recorded as `auditLog(id:)`); ids of types without an access of their own, and
 * ids that are not ids at all (the resolver answers BAD_USER_INPUT), need a signed-in caller.
 */
const canFetchNodes = (sources: readonly NodeSource[]) =>
  rule({ cache: 'no_cache' })(async (_parent, args: { id?: string; ids?: string[] }, context: Context, info) => {
  const checks = new Set<AccessCheck>();
  for (const id of args.ids ?? [args.id]) {
    try {
      const access = id === undefined ? undefined : nodeSourceOf(id, 'id', sources)?.access;
      if (access) checks.add(access);
    } catch {
      // not an id at all: the resolver answers BAD_USER_INPUT
    }
  }
  for (const check of checks) {
    const allowed = await check(args, context, info);
    if (allowed !== true) return allowed;
  }
  return context.viewer ? true : refuse(context, info, new Unauthenticated(), 'unauthenticated');
});

const ROOT_TYPES = ['Query', 'Mutation', 'Subscription'] as const;

/** The rules of one root type: deny by default, `node`/`nodes` for Query, then each feature's. */
function rulesOf(root: (typeof ROOT_TYPES)[number], features: readonly ApiFeature[]): Record<string, IRules> {
  const fetchNodes = canFetchNodes(features.flatMap((feature) => feature.nodes ?? []));
  const rules: Record<string, IRules> = { '*': deny, ...(root === 'Query' ? { node: fetchNodes, nodes: fetchNodes } : {}) };
  for (const feature of features) {
    for (const [field, access] of Object.entries(feature.access[root] ?? {})) {
      if (field in rules) throw new Error(`${root}.${field} is given an access twice: one feature owns each root field`);
      rules[field] = access === 'signedIn' ? isAuthenticated : access;
    }
  }
  return rules;
}

/**
 * Who may call which root field, as `features` declare it (`access` in each `<name>.feature.ts`).
 * Anything not listed is denied, so a new operation is closed until someone decides who may use
 * it; two features giving one field an access is a programming error. Nested types are reachable
 * only through these fields.
 */
export function permissionsFor(features: readonly ApiFeature[]) {
  return shield(Object.fromEntries(ROOT_TYPES.map((root) => [root, rulesOf(root, features)])) as Parameters<typeof shield>[0], {
    // Resolver errors (BAD_USER_INPUT, NOT_FOUND, ...) pass through instead of becoming "Not Authorised!".
    allowExternalErrors: true,
    fallbackError: (_thrown, _parent, _args, shieldContext, info) => {
      const context = shieldContext as unknown as Context;
      return context.viewer
        ? refuse(context, info, new Forbidden(), 'not_permitted')
        : refuse(context, info, new Unauthenticated(), 'unauthenticated');
    },
  });
}

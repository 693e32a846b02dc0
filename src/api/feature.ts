import type { GraphQLResolveInfo } from 'graphql';
import type { IRule } from 'graphql-shield';
import type { AuditAction, AuditedResource } from '../audit';
import type { Context } from './context';
import type { NodeType } from './global-id';
import type { Node } from './node';

/** Who may call a root field: any signed-in caller, or the feature's own graphql-shield rule. */
export type FieldAccess = 'signedIn' | IRule;

/** What a refused check answers: the client error the field fails with, its refusal already recorded. */
export type AccessCheck = (args: Record<string, unknown>, context: Context, info: GraphQLResolveInfo) => true | Error | Promise<true | Error>;

/** A type of global id `node(id:)` and `nodes(ids:)` answer, each through the feature's own query. */
export interface NodeSource {
  readonly type: NodeType<unknown>;
  /** The object behind an id of this type, as the feature's own query answers it (null: missing or not yours). */
  fetch(globalId: string, context: Context, info: GraphQLResolveInfo): Promise<Node | null> | Node | null;
  /** Who may fetch these through `node()`; default: any signed-in caller. */
  readonly access?: AccessCheck;
}

/**
 * What one feature folder adds to the API, declared once in its `<name>.feature.ts` as `feature`:
 * `src/graphql/` finds every such file and assembles the schema, `node()`, the permissions and the
 * audit trail's action registry from them, so adding a feature touches only its own folder (and
 * its migration).
 */
export interface ApiFeature {
  /** Its TypeGraphQL resolver classes. */
  readonly resolvers: readonly (abstract new (...args: never[]) => unknown)[];
  /** Who may call each of its root fields; a root field no feature lists is denied to everyone. */
  readonly access: {
    readonly Query?: Readonly<Record<string, FieldAccess>>;
    readonly Mutation?: Readonly<Record<string, FieldAccess>>;
    readonly Subscription?: Readonly<Record<string, FieldAccess>>;
  };
  /** The global-id types of its objects that implement `Node`; the schema build fails for one left out. */
  readonly nodes?: readonly NodeSource[];
  /**
   * The audited resources it declares (`auditedResource`): their actions join the trail's registry,
   * and the server starts only while each one's database backstop is installed as declared.
   */
  readonly resources?: readonly AuditedResource[];
  /** The audit actions it records besides its resources' own. */
  readonly auditActions?: readonly AuditAction[];
}

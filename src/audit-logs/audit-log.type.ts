import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType } from '../api/connection';
import type { PageSpec } from '../api/page';
import { Role } from '../api/role.enum';
import { AUDIT_OUTCOMES, type AuditLogRow, type AuditOutcome as StoredOutcome } from '../audit';

/** The GraphQL enum of the stored outcomes: `SUCCESS` for `success`, and so on. */
export const AuditOutcome = Object.fromEntries(AUDIT_OUTCOMES.map((outcome) => [outcome.toUpperCase(), outcome])) as {
  readonly [O in StoredOutcome as Uppercase<O>]: O;
};
export type AuditOutcome = StoredOutcome;

registerEnumType(AuditOutcome, {
  name: 'AuditOutcome',
  description: 'Whether the audited attempt succeeded, was refused, or failed.',
});

@ObjectType({ description: 'One entry of the audit trail: who did what to which record, when, from where.' })
export class AuditLog {
  @Field(() => ID)
  id!: string;

  @Field(() => Date, { description: 'When it happened (database time).' })
  timestamp!: Date;

  @Field(() => ID, { nullable: true, description: 'The acting user (JWT `sub`); null when anonymous.' })
  userId!: string | null;

  @Field(() => Role, { nullable: true, description: 'The actor’s role at that moment.' })
  userRole!: Role | null;

  /** Its description, listing every action, is written when the schema is built: `describeAuditActions`. */
  @Field(() => String)
  action!: string;

  @Field(() => String, { nullable: true })
  resourceType!: string | null;

  @Field(() => ID, { nullable: true, description: 'The record it is about, when it is about one.' })
  resourceId!: string | null;

  @Field(() => [ID], { description: 'The records it is about when there are several (e.g. the items a query of the trail showed).' })
  resourceIds!: string[];

  @Field(() => [ID], { description: 'The owners (user ids) of the records it is about: whose data was read or changed.' })
  ownerIds!: string[];

  @Field(() => AuditOutcome)
  outcome!: AuditOutcome;

  @Field(() => Boolean, { description: 'An admin acted on data they do not own.' })
  adminBypass!: boolean;

  @Field(() => GraphQLJSONObject, { description: 'Action-specific: fields read, changes made, the filter used.' })
  details!: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: 'The X-Request-Id of the HTTP request.' })
  requestId!: string | null;

  @Field(() => String, { nullable: true })
  operationName!: string | null;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  static fromRow(row: AuditLogRow): AuditLog {
    return Object.assign(new AuditLog(), {
      ...row,
      id: row.id.toString(),
      timestamp: row.occurredAt,
      userRole: (row.userRole as Role | null) ?? null,
    });
  }
}

/** The trail pages newest first. */
export const AUDIT_LOG_PAGE: PageSpec = { cursorKind: 'audit', defaultSize: 50, maxSize: 200 };

@ObjectType()
export class AuditLogConnection extends ConnectionType('AuditLog', AuditLog, AUDIT_LOG_PAGE) {}

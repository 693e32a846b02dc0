import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType } from '../../api/connection';
import { bigintNodeType, globalIdOfResource } from '../../api/global-id';
import { Node } from '../../api/node';
import type { PageSpec } from '../../api/page';
import { ChangeSource } from '../../api/change-source.enum';
import { Role } from '../../api/role.enum';
import { AUDIT_OUTCOMES, DATABASE_SESSION_KEY, sourceOf, type AuditLogRow, type AuditOutcome as StoredOutcome, type DatabaseSession as StoredSession } from '../../audit/operations';

/** The GraphQL enum of the stored outcomes: `SUCCESS` for `success`, and so on. */
export const AuditOutcome = Object.fromEntries(AUDIT_OUTCOMES.map((outcome) => [outcome.toUpperCase(), outcome])) as {
  readonly [O in StoredOutcome as Uppercase<O>]: O;
};
export type AuditOutcome = StoredOutcome;

registerEnumType(AuditOutcome, {
  name: 'AuditOutcome',
  description: 'Whether the audited attempt succeeded, was refused, or failed.',
});

@ObjectType({ description: 'The database session a change made outside the API was made in.' })
export class DatabaseSession implements StoredSession {
  @Field(() => String, { description: 'The role that logged in (`session_user`); a later `SET ROLE` does not hide it.' })
  role!: string;

  @Field(() => String, { description: 'The `application_name` the client set (`psql`, a service\'s name); empty when it set none.' })
  applicationName!: string;

  @Field(() => Int, { description: 'The backend process id, to find the session in PostgreSQL\'s own logs.' })
  backendPid!: number;
}

@ObjectType({ description: 'A reason an admin stated for accessing data they do not own (`Access-Reason: <code> <reference>`).' })
export class AccessReason {
  @Field(() => String, { description: 'One of the server\'s reason codes (`ACCESS_REASON_CODES`).' })
  code!: string;

  @Field(() => String, { nullable: true, description: 'What it refers to, such as a ticket id; null when only the code was stated.' })
  reference!: string | null;

  @Field(() => Boolean, { description: 'The code is the break-glass code: emergency access, which pages someone.' })
  breakGlass!: boolean;
}

/** The reason a row's request stated, as the API shows it; null when it stated none. */
export function accessReasonOf(row: Pick<AuditLogRow, 'accessReason' | 'accessReference' | 'breakGlass'>): AccessReason | null {
  return row.accessReason === null ? null : { code: row.accessReason, reference: row.accessReference, breakGlass: row.breakGlass };
}

/** Audit entries' global ids: `AuditLog` and the row id; `view_audit_logs` rows name them as `audit_log`. */
export const AUDIT_LOG_NODE = bigintNodeType('AuditLog', 'audit_log');

@ObjectType({ description: 'One entry of the audit trail: who did what to which record, when, from where.', implements: Node })
export class AuditLog implements Node {
  /** The row id; clients see {@link globalId} as `id`. */
  id!: string;

  get globalId(): string {
    return AUDIT_LOG_NODE.globalId(this.id);
  }

  @Field(() => Date, { description: 'When it happened (database time).' })
  timestamp!: Date;

  @Field(() => String, { nullable: true, description: 'The acting user (JWT `sub`); null when anonymous.' })
  userId!: string | null;

  @Field(() => Role, { nullable: true, description: 'The actor’s role at that moment.' })
  userRole!: Role | null;

  /** Its description, listing every action, is written when the schema is built: `describeAuditActions`. */
  @Field(() => String)
  action!: string;

  @Field(() => String, { nullable: true })
  resourceType!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The global id of the record it is about, when it is about one: pass it to `node(id:)`, or to the `resourceId` filter.',
  })
  resourceId!: string | null;

  @Field(() => [ID], { description: 'The global ids of the records it is about when there are several (e.g. the items a query of the trail showed).' })
  resourceIds!: string[];

  @Field(() => [String], { description: 'The owners (user ids, JWT `sub`) of the records it is about: whose data was read or changed.' })
  ownerIds!: string[];

  @Field(() => AuditOutcome)
  outcome!: AuditOutcome;

  @Field(() => Boolean, { description: 'An admin acted on data they do not own, or a change was made outside the API (which no owner scoping governs).' })
  adminBypass!: boolean;

  @Field(() => ChangeSource, { description: 'Where it was done: `API`, or `DATABASE` for a change made outside the API.' })
  source!: ChangeSource;

  @Field(() => DatabaseSession, { nullable: true, description: 'For a change made outside the API, the database session it was made in; null otherwise.' })
  database!: DatabaseSession | null;

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

  @Field(() => AccessReason, { nullable: true, description: 'Why the request accessed others\' data, as it stated it (`Access-Reason`); null: it stated no reason.' })
  accessReason!: AccessReason | null;

  @Field(() => String, {
    description: 'SHA-256 (hex) of the row\'s canonical encoding as it reads now; `npm run audit:verify` compares it with the sealed one (docs/integrity.md).',
  })
  rowHash!: string;

  @Field(() => Int, { nullable: true, description: 'The sequence number of the seal that holds the row; null until it is sealed (within about a second).' })
  seal!: number | null;

  static fromRow(row: AuditLogRow, integrity: RowIntegrity): AuditLog {
    return Object.assign(new AuditLog(), {
      ...row,
      id: row.id.toString(),
      resourceId: row.resourceId === null ? null : globalIdOfResource(row.resourceType, row.resourceId),
      resourceIds: row.resourceIds.map((key) => globalIdOfResource(row.resourceType, key)),
      timestamp: row.occurredAt,
      userRole: (row.userRole as Role | null) ?? null,
      accessReason: accessReasonOf(row),
      source: sourceOf(row.details),
      database: (row.details[DATABASE_SESSION_KEY] as DatabaseSession | undefined) ?? null,
      ...integrity,
    });
  }
}

/** A row's hash as it reads now, and its seal. */
export interface RowIntegrity {
  readonly rowHash: string;
  readonly seal: number | null;
}

/** The trail pages newest first. */
export const AUDIT_LOG_PAGE: PageSpec = { cursorKind: 'audit', defaultSize: 50, maxSize: 200 };

@ObjectType()
export class AuditLogConnection extends ConnectionType('AuditLog', AuditLog, AUDIT_LOG_PAGE) {}

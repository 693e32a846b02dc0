import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../api/connection';
import type { PageSpec } from '../../api/page';
import { ChangeSource } from '../../api/change-source.enum';
import { AccessReason, AuditOutcome } from '../query/audit-log.type';

@ObjectType({ description: 'An admin\'s read or change of records you own, as the audit trail recorded it.' })
export class DataAccess {
  /** The trail row it comes from; clients page by cursor. */
  id!: bigint;

  @Field(() => Date, { description: 'When it happened (database time).' })
  timestamp!: Date;

  @Field(() => String, { description: 'What the admin did: `admin_view_item`, `update_item`, `view_audit_logs` (a query of the trail that showed your data)…' })
  action!: string;

  @Field(() => AuditOutcome, { description: '`DENIED` when the access was refused (e.g. for want of a stated reason) and showed nothing.' })
  outcome!: AuditOutcome;

  @Field(() => String, { nullable: true })
  resourceType!: string | null;

  @Field(() => [ID], { description: 'Global ids of your records it read or changed; never anyone else\'s.' })
  records!: string[];

  @Field(() => [String], { description: 'The fields read, or the fields changed.' })
  fields!: string[];

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'What a change changed, `{ field: { from, to } }`, as the trail keeps it (sensitive fields withheld there too); null for reads, and for a change of several of your records at once (`fields` lists what it changed).',
  })
  changes!: Record<string, unknown> | null;

  @Field(() => AccessReason, { nullable: true, description: 'The reason the admin stated; null when none was.' })
  accessReason!: AccessReason | null;

  @Field(() => ChangeSource, { description: '`DATABASE` for a change made outside the API (a DBA\'s `psql`, a migration, another service).' })
  source!: ChangeSource;

  @Field(() => String, {
    description:
      'Who: the admin\'s user id, or only `ADMIN` where the server keeps staff identities (`ACCESS_LOG_SHOWS_ADMIN`); for a change made outside the API, the database role, or only `DATABASE`.',
  })
  admin!: string;
}

/** An owner's access log pages newest first, by the trail's own cursors. */
export const ACCESS_LOG_PAGE: PageSpec = { cursorKind: 'access', defaultSize: 20, maxSize: 100 };

@ObjectType()
export class DataAccessConnection extends ConnectionType('DataAccess', DataAccess, ACCESS_LOG_PAGE) {}

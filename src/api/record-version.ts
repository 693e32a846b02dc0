import { Field, ObjectType } from 'type-graphql';
import type { RecordVersion as Version } from '../audit';
import { ChangeSource } from './change-source.enum';
import { ConnectionType } from './connection';
import type { PageSpec } from './page';

/** One version of an audited record, as any resource's `history` lists them. */
@ObjectType('RecordVersion', {
  description: 'One change of a record, as the audit trail recorded it: when, who, where, which action, and which fields it set.',
})
export class RecordVersionType {
  /** The audit row's id: the connection's cursors page by it. */
  id!: bigint;

  @Field(() => Date, {
    description:
      'When the change counts from: the start of its transaction. `asOf` this instant or later (before the next version) answers the state it made.',
  })
  timestamp!: Date;

  @Field(() => String, { description: 'The action recorded: `create_<type>`, `update_<type>`, `delete_<type>` or `restore_<type>`.' })
  action!: string;

  @Field(() => String, { nullable: true, description: 'The user (JWT `sub`) who made it; null for a change made in the database.' })
  userId!: string | null;

  @Field(() => ChangeSource)
  source!: Version['source'];

  @Field(() => String, { nullable: true, description: 'The database role that made it, for a change made in the database.' })
  databaseRole!: string | null;

  @Field(() => [String], {
    description: 'The fields it set: every recorded field for a creation, a deletion or a recreation; those that changed otherwise.',
  })
  changedFields!: string[];

  static fromVersion(version: Version): RecordVersionType {
    const { id, at, action, userId, source, databaseRole, changedFields } = version;
    return Object.assign(new RecordVersionType(), { id, timestamp: at, action, userId, source, databaseRole, changedFields: [...changedFields] });
  }
}

/** Versions page newest first. */
export const RECORD_VERSION_PAGE: PageSpec = { cursorKind: 'version', defaultSize: 20, maxSize: 100 };

@ObjectType()
export class RecordVersionConnection extends ConnectionType('RecordVersion', RecordVersionType, RECORD_VERSION_PAGE) {}

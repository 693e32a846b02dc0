import { getTableColumns, type InferSelectModel } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { defineAuditAction, type AuditAction } from './audit-actions';
import { changesBetween, snapshotOf, type RecordedFields } from './record-snapshot';

/** A column of `T`, by its key in Drizzle's row objects (also the GraphQL field of that name). */
export type FieldOf<T extends PgTable> = keyof InferSelectModel<T> & string;

/**
 * The one declaration an owned resource makes (in the spirit of paper_trail's `has_paper_trail`).
 * Everything else — snapshots, diffs, owner scoping, the actions and their rows — is computed
 * from it by the audit module.
 */
export interface AuditedResourceOptions<T extends PgTable> {
  /**
   * Stored as `resource_type`, e.g. `item`. The actions are named after it: `admin_view_item`,
   * `create_item`, `update_item`, `delete_item`, `restore_item`, and the refused `view_item` and
   * `list_items`.
   */
  readonly type: string;
  /** The Drizzle table holding the records. */
  readonly table: T;
  /** The primary key; also the GraphQL field holding the record's id. Defaults to `id`. */
  readonly id?: FieldOf<T>;
  /** Holds the owner's user id (the JWT `sub`); also the GraphQL field of that name. */
  readonly owner: FieldOf<T>;
  /**
   * Only changes of these fields are recorded by updates, and of the owner field (a change of whose
   * data a record is, which only a change made outside the API can make). Defaults to every field
   * but id and `ignore`.
   */
  readonly only?: readonly FieldOf<T>[];
  /** Fields kept out of snapshots and diffs altogether. Defaults to none. */
  readonly ignore?: readonly FieldOf<T>[];
  /** Fields recorded as present or changed, their values withheld from the trail. Defaults to none. */
  readonly sensitive?: readonly FieldOf<T>[];
}

/** A declared resource, as the audit module uses it. */
export interface AuditedResource<T extends PgTable = PgTable> {
  readonly type: string;
  readonly table: T;
  readonly idField: FieldOf<T>;
  readonly ownerField: FieldOf<T>;
  /** Which fields its rows record: what the API's changes, the database backstop and the history rebuilt from them compute from. */
  readonly fields: RecordedFields;
  readonly actions: {
    readonly adminRead: AuditAction;
    readonly view: AuditAction;
    readonly list: AuditAction;
    readonly create: AuditAction;
    readonly update: AuditAction;
    readonly delete: AuditAction;
    readonly restore: AuditAction;
  };
  /** The record as `details.after` / `details.before` keep it. */
  snapshot(record: InferSelectModel<T>): Record<string, unknown>;
  /** `{ field: { from, to } }` for the recorded fields that differ. */
  changes(before: InferSelectModel<T>, after: InferSelectModel<T>): Record<string, { from: unknown; to: unknown }>;
}

/** The action of an admin's read of others' records of `type`, whose `details.fields` are the record fields read. */
export const adminReadOf = (type: string): string => `admin_view_${type}`;

/** Declares `options.table` as owned, audited data and defines its actions. */
export function auditedResource<T extends PgTable>(options: AuditedResourceOptions<T>): AuditedResource<T> {
  const { type, table, owner } = options;
  const id = options.id ?? ('id' as FieldOf<T>);
  const ignored = new Set<string>(options.ignore ?? []);
  const columns = Object.keys(getTableColumns(table)).filter((field) => !ignored.has(field));
  for (const field of [id, owner, ...(options.only ?? []), ...(options.sensitive ?? [])]) {
    if (!(field in getTableColumns(table))) throw new Error(`audited resource ${type}: no column ${field}`);
  }
  const declaredDiffed = options.only ?? columns.filter((field) => field !== id && field !== owner);
  const fields: RecordedFields = {
    snapshot: columns,
    diffed: declaredDiffed.includes(owner) ? declaredDiffed : [...declaredDiffed, owner],
    sensitive: new Set(options.sensitive ?? []),
  };
  const diffedList = declaredDiffed.map((field) => `\`${field}\``).join(', ');

  return {
    type,
    table,
    idField: id,
    ownerField: owner,
    fields,
    actions: {
      adminRead: defineAuditAction({
        name: adminReadOf(type),
        resourceType: type,
        activity: 'read',
        description: `an admin resolves fields of someone else's ${type}s — one row per request listing them (\`resource_id\` for one, \`resource_ids\` for several, their owners in \`owner_ids\`); a mutation's own in its transaction`,
        details:
          '`{ fields: [names read] }`; refused for want of a stated reason (outcome `denied`): `{ reason: "access_reason_required", fields: [API fields refused], count }`',
      }),
      view: defineAuditAction({
        name: `view_${type}`,
        resourceType: type,
        activity: 'read',
        description: `a user asks for someone else's ${type} by id and is answered null (outcome \`denied\`)`,
        details: '`{ reason: "not_owner", ownerId }`',
      }),
      list: defineAuditAction({
        name: `list_${type}s`,
        resourceType: type,
        activity: 'read',
        description: `a user lists someone else's ${type}s and is answered with none, or an admin lists beyond their own without the reason the policy requires and is refused (outcome \`denied\`)`,
        details: '`{ reason: "not_owner", ownerId }`; an admin\'s `{ reason: "access_reason_required", ownerId? }`',
      }),
      create: defineAuditAction({
        name: `create_${type}`,
        resourceType: type,
        activity: 'create',
        description: `every ${type} created`,
        details: `\`{ after: { ${columns.join(', ')} } }\``,
      }),
      update: defineAuditAction({
        name: `update_${type}`,
        resourceType: type,
        activity: 'update',
        description: `every ${type} changed, or a refused attempt (\`denied\`, \`details.reason\`)`,
        details: `\`{ changes: { field: { from, to } } }\`, changed fields only (${diffedList}, and \`${owner}\` when a change outside the API moves it)`,
      }),
      delete: defineAuditAction({
        name: `delete_${type}`,
        resourceType: type,
        activity: 'delete',
        description: `every ${type} deleted, or a refused attempt (\`denied\`, \`details.reason\`)`,
        details: '`{ before: { ... } }`',
      }),
      restore: defineAuditAction({
        name: `restore_${type}`,
        resourceType: type,
        activity: 'update',
        description: `a ${type} set back to its state at an earlier instant, rebuilt from the trail (recreated with its id if deleted since), or a refused attempt (\`denied\`, \`details.reason\`: also \`history_gap\`, \`fields_withheld\`)`,
        details: `\`{ restoredTo, version, recreated, after: { ${columns.join(', ')} }, changes? }\`: the instant asked for, the id of the trail row whose state was restored, the whole restored ${type}, and what changed unless recreated`,
      }),
    },
    snapshot: (record) => snapshotOf(record, fields),
    changes: (before, after) => changesBetween(before, after, fields),
  };
}

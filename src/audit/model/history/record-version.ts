import type { AuditedResource } from '../audited-resource';
import { sourceOf, type ChangeSource } from '../change-source';

/** The kind of version each of `resource`'s change actions makes, by action name: its rows of these (`success`) are its versions. */
export function versionKindsOf(resource: AuditedResource): ReadonlyMap<string, VersionKind> {
  const { create, update, delete: remove, restore } = resource.actions;
  return new Map<string, VersionKind>([
    [create.name, 'create'],
    [update.name, 'update'],
    [remove.name, 'delete'],
    [restore.name, 'restore'],
  ]);
}

/** A record as a row of the trail keeps it: field → value as JSON, sensitive values withheld. */
export type Snapshot = Readonly<Record<string, unknown>>;

/** What one field's change keeps. */
export interface FieldChange {
  readonly from: unknown;
  readonly to: unknown;
}

/** Which of a resource's changes a version is. */
export type VersionKind = 'create' | 'update' | 'delete' | 'restore';

/**
 * One version of a record: what one `success` row of its create, update, delete or restore action
 * says happened to it. A change counts from its transaction's start (`at`, the row's
 * `occurred_at`); versions are ordered by the row's `id`, which is the order the changes were made
 * in, as each change writes its row while it holds the record's lock.
 */
export interface RecordVersion {
  /** The audit row's id. */
  readonly id: bigint;
  /** The instant the change counts from: the start of its transaction. */
  readonly at: Date;
  /** The action stored, e.g. `update_item`. */
  readonly action: string;
  readonly kind: VersionKind;
  /** The application user who made it; null for a change made straight in the database. */
  readonly userId: string | null;
  readonly source: ChangeSource;
  /** The database role that made it, for a change made straight in the database. */
  readonly databaseRole: string | null;
  /** The fields it set: every recorded one for a creation, deletion or recreation; those changed otherwise. */
  readonly changedFields: readonly string[];
}

/** What a version says about its record, in the shapes of `details` (one record's part of a bulk row). */
export interface VersionChange {
  readonly after?: Snapshot;
  readonly before?: Snapshot;
  readonly changes?: Readonly<Record<string, FieldChange>>;
  /** A restore that inserted the record again, as opposed to one that updated it. */
  readonly recreated?: boolean;
}

/** A version, with what it changed. */
export interface VersionEntry extends RecordVersion {
  readonly change: VersionChange;
  /** The owners its row names (`owner_ids`). */
  readonly ownerIds: readonly string[];
}

/** The columns of a trail row the history reads, `details` narrowed to the one record. */
export interface VersionRow {
  readonly id: bigint | string;
  readonly occurredAt: Date;
  readonly action: string;
  readonly userId: string | null;
  readonly ownerIds: readonly string[];
  /** The row's `details`, or for a row about several records its `details.byRecord[id]`. */
  readonly change: Record<string, unknown> | null;
  /** `details.database` of a backstop row. */
  readonly database: Record<string, unknown> | null;
}

/**
 * Reads one trail row as a version of a record; `kindOf` maps the resource's action names, and
 * `fieldOrder` (its snapshot's fields) orders the fields it changed, which `jsonb` does not keep.
 */
export function versionEntryOf(row: VersionRow, kindOf: (action: string) => VersionKind | undefined, fieldOrder: readonly string[]): VersionEntry {
  const kind = kindOf(row.action);
  if (kind === undefined) throw new Error(`${row.action} is not a change of this resource`);
  const change = (row.change ?? {}) as VersionChange;
  return {
    id: BigInt(row.id),
    at: row.occurredAt,
    action: row.action,
    kind,
    userId: row.userId,
    source: sourceOf(row.database === null ? {} : { database: row.database }),
    databaseRole: typeof row.database?.role === 'string' ? row.database.role : null,
    changedFields: changedFieldsOf(kind, change).sort((a, b) => fieldOrder.indexOf(a) - fieldOrder.indexOf(b)),
    change,
    ownerIds: row.ownerIds,
  };
}

function changedFieldsOf(kind: VersionKind, change: VersionChange): string[] {
  if (kind === 'update' || (kind === 'restore' && !change.recreated && change.changes)) return Object.keys(change.changes ?? {});
  return Object.keys(change.after ?? change.before ?? {});
}

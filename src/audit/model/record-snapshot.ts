/** What a snapshot or a change shows instead of a sensitive field's value. */
export const WITHHELD = '[withheld]';

/** A column value as JSON keeps it: timestamps as ISO strings, bigints as decimal strings. */
function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  return value;
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(jsonValue(a)) === JSON.stringify(jsonValue(b));

/** Which fields a resource's rows record, and which of them keep their values out of the trail. */
export interface RecordedFields {
  /** Fields kept in snapshots (`details.after` / `details.before`), in table order. */
  readonly snapshot: readonly string[];
  /** Fields whose changes an update records. */
  readonly diffed: readonly string[];
  /** Recorded as present or changed, with the value replaced by {@link WITHHELD}. */
  readonly sensitive: ReadonlySet<string>;
}

/** The record as it is kept in `details.after` / `details.before`. */
export function snapshotOf(record: Record<string, unknown>, fields: RecordedFields): Record<string, unknown> {
  const snapshot: Record<string, unknown> = {};
  for (const field of fields.snapshot) {
    snapshot[field] = fields.sensitive.has(field) ? WITHHELD : jsonValue(record[field]);
  }
  return snapshot;
}

/** `{ field: { from, to } }` for the diffed fields whose value differs. */
export function changesBetween(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  fields: RecordedFields,
): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of fields.diffed) {
    if (sameValue(before[field], after[field])) continue;
    changes[field] = fields.sensitive.has(field)
      ? { from: WITHHELD, to: WITHHELD }
      : { from: jsonValue(before[field]), to: jsonValue(after[field]) };
  }
  return changes;
}

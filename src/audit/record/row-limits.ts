/**
 * Bounds on what a client can make one audit row hold, so no request can flood the trail: rows
 * cannot be removed, so every byte a client controls is capped before it is stored.
 */
export const ROW_LIMITS = {
  /** Characters of `operation_name`. */
  operationName: 200,
  /** Characters of `user_agent`. */
  userAgent: 512,
  /** Characters of each string inside `details` (a filter value, an id). */
  detailString: 256,
  /** Entries of each list inside `details`. */
  detailList: 50,
  /** Bytes of `details` as JSON, after the caps above. */
  detailsBytes: 8192,
} as const;

/** Where something was cut, and how large it was: characters of a string, entries of a list, bytes of an omitted value. */
export type Truncations = Record<string, number>;

/** `value` cut to `max` characters, never splitting a surrogate pair; records the cut in `truncated`. */
export function capString(value: string, max: number, path: string, truncated: Truncations): string {
  if (value.length <= max) return value;
  truncated[path] = value.length;
  const end = /[\uD800-\uDBFF]/.test(value[max - 1]!) ? max - 1 : max;
  return value.slice(0, end);
}

/**
 * `details` with every string and list capped and, if it is still over {@link ROW_LIMITS.detailsBytes},
 * its largest top-level values omitted. What was cut is listed under `truncated` (path → original size).
 */
export function capDetails(details: Record<string, unknown>, truncated: Truncations): Record<string, unknown> {
  let json = JSON.stringify(details);
  // No string or list inside can exceed a limit the whole does not reach: the common case stops here.
  if (json.length <= ROW_LIMITS.detailString && Object.keys(truncated).length === 0) return details;
  const capped = capValue(details, '', truncated) as Record<string, unknown>;
  json = JSON.stringify(capped);
  while (Buffer.byteLength(json) > ROW_LIMITS.detailsBytes && Object.keys(capped).length > 0) {
    const [largest, bytes] = Object.entries(capped)
      .map(([key, value]) => [key, Buffer.byteLength(JSON.stringify(value) ?? '')] as const)
      .sort((a, b) => b[1] - a[1])[0]!;
    delete capped[largest];
    truncated[largest] = bytes;
    json = JSON.stringify({ ...capped, truncated });
  }
  return { ...capped, ...truncatedMark(truncated) };
}

/** `{ truncated }` when anything was cut, else nothing. */
export function truncatedMark(truncated: Truncations): { truncated?: Truncations } {
  return Object.keys(truncated).length > 0 ? { truncated } : {};
}

function capValue(value: unknown, path: string, truncated: Truncations): unknown {
  if (typeof value === 'string') return capString(value, ROW_LIMITS.detailString, path || '(details)', truncated);
  if (Array.isArray(value)) {
    if (value.length > ROW_LIMITS.detailList) truncated[path] = value.length;
    return value.slice(0, ROW_LIMITS.detailList).map((entry, index) => capValue(entry, `${path}[${index}]`, truncated));
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [key, capValue(entry, path ? `${path}.${key}` : key, truncated)]),
    );
  }
  return value;
}

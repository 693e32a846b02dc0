/** The `operation` label of a request whose document names no operation. */
export const ANONYMOUS_OPERATION = '(anonymous)';
/** …of a request that never got as far as an operation: refused, unparsable, invalid, unauthenticated. */
export const UNKNOWN_OPERATION = '(unknown)';
/** …of a named operation past the cap on distinct names, or with a name too long to be a label. */
export const OTHER_OPERATION = '(other)';

/** Longer operation names count as {@link OTHER_OPERATION}; the audit trail keeps the full name. */
const MAX_NAME_LENGTH = 100;

/**
 * Operation names as metric labels, with their number bounded. A name is chosen by the client,
 * and every distinct label value is a time series the server holds in memory and every scrape
 * carries: the first `max` names seen are kept, later ones count as {@link OTHER_OPERATION}.
 * GraphQL names cannot contain parentheses, so the bucket labels never collide with a name.
 */
export class OperationLabels {
  private readonly names = new Set<string>();

  constructor(private readonly max: number) {}

  /** The label for a resolved operation named `name` (`null`: anonymous). */
  of(name: string | null): string {
    if (name === null) return ANONYMOUS_OPERATION;
    if (this.names.has(name)) return name;
    if (name.length > MAX_NAME_LENGTH || this.names.size >= this.max) return OTHER_OPERATION;
    this.names.add(name);
    return name;
  }
}

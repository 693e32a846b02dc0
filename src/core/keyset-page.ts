/** How many rows match: exactly, or at least `count` when counting stopped at a cap. */
export interface Total {
  readonly count: number;
  readonly exact: boolean;
}

/** One page of rows in id order, with the total computed only if a client selects it. */
export interface KeysetPage<T extends { id: bigint }> {
  readonly rows: T[];
  readonly hasNextPage: boolean;
  readonly countTotal: () => Promise<Total>;
}

/**
 * The page for rows a keyset query fetched with `limit first + 1`: the extra row, if any, only
 * tells that another page follows.
 */
export function keysetPage<T extends { id: bigint }>(rows: T[], first: number, countTotal: () => Promise<Total>): KeysetPage<T> {
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first, countTotal };
}

/** A count that went to the end. */
export const exactTotal = (count: number): Total => ({ count, exact: true });

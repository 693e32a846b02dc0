/** The part of a GraphQL connection page that walking it relies on. */
export interface ConnectionPage {
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface ConnectionWalk<TPage> {
  /** Every page, in the order it was read. */
  pages: TPage[];
  /** Every node id, in the order it was read. */
  ids: string[];
}

/** More pages than any walk in the suite needs: a walk that gets here is not converging. */
const MAX_PAGES = 1000;

/**
 * Follows `endCursor` from the first page (`after: null`) until `hasNextPage` is false, checking
 * the contract of each page: `endCursor` is the last edge's cursor (null on an empty page), pages
 * are full (`first` edges) while `hasNextPage` and never longer, a page after `hasNextPage: true`
 * is not empty, and no id comes twice. `betweenPages` runs after each page that has a successor.
 */
export async function walkConnection<TPage extends ConnectionPage>(
  first: number,
  fetchPage: (after: string | null) => Promise<TPage>,
  betweenPages?: (page: TPage) => Promise<void>,
): Promise<ConnectionWalk<TPage>> {
  const pages: TPage[] = [];
  const ids: string[] = [];
  const seen = new Set<string>();
  let after: string | null = null;
  while (pages.length < MAX_PAGES) {
    const page: TPage = await fetchPage(after);
    const pageIds = page.edges.map((edge) => edge.node.id);
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
    expect(pageIds.filter((id) => seen.has(id))).toEqual([]);
    if (pages.length > 0) expect(pageIds.length).toBeGreaterThan(0);
    pages.push(page);
    ids.push(...pageIds);
    for (const id of pageIds) seen.add(id);
    if (!page.pageInfo.hasNextPage) {
      expect(pageIds.length).toBeLessThanOrEqual(first);
      return { pages, ids };
    }
    expect(pageIds).toHaveLength(first);
    await betweenPages?.(page);
    after = page.pageInfo.endCursor;
  }
  throw new Error(`the walk did not end within ${MAX_PAGES} pages`);
}

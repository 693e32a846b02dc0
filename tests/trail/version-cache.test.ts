import { MIN_CACHED_VERSIONS, VersionCache } from '../../src/audit/model/history/version-cache';
import { Replayed } from '../../src/audit/model/history/timeline';
import type { VersionEntry } from '../../src/audit/model/history/record-version';

/* The process's memory of long histories: kept from a length on, bounded, least recently read forgotten first. */

const FIELDS = { id: 'id', owner: 'ownerId', recorded: { snapshot: ['id', 'ownerId', 'title'], diffed: ['title'], sensitive: new Set<string>() } };
const history = (length: number): Replayed =>
  Replayed.of(
    Array.from({ length }, (_, n): VersionEntry => ({
      id: BigInt(n + 1),
      at: new Date(n),
      action: n === 0 ? 'create_thing' : 'update_thing',
      kind: n === 0 ? 'create' : 'update',
      userId: 'alice',
      source: 'API',
      databaseRole: null,
      changedFields: [],
      change: n === 0 ? { after: { id: '1', ownerId: 'alice', title: 't0' } } : { changes: { title: { from: `t${n - 1}`, to: `t${n}` } } },
      ownerIds: ['alice'],
    })),
    FIELDS,
  );

it('keeps only histories long enough to be worth it', () => {
  const cache = new VersionCache();
  cache.set('short', history(MIN_CACHED_VERSIONS - 1));
  cache.set('long', history(MIN_CACHED_VERSIONS));
  expect(cache.get('short')).toBeUndefined();
  expect(cache.get('long')?.versions).toHaveLength(MIN_CACHED_VERSIONS);
});

it('forgets the least recently read first when over its bound', () => {
  const cache = new VersionCache(2 * MIN_CACHED_VERSIONS);
  cache.set('a', history(MIN_CACHED_VERSIONS));
  cache.set('b', history(MIN_CACHED_VERSIONS));
  cache.get('a');
  cache.set('c', history(MIN_CACHED_VERSIONS));
  expect([cache.get('a') !== undefined, cache.get('b') !== undefined, cache.get('c') !== undefined]).toEqual([true, false, true]);
});

it('replaces a record’s history with its longer one', () => {
  const cache = new VersionCache(3 * MIN_CACHED_VERSIONS);
  cache.set('a', history(MIN_CACHED_VERSIONS));
  cache.set('a', history(2 * MIN_CACHED_VERSIONS));
  cache.set('b', history(MIN_CACHED_VERSIONS));
  expect(cache.get('a')?.versions).toHaveLength(2 * MIN_CACHED_VERSIONS);
  expect(cache.get('b')).toBeDefined();
});

import type { Replayed } from './timeline';

/** Histories shorter than this are read whole each time: cheap enough, and not worth the memory. */
export const MIN_CACHED_VERSIONS = 100;
/** How many versions one process keeps at most, over all records (a few tens of megabytes). */
const MAX_CACHED_VERSIONS = 200_000;

/**
 * The versions of long histories already read, replayed, per record, so that the next read of the
 * record fetches only the versions written since (`id` above the last one kept) instead of all of
 * them, and replays them again only if there are any.
 *
 * That is sound because the trail is append-only and, per record, a version's row id is above
 * every version committed before it: each change writes its row while it holds the record's lock,
 * taken after the previous change committed. Rows leave the trail only as whole months, oldest
 * first, so a record whose first kept version is still there has lost none: the caller checks it
 * on each read. Least recently read records are forgotten first.
 */
export class VersionCache {
  private readonly byRecord = new Map<string, Replayed>();
  private total = 0;

  constructor(private readonly maxVersions = MAX_CACHED_VERSIONS) {}

  /** The replayed versions kept for `key`, marking it as just read. */
  get(key: string): Replayed | undefined {
    const replayed = this.byRecord.get(key);
    if (replayed) this.put(key, replayed);
    return replayed;
  }

  /** Keeps `replayed` for `key` (a history at least {@link MIN_CACHED_VERSIONS} long), or forgets it. */
  set(key: string, replayed: Replayed): void {
    if (replayed.versions.length < MIN_CACHED_VERSIONS) this.forget(key);
    else this.put(key, replayed);
  }

  private put(key: string, replayed: Replayed): void {
    this.forget(key);
    this.byRecord.set(key, replayed);
    this.total += replayed.versions.length;
    for (const [oldest, kept] of this.byRecord) {
      if (this.total <= this.maxVersions) break;
      this.byRecord.delete(oldest);
      this.total -= kept.versions.length;
    }
  }

  private forget(key: string): void {
    const kept = this.byRecord.get(key);
    if (!kept) return;
    this.byRecord.delete(key);
    this.total -= kept.versions.length;
  }
}

const caches = new WeakMap<object, VersionCache>();

/** The cache of the records of the database behind `db`: one per connection pool, as record ids are per database. */
export function versionCacheOf(db: object): VersionCache {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new VersionCache()));
  return cache;
}

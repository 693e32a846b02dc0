import { signToken } from '#src/auth/token-signer';
import type { Database } from '#src/db/database';
import { runMigrations } from '#src/db/migrate';
import { ITEM_NODE } from '#src/items/item.type';

/** How many users own the seeded items; items are dealt to them in turn. */
export const SEEDED_USERS = 10;
/** How many items the benchmark database starts with. */
export const SEEDED_ITEMS = 1000;

/** Who the load acts as, and on what. */
export interface Fixture {
  /** An admin who owns none of the items, so every item they list is an audited admin read. */
  readonly adminToken: string;
  /** The owner of {@link ownItemIds}. */
  readonly ownerToken: string;
  /** Global ids, as clients send them. */
  readonly ownItemIds: readonly string[];
}

const OWNER = 'user1';

/**
 * The reason the benchmark's admin states for reading other users' items, as production requires
 * (`ADMIN_ACCESS_REASON=required`): P1 measures that admin read, with its reason on the row.
 */
export const BENCH_ACCESS_REASON = { 'access-reason': 'support BENCH-1' } as const;

/**
 * Migrates the empty database and inserts {@link SEEDED_ITEMS} items for {@link SEEDED_USERS}
 * users (`user1`…) in one statement, then signs the tokens the load uses.
 */
export async function seedDatabase(database: Database, jwtSecret: string): Promise<Fixture> {
  await runMigrations(database.db);
  await database.sql`
    insert into items (owner_id, title, description)
    select 'user' || (g % ${SEEDED_USERS} + 1), 'Item ' || g, repeat('Seeded for the benchmark. ', 4)
    from generate_series(0, ${SEEDED_ITEMS - 1}) as g`;
  await database.sql`analyze items`;
  const rows = await database.sql<{ id: string }[]>`select id::text as id from items where owner_id = ${OWNER} order by id`;
  return {
    adminToken: await signToken(jwtSecret, { sub: 'bench-admin', role: 'admin', expiresIn: '2h' }),
    ownerToken: await signToken(jwtSecret, { sub: OWNER, expiresIn: '2h' }),
    ownItemIds: rows.map((row) => ITEM_NODE.globalId(row.id)),
  };
}

/** How many records the audit rows of the request with `requestId` (its `X-Request-Id`) name. */
export async function recordsAuditedBy(database: Database, requestId: string): Promise<number> {
  const [row] = await database.sql<{ count: number }[]>`
    select coalesce(sum(greatest(cardinality(resource_ids), (resource_id is not null)::int)), 0)::int as count
    from audit_logs where request_id = ${requestId}`;
  return row!.count;
}

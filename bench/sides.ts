import { connectDatabase, type Database } from '#src/db/database';
import { backendCpuOf } from './database-cpu';
import { createBenchDatabase, DEFAULT_ADMIN_URL, type BenchDatabase } from './database';
import type { LoadTarget } from './load';
import { seedDatabase, type Fixture } from './seed';
import { startBenchServer, type BenchServer } from './servers';

/** What the two sides of a comparison differ in. */
export type Compared = 'audit' | 'sealer' | 'backstop';

/** One side: whether its server audits and seals, and whether its database has the audit backstop. */
interface SideSpec {
  readonly label: string;
  readonly audit: boolean;
  readonly seal: boolean;
  readonly backstop: boolean;
}

/**
 * Each comparison's sides. Production is the ON side of each. The audit-OFF side has no backstop
 * either — its triggers would record the changes it does not (they are the database's, not the
 * server's) — so the sides of every comparison stand on databases of their own, seeded alike.
 */
const SIDES: Record<Compared, { readonly on: SideSpec; readonly off: SideSpec }> = {
  audit: {
    on: { label: 'audit ON', audit: true, seal: true, backstop: true },
    off: { label: 'audit OFF', audit: false, seal: false, backstop: false },
  },
  sealer: {
    on: { label: 'sealer ON', audit: true, seal: true, backstop: true },
    off: { label: 'sealer OFF', audit: true, seal: false, backstop: true },
  },
  backstop: {
    on: { label: 'backstop ON', audit: true, seal: true, backstop: true },
    off: { label: 'backstop OFF', audit: true, seal: true, backstop: false },
  },
};

/** A side: its database (seeded), a direct connection to it, its server, and the load target they make. */
export interface Side {
  readonly database: BenchDatabase;
  readonly direct: Database;
  readonly server: BenchServer;
  readonly spec: SideSpec;
  /** The server, with the CPU of its own process and of the database backends serving it. */
  readonly target: LoadTarget;
}

export interface Pair {
  readonly on: Side;
  readonly off: Side;
  readonly description: string;
  /** Stops both servers; the databases stay, for what is measured on them directly. */
  stop(): Promise<void>;
  /**
   * Stops both servers, checkpoints and drops both databases: the next comparison then runs
   * without this one's writes still being vacuumed and checkpointed on the same two cores.
   */
  release(): Promise<void>;
}

/** What every side is started with. */
export interface PairContext {
  readonly jwtSecret: string;
  readonly signingKey: string;
  /** The seeding every side must reproduce (the same item ids, the same tokens). */
  readonly fixture: Fixture;
  /** Undone at the end, on failure and on Ctrl-C. */
  readonly cleanups: (() => Promise<void>)[];
}

/** Starts the two sides of `compared`, each on a fresh database seeded like the fixture. */
export async function startPair(compared: Compared, context: PairContext): Promise<Pair> {
  const on = await startSide(SIDES[compared].on, context);
  const off = await startSide(SIDES[compared].off, context);
  const stop = async () => {
    await on.server.stop();
    await off.server.stop();
  };
  return {
    on,
    off,
    description: `${on.spec.label} on ${on.database.description}; ${off.spec.label} on a second one seeded alike`,
    stop,
    async release() {
      await stop();
      // Written out now rather than by a checkpoint during the next comparison (needs a superuser
      // or pg_checkpoint, which the benchmark's admin role usually is; otherwise skipped).
      await on.direct.sql`checkpoint`.catch(() => undefined);
      for (const side of [on, off]) {
        await side.direct.close();
        await side.database.drop();
      }
    },
  };
}

async function startSide(spec: SideSpec, context: PairContext): Promise<Side> {
  const database = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_ADMIN_URL);
  context.cleanups.push(() => database.drop());
  // Two connections, as `npm run audit:verify` opens: it recounts the rollups beside its walk.
  const direct = connectDatabase(database.url, { maxConnections: 2 });
  context.cleanups.push(() => direct.close());
  const seeded = await seedDatabase(direct, context.jwtSecret);
  if (seeded.ownItemIds.join() !== context.fixture.ownItemIds.join()) throw new Error('the benchmark databases were not seeded alike');
  if (!spec.backstop) await dropBackstop(direct);
  const serving = await database.servingUrl();
  const server = await startBenchServer({
    audit: spec.audit,
    seal: spec.seal,
    backstop: spec.backstop,
    label: spec.label,
    signingKey: context.signingKey,
    databaseUrl: serving.url,
    checkServingRole: serving.checked,
    poolMax: database.poolMax,
    jwtSecret: context.jwtSecret,
  });
  context.cleanups.push(() => server.stop());
  const { name } = database;
  const target: LoadTarget = {
    label: server.label,
    url: server.url,
    cpuSeconds: () => server.cpuSeconds(),
    ...(name !== undefined && { databaseCpu: () => backendCpuOf(name) }),
  };
  return { database, direct, server, spec, target };
}

/**
 * Drops every audit backstop trigger, as only the tables' owner can (here the benchmark's admin
 * role): the side then measures the API without it. A server that audits refuses to start on such
 * a database but for the benchmark-only `backstop: false`.
 */
async function dropBackstop(direct: Database): Promise<void> {
  const triggers = await direct.sql<{ name: string; table: string }[]>`
    select t.tgname as name, t.tgrelid::regclass::text as table
    from pg_trigger t
    where not t.tgisinternal and t.tgname like '%\\_audit\\_backstop\\_%'`;
  if (triggers.length === 0) throw new Error('no audit backstop to drop: was migration 0019 applied?');
  for (const trigger of triggers) await direct.sql.unsafe(`drop trigger "${trigger.name}" on ${trigger.table}`);
}

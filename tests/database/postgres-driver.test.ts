import net from 'node:net';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from '../support/database';

/**
 * The fixes patches/postgres+3.4.9.patch makes to postgres.js (applied by `npm ci`), each pinned
 * down by the sequence of events that broke it, deterministically. The API-level tests
 * (db-faults, db-restart) show the effect under load; these show each cause.
 * Needs a real PostgreSQL (DATABASE_URL): backends are terminated here.
 */

const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('postgres.js after its connection is closed', () => {
  let database: TestDatabase;
  let admin: postgres.Sql;
  const pools: postgres.Sql[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    database = await createTestDatabase();
    admin = postgres(database.url, { max: 1, onnotice: () => {} });
    await admin`create table notes (body text not null)`;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((sql) => sql.end({ timeout: 1 })));
    await admin`truncate notes`;
    expect(unhandled).toEqual([]);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await admin?.end();
    await database?.drop();
  });

  function pool(options: postgres.Options<{}> = {}): postgres.Sql {
    const sql = postgres(database.url, { max: 1, onnotice: () => {}, ...options });
    pools.push(sql);
    return sql;
  }

  /** postgres.js's undocumented `socket` option: sockets the test can see and break. */
  function socketOption(onSocket: (socket: net.Socket) => void): postgres.Options<{}> {
    const socket = ({ host, port }: { host: string[]; port: number[] }) => {
      const created = net.connect(port[0]!, host[0]!);
      onSocket(created);
      return created;
    };
    return { socket } as postgres.Options<{}>;
  }

  async function terminate(pid: number): Promise<void> {
    await admin`select pg_terminate_backend(${pid})`;
  }

  async function backendPid(sql: postgres.Sql | postgres.TransactionSql): Promise<number> {
    const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    return row!.pid;
  }

  it("answers the next query, instead of failing it with the terminated backend's error", async () => {
    const sql = pool();
    const pid = await backendPid(sql);
    const sleeping = sql`select pg_sleep(30)`;
    const failed = sleeping.catch((error: { code?: string }) => error.code);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await terminate(pid);
    expect(await failed).toMatch(/^(57P01|CONNECTION_CLOSED|ECONNRESET)$/);

    await expect(sql`select 1 as one`).resolves.toEqual([{ one: 1 }]);
  });

  it('answers the query after one that failed midway through its rows with its own rows only (no holes)', async () => {
    const sql = pool();
    // Three rows arrive, then the fourth fails: no CommandComplete for that query.
    await expect(sql`select 1 / (4 - i) as quotient from generate_series(1, 10) as i`).rejects.toMatchObject({ code: '22012' });
    const next = await sql`select i from generate_series(1, 2) as i`;
    expect(next.length).toBe(2);
    expect([...next]).toEqual([{ i: 1 }, { i: 2 }]);
  });

  it('runs nothing of a transaction whose connection closed in the session the connection opens next', async () => {
    const sql = pool();
    let resumeFirst!: () => void;
    const firstMayResume = new Promise<void>((resolve) => (resumeFirst = resolve));
    let firstPid = 0;
    let firstResumed!: () => void;
    const firstDone = new Promise<void>((resolve) => (firstResumed = resolve));

    // The first transaction outlives its connection: it goes on once the next one is open.
    const first = sql.begin(async (tx) => {
      firstPid = await backendPid(tx);
      await firstMayResume;
      try {
        await tx`insert into notes values ('late write of the first transaction')`;
      } finally {
        firstResumed();
      }
    });
    const firstOutcome = first.then(
      () => 'committed',
      (error: { code?: string }) => error.code,
    );
    while (firstPid === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await terminate(firstPid);
    expect(await firstOutcome).toBe('CONNECTION_CLOSED');

    // The second transaction gets the same (reconnected) connection and is rolled back.
    const second = sql.begin(async (tx) => {
      await tx`insert into notes values ('second, rolled back')`;
      resumeFirst();
      await firstDone;
      await tx`select pg_sleep(0.2)`;
      throw new Error('roll the second transaction back');
    });
    await expect(second).rejects.toThrow('roll the second transaction back');

    expect(await admin`select body from notes`).toEqual([]);
    await expect(sql`select 1 as one`).resolves.toEqual([{ one: 1 }]);
  });

  it('reconnects a connection that closed with a write still queued', async () => {
    // Both sessions end at once, as when the server terminates them all. The first close makes the
    // application send a query (here from the pool's onclose; in the API, the error row of the
    // failed change); it goes to the other connection, whose socket closes before the write is flushed.
    const sockets: net.Socket[] = [];
    let queued: Promise<unknown> | undefined;
    const sql: postgres.Sql = pool({
      max: 2,
      connect_timeout: 2,
      ...socketOption((socket) => sockets.push(socket)),
      onclose: () => {
        queued ??= sql`select 'sent as the connections close'`.catch(() => 'failed');
      },
    });
    await Promise.all([sql`select pg_sleep(0.1)`, sql`select pg_sleep(0.1)`]);
    expect(sockets).toHaveLength(2);

    for (const socket of sockets) socket.destroy();
    while (!queued) await new Promise((resolve) => setTimeout(resolve, 10));
    await queued;

    // Both connections must reconnect: neither may wait for a flush that never comes (CONNECT_TIMEOUT).
    await expect(Promise.all([sql`select 1 as one`, sql`select 2 as two`])).resolves.toEqual([[{ one: 1 }], [{ two: 2 }]]);
  });

  it('rejects no promise unobserved when the connection breaks while it loads the array types', async () => {
    // After every (re)connect postgres.js loads the array types before the first query; a reset
    // then rejected that internal load with nobody listening, which ends a Node process.
    let broken = false;
    const sql = pool(
      socketOption((socket) => {
        const write = socket.write.bind(socket) as (chunk: Uint8Array | string, callback?: (error?: Error | null) => void) => boolean;
        socket.write = ((chunk: Uint8Array | string, callback?: (error?: Error | null) => void) => {
          if (!broken && Buffer.from(chunk).includes('typarray')) {
            broken = true;
            setImmediate(() => socket.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
          }
          return write(chunk, callback);
        }) as typeof socket.write;
      }),
    );

    await expect(sql`select 1 as one`).rejects.toMatchObject({ code: 'ECONNRESET' });
    await new Promise((resolve) => setTimeout(resolve, 100)); // unhandled rejections are reported by now
    expect(broken).toBe(true);
    await expect(sql`select 2 as two`).resolves.toEqual([{ two: 2 }]);
  });
});

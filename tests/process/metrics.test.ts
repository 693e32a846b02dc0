import { loadConfig } from '../../src/config/config';
import { CREATE_ITEM } from '../support/items';
import { labelSets, sample, scrape } from '../support/prometheus';
import { admin, alice, startTestServer, testServerEnv, type TestServer } from '../support/test-server';
import { rawIdOf } from '../support/global-ids';

/*
 * /metrics through real HTTP, as Prometheus scrapes it: what each metric says after real traffic
 * (values read before and after each request), and who may read them where.
 */

const TOKEN = 'metrics-token-of-at-least-32-bytes-0123456789';
const METRIC_NAMES = [
  'graphql_request_duration_seconds',
  'graphql_documents_refused_total',
  'audit_rows_written_total',
  'audit_flush_duration_seconds',
  'audit_flush_rows',
  'db_pool_queries_in_flight',
  'db_pool_transactions_open',
  'db_pool_max_connections',
  'audit_seal_lag_seconds',
  // Node's default metrics (prom-client), a few of them
  'process_cpu_user_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
  'nodejs_heap_size_used_bytes',
];

/** The metrics of `server` as its scraper sees them. */
async function metricsOf(server: TestServer, token?: string): Promise<string> {
  const { status, text } = await scrape(server.metricsUrl!, token);
  expect(status).toBe(200);
  return text;
}

/** How much each of `samples` (name and labels) grew while `action` ran. */
async function growth(server: TestServer, samples: Record<string, [string, Record<string, string>]>, action: () => Promise<unknown>) {
  const before = await metricsOf(server);
  await action();
  const after = await metricsOf(server);
  return Object.fromEntries(
    Object.entries(samples).map(([key, [name, labels]]) => [key, (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0)]),
  );
}

describe('in development, on the API port', () => {
  let server: TestServer;
  beforeAll(async () => {
    // A lock wait lasts as long as the test holds the lock (see the pool test).
    server = await startTestServer({ DATABASE_LOCK_TIMEOUT_MS: '0' });
  });
  afterAll(() => server?.stop());

  const createItem = async (title: string): Promise<string> => {
    const res = await server.graphql(CREATE_ITEM, { as: alice, variables: { input: { title } } });
    return res.body.data.createItem.id;
  };

  it('answers Prometheus text with every metric, unprotected, before any traffic', async () => {
    expect(server.metricsUrl).toBe(server.url);
    const { status, contentType, text } = await scrape(server.url);
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const name of METRIC_NAMES) expect(text).toContain(`# HELP ${name} `);
    for (const limit of ['maxTokens', 'maxRecursiveSelections', 'maxDepth', 'maxAliases', 'maxDirectives', 'maxCost']) {
      expect(sample(text, 'graphql_documents_refused_total', { limit })).toBe(0);
    }
    expect(sample(text, 'db_pool_max_connections')).toBe(server.database.embedded ? 1 : 10);
    expect(sample(text, 'db_pool_queries_in_flight')).toBe(0);
    expect(sample(text, 'db_pool_transactions_open')).toBe(0);
  });

  // A transaction of another session holds the sealing horizon back; the embedded database has one session.
  (process.env.DATABASE_URL ? it : it.skip)('reports the age of the oldest row no seal covers yet as the seal lag', async () => {
    const holder = await server.sql.reserve();
    try {
      await holder`begin`;
      await holder`select pg_current_xact_id()`;
      await createItem('written while sealing is held back');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(sample(await metricsOf(server), 'audit_seal_lag_seconds')).toBeGreaterThanOrEqual(1.5);
    } finally {
      await holder`rollback`;
      holder.release();
    }
  });

  it("counts an admin's audited read as an admin_view_item row, its group commit and its request", async () => {
    const id = await createItem('read by an admin');
    const grew = await growth(
      server,
      {
        adminReads: ['audit_rows_written_total', { action: 'admin_view_item', outcome: 'success' }],
        flushes: ['audit_flush_duration_seconds_count', { result: 'committed' }],
        flushedRows: ['audit_flush_rows_sum', {}],
        requests: ['graphql_request_duration_seconds_count', { operation: 'AdminReadsItem', outcome: 'success' }],
      },
      async () => {
        const res = await server.graphql('query AdminReadsItem($id: ID!) { item(id: $id) { id title } }', { as: admin, variables: { id } });
        expect(res.body).toEqual({ data: { item: { id, title: 'read by an admin' } } });
      },
    );
    expect(grew).toEqual({ adminReads: 1, flushes: 1, flushedRows: 1, requests: 1 });
  });

  it('counts a change and its row, committed in its transaction', async () => {
    const grew = await growth(
      server,
      {
        rows: ['audit_rows_written_total', { action: 'create_item', outcome: 'success' }],
        requests: ['graphql_request_duration_seconds_count', { operation: 'CreateItem', outcome: 'success' }],
      },
      () => server.graphql(`mutation CreateItem { createItem(input: { title: "counted" }) { id } }`, { as: alice }),
    );
    expect(grew).toEqual({ rows: 1, requests: 1 });
  });

  it('counts a refused document by the limit it exceeded, as a refused request of no known operation', async () => {
    const aliases = Array.from({ length: 31 }, (_, n) => `a${n}: me { id }`).join(' ');
    const grew = await growth(
      server,
      {
        refused: ['graphql_documents_refused_total', { limit: 'maxAliases' }],
        otherLimit: ['graphql_documents_refused_total', { limit: 'maxDepth' }],
        rows: ['audit_rows_written_total', { action: 'query_refused', outcome: 'denied' }],
        requests: ['graphql_request_duration_seconds_count', { operation: '(unknown)', outcome: 'refused' }],
      },
      async () => {
        const res = await server.graphql(`query Flood { ${aliases} }`, { as: alice });
        expect([res.status, res.body.errors?.[0]?.extensions?.code]).toEqual([400, 'QUERY_TOO_COMPLEX']);
      },
    );
    expect(grew).toEqual({ refused: 1, otherLimit: 0, rows: 1, requests: 1 });
  });

  it('tells each outcome apart: success, client error, refused, and labels anonymous operations', async () => {
    const count = (operation: string, outcome: string): [string, Record<string, string>] => [
      'graphql_request_duration_seconds_count',
      { operation, outcome },
    ];
    const grew = await growth(
      server,
      {
        anonymous: count('(anonymous)', 'success'),
        badInput: count('Rename', 'client_error'),
        notAllowed: count('Trail', 'refused'),
        badToken: count('(unknown)', 'refused'),
        malformed: count('(unknown)', 'client_error'),
      },
      async () => {
        expect((await server.graphql('{ me { id } }', { as: alice })).status).toBe(200);
        const rename = await server.graphql('mutation Rename { updateItem(id: "1", input: { title: "" }) { id } }', { as: alice });
        expect(rename.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        const trail = await server.graphql('query Trail { auditLogs { nodes { id } } }', { as: alice });
        expect(trail.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect((await server.graphql('{ me { id } }', { as: 'not-a-token' })).status).toBe(401);
        const malformed = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
        expect(malformed.status).toBe(400);
      },
    );
    expect(grew).toEqual({ anonymous: 1, badInput: 1, notAllowed: 1, badToken: 1, malformed: 1 });
  });

  it('does not count CORS preflights', async () => {
    const total = (text: string) =>
      labelSets(text, 'graphql_request_duration_seconds_count').reduce(
        (sum, labels) => sum + sample(text, 'graphql_request_duration_seconds_count', labels as Record<string, string>)!,
        0,
      );
    const before = total(await metricsOf(server));
    const preflight = await fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://dashboard.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBeLessThan(500);
    expect(total(await metricsOf(server))).toBe(before);
  });

  it('labels an operation name over 100 characters (other)', async () => {
    const long = `Q${'x'.repeat(100)}`;
    const grew = await growth(
      server,
      { other: ['graphql_request_duration_seconds_count', { operation: '(other)', outcome: 'success' }] },
      () => server.graphql(`query ${long} { me { id } }`, { as: alice }),
    );
    expect(grew).toEqual({ other: 1 });
    expect(labelSets(await metricsOf(server), 'graphql_request_duration_seconds_count')).not.toContainEqual(expect.objectContaining({ operation: long }));
  });

  // The lock is held from another connection: the embedded database serves one at a time.
  (process.env.DATABASE_URL ? it : it.skip)('shows a transaction holding a pool connection while it waits', async () => {
    const id = await createItem('locked');
    const lock = await server.sql.reserve();
    try {
      await lock`begin`;
      await lock`select 1 from items where id = ${rawIdOf(id)} for update`;
      const update = server.graphql(`mutation { updateItem(id: "${id}", input: { title: "after" }) { id } }`, { as: alice });
      let open = 0;
      for (let scrapes = 0; scrapes < 500 && open === 0; scrapes++) open = sample(await metricsOf(server), 'db_pool_transactions_open')!;
      expect(open).toBe(1);
      await lock`commit`;
      expect((await update).body).toEqual({ data: { updateItem: { id } } });
    } finally {
      lock.release();
    }
    expect(sample(await metricsOf(server), 'db_pool_transactions_open')).toBe(0);
  });

  it('has counted exactly the rows in the trail', async () => {
    const text = await metricsOf(server);
    const byKind = (a: { action?: string; outcome?: string }, b: { action?: string; outcome?: string }) =>
      `${a.action} ${a.outcome}`.localeCompare(`${b.action} ${b.outcome}`);
    const counted = labelSets(text, 'audit_rows_written_total')
      .map(({ action, outcome }) => ({ action, outcome, count: sample(text, 'audit_rows_written_total', { action: action!, outcome: outcome! }) }))
      .sort(byKind);
    const stored = await server.sql<{ action: string; outcome: string; count: number }[]>`
      select action, outcome, count(*)::int as count from audit_logs group by action, outcome`;
    expect(counted).toEqual(stored.map((row) => ({ ...row })).sort(byKind));
    expect(counted.length).toBeGreaterThan(3);
  });

  it('counts a failed group commit and its withheld answer as a server error, and no row', async () => {
    await server.sql.unsafe(`
      create function refuse_access_denied() returns trigger language plpgsql as $$
      begin
        if new.action = 'access_denied' then raise exception 'refused for this test'; end if;
        return new;
      end $$`);
    await server.sql`create trigger refuse_access_denied before insert on audit_logs for each row execute function refuse_access_denied()`;
    try {
      const grew = await growth(
        server,
        {
          failedFlushes: ['audit_flush_duration_seconds_count', { result: 'failed' }],
          rows: ['audit_rows_written_total', { action: 'access_denied', outcome: 'denied' }],
          requests: ['graphql_request_duration_seconds_count', { operation: 'Who', outcome: 'server_error' }],
        },
        async () => expect((await server.graphql('query Who { me { id } }')).status).toBe(503),
      );
      expect(grew).toEqual({ failedFlushes: 1, rows: 0, requests: 1 });
    } finally {
      await server.sql`drop trigger refuse_access_denied on audit_logs`;
    }
  });
});

describe('with METRICS_TOKEN, on the API port', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ METRICS_TOKEN: TOKEN, METRICS_MAX_OPERATION_NAMES: '2' });
  });
  afterAll(() => server?.stop());

  it('answers 401 without the token or with a wrong one, and nothing else', async () => {
    for (const token of [undefined, 'wrong', `${TOKEN.slice(0, -1)}x`, `${TOKEN}x`]) {
      const { status, text } = await scrape(server.url, token);
      expect(status).toBe(401);
      expect(text).toBe('Unauthorized\n');
    }
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: TOKEN } });
    expect([response.status, response.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="metrics"']);
  });

  it('answers with the token', async () => {
    const { status, text } = await scrape(server.url, TOKEN);
    expect(status).toBe(200);
    for (const name of METRIC_NAMES) expect(text).toContain(`# HELP ${name} `);
  });

  it('labels operation names up to METRICS_MAX_OPERATION_NAMES, later ones as (other)', async () => {
    for (const name of ['First', 'Second', 'Third', 'Fourth', 'First']) {
      expect((await server.graphql(`query ${name} { me { id } }`, { as: alice })).status).toBe(200);
    }
    const text = await metricsOf(server, TOKEN);
    expect(labelSets(text, 'graphql_request_duration_seconds_count')).toEqual([
      { operation: 'First', outcome: 'success' },
      { operation: 'Second', outcome: 'success' },
      { operation: '(other)', outcome: 'success' },
    ]);
    expect(sample(text, 'graphql_request_duration_seconds_count', { operation: 'First', outcome: 'success' })).toBe(2);
    expect(sample(text, 'graphql_request_duration_seconds_count', { operation: '(other)', outcome: 'success' })).toBe(2);
  });
});

describe('with METRICS_PORT, a listen address of its own', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ METRICS_PORT: '0', METRICS_TOKEN: TOKEN });
  });
  afterAll(() => server?.stop());

  it('serves /metrics there, not on the API port, and nothing else there', async () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.metricsUrl).not.toBe(server.url);
    expect((await scrape(server.url, TOKEN)).status).toBe(404);
    expect((await fetch(`${server.metricsUrl}/graphql`, { method: 'POST' })).status).toBe(404);

    expect((await server.graphql('query Hello { me { id } }', { as: alice })).status).toBe(200);
    const text = await metricsOf(server, TOKEN);
    expect(sample(text, 'graphql_request_duration_seconds_count', { operation: 'Hello', outcome: 'success' })).toBe(1);
  });

  it('asks for METRICS_TOKEN there too, when it is set', async () => {
    expect((await scrape(server.metricsUrl!)).status).toBe(401);
  });
});

describe('in production', () => {
  it('serves no /metrics without METRICS_PORT or METRICS_TOKEN', async () => {
    const server = await startTestServer({ NODE_ENV: 'production' });
    try {
      expect(server.metricsUrl).toBeUndefined();
      expect((await scrape(server.url)).status).toBe(404);
      expect((await scrape(server.url, TOKEN)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });

  it('serves /metrics with METRICS_TOKEN to its bearer only', async () => {
    const server = await startTestServer({ NODE_ENV: 'production', METRICS_TOKEN: TOKEN });
    try {
      expect((await scrape(server.url)).status).toBe(401);
      expect((await scrape(server.url, TOKEN)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('settings', () => {
  const env = (extra: Record<string, string>) => ({ ...testServerEnv({ url: 'postgres://x/y', embedded: false, drop: async () => {} }), ...extra });

  it.each([
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN must be at least 32 bytes long'],
    [{ METRICS_HOST: '0.0.0.0' }, 'METRICS_HOST needs METRICS_PORT'],
    [{ METRICS_PORT: '4000', PORT: '4000' }, 'METRICS_PORT must differ from PORT'],
    [{ METRICS_PORT: 'nine' }, 'METRICS_PORT must be an integer from 0 to 65535'],
    [{ METRICS_MAX_OPERATION_NAMES: '0' }, 'METRICS_MAX_OPERATION_NAMES must be an integer from 1 to 10000'],
  ])('refuses %j', (extra, message) => {
    expect(() => loadConfig(env(extra))).toThrow(message);
  });

  it('listens on 127.0.0.1 unless METRICS_HOST says otherwise', () => {
    expect(loadConfig(env({ METRICS_PORT: '9464' })).metrics?.listen).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(loadConfig(env({ METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5' })).metrics?.listen).toEqual({ port: 9464, host: '10.0.0.5' });
  });
});

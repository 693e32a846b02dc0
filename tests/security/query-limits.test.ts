import { getIntrospectionQuery } from 'graphql';
import type { TokenClaims } from '../../src/auth/token-signer';
import { ConfigError, loadConfig } from '../../src/config/config';
import { DEFAULT_QUERY_LIMITS } from '../../src/config/query-limits';
import { tracedRequest, type TracedResponse } from '../support/audit-rows';
import { expectRequestError } from '../support/errors';
import { admin, alice, startTestServer, type TestServer } from '../support/test-server';

const range = (count: number) => Array.from({ length: count }, (_, index) => index);

/** `{ items(first:100){ n0:nodes{...F} … } } fragment F on Item { d0:description … }`, `width` × `width`. */
function fragmentBomb(width: number): string {
  const spreads = range(width).map((n) => `n${n}:nodes{...F}`).join(' ');
  const fields = range(width).map((n) => `d${n}:description`).join(' ');
  return `{ items(first:100){ ${spreads} } } fragment F on Item { ${fields} }`;
}

const AUDIT_LOG_FIELDS = 'id timestamp userId userRole action resourceType resourceId outcome adminBypass details requestId operationName ip userAgent';

/** The README's trail queries as one dashboard refresh. */
const DASHBOARD = `query Dashboard($since: DateTimeISO!) {
  adminBypasses: auditLogs(filter: { adminBypass: true, from: $since }, first: 100) {
    totalCount
    nodes { timestamp userId action resourceId details ip }
    pageInfo { hasNextPage endCursor }
  }
  itemHistory: auditLogs(filter: { resourceType: "item", resourceId: "SXRlbTo0Mg" }) {
    nodes { timestamp userId userRole action outcome adminBypass details requestId }
  }
  denials: auditLogs(filter: { outcome: DENIED, from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z" }) {
    nodes { timestamp userId action resourceId details ip userAgent }
  }
  userChanges: auditLogs(filter: { userId: "alice", actions: ["create_item", "update_item", "delete_item"] }) {
    nodes { timestamp action resourceId details }
  }
  oneRequest: auditLogs(filter: { requestId: "3f1c" }) { nodes { action outcome resourceId } }
  me { userId role }
  items(first: 5) { nodes { id title updatedAt } totalCount }
}`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** Sends `query`; the request id the server gave it picks out the audit rows it left. */
const send = (query: string, as: TokenClaims | undefined = alice, variables?: Record<string, unknown>, target = server) =>
  tracedRequest(target, query, { as, variables });

/** A refusal: HTTP 400, one QUERY_TOO_COMPLEX error with the figures, no data, one denied row with them too. */
async function expectRefused(response: TracedResponse, limit: string, measured?: number) {
  const max = (DEFAULT_QUERY_LIMITS as unknown as Record<string, number>)[limit];
  expectRequestError(response, {
    status: 400,
    code: 'QUERY_TOO_COMPLEX',
    message: /^Query refused before execution: .*; the limit is \d+\.$/,
    extensions: { limit, max, measured: measured ?? expect.any(Number) },
  });
  const rows = await response.rows();
  expect(rows).toEqual([
    expect.objectContaining({
      action: 'query_refused',
      outcome: 'denied',
      resource_type: null,
      resource_id: null,
      details: { limit, max, measured: measured ?? expect.any(Number) },
    }),
  ]);
  expect(rows[0]!.details.measured).toBeGreaterThan(max);
  return rows[0]!;
}

describe('documents over a limit are refused before execution, with HTTP 400 and one denied row', () => {
  it('a 100 × 100 fragment bomb (3.2 KB, a 209 MB response before): maxRecursiveSelections', async () => {
    const bomb = fragmentBomb(100);
    expect(bomb.length).toBeLessThan(3300);
    const res = await send(bomb);
    // items, 100 nodes, 100 spreads and 100 × 100 description fields
    await expectRefused(res, 'maxRecursiveSelections', 1 + 100 + 100 + 100 * 100);
    expect(res.body.errors![0]!.message).toBe(
      'Query refused before execution: it makes 10201 selections once fragments are expanded; the limit is 1000.',
    );
  });

  it('a 200 × 200 fragment bomb (a 500 "Invalid string length" before): maxTokens', async () => {
    const res = await send(fragmentBomb(200));
    await expectRefused(res, 'maxTokens', DEFAULT_QUERY_LIMITS.maxTokens + 1);
    expect(res.body.errors![0]!.message).toBe(
      `Query refused before execution: it has more than ${DEFAULT_QUERY_LIMITS.maxTokens} tokens; the limit is ${DEFAULT_QUERY_LIMITS.maxTokens}.`,
    );
  });

  it('1,000 aliases of items(first: 100) (1,000 SQL queries before): refused, no query runs', async () => {
    const aliases = range(1000).map((n) => `a${n}: items(first: 100) { nodes { id title } }`).join(' ');
    const res = await send(`{ ${aliases} }`);
    await expectRefused(res, 'maxTokens');
  });

  it('20,000 chained fragments (a stack overflow and HTTP 500 before): maxTokens stops the parser first', async () => {
    const chain = range(20000).map((n) => `fragment F${n} on Query { ...F${n + 1} }`);
    const res = await send(`{ ...F0 } ${chain.join(' ')} fragment F20000 on Query { __typename }`);
    await expectRefused(res, 'maxTokens');
  });

  it('10,000 nested selection sets: maxTokens, before the parser recurses', async () => {
    const res = await send(`{ ${'me { '.repeat(10000)}id${' }'.repeat(10000)} }`);
    await expectRefused(res, 'maxTokens');
  });

  it('deep nesting of valid fields: maxDepth', async () => {
    const res = await send(`{ __type(name: "Item") { ${'ofType { '.repeat(12)}name${' }'.repeat(12)} } }`);
    // __type, 12 × ofType, name
    await expectRefused(res, 'maxDepth', 14);
  });

  it('31 aliases of a cheap field: maxAliases, counting a fragment once per spread', async () => {
    const res = await send(`{ ...A ...A me { userId } } fragment A on Query { ${range(16).map((n) => `a${n}: me { userId }`).join(' ')} }`);
    await expectRefused(res, 'maxAliases', 32);
  });

  it('21 directives: maxDirectives', async () => {
    const res = await send(`{ me { userId } ${range(21).map((n) => `t${n}: __typename @include(if: true)`).join(' ')} }`);
    await expectRefused(res, 'maxDirectives', 21);
  });

  it('four full pages of 200 audit entries: maxCost, which multiplies what a list selects by its first', async () => {
    const pages = range(4).map((n) => `p${n}: auditLogs(first: 200) { nodes { ${AUDIT_LOG_FIELDS} } }`).join(' ');
    const res = await send(`{ ${pages} }`, admin);
    // per page: auditLogs + 200 × (nodes + 14 fields)
    await expectRefused(res, 'maxCost', 4 * (1 + 200 * 15));
  });

  it('nodes(ids:) costs one object per id', async () => {
    const query = 'query Many($ids: [ID!]!) { nodes(ids: $ids) { id ... on AuditLog { details } } }';
    const res = await send(query, admin, { ids: range(5000).map(() => 'x') });
    // nodes + 5,000 × (id + details)
    await expectRefused(res, 'maxCost', 1 + 5000 * 2);
  });

  it('the cost reads first from variables', async () => {
    const query = 'query Page($first: Int) { items(first: $first) { nodes { id title } } }';
    const res = await send(query, alice, { first: 100000 });
    const row = await expectRefused(res, 'maxCost', 1 + 100000 * 3);
    expect(row.operation_name).toBe('Page');
    // An ordinary page of the same operation runs.
    const page = await send(query, alice, { first: 100 });
    expect(page.status).toBe(200);
    expect(page.body.errors).toBeUndefined();
  });

  it('never copies the document into the trail', async () => {
    const res = await send(`query Secretive { ${range(31).map((n) => `confidential${n}: me { userId }`).join(' ')} }`);
    const row = await expectRefused(res, 'maxAliases', 31);
    expect(JSON.stringify(row)).not.toContain('confidential');
  });

  it('refuses anonymous callers the same way', async () => {
    await expectRefused(await send(fragmentBomb(100), undefined), 'maxRecursiveSelections');
  });
});

describe('ordinary queries stay well within the limits', () => {
  it('a page of 200 audit entries with every field, as nodes and as edges, with its total', async () => {
    await send('mutation { createItem(input: { title: "audited" }) { id } }');
    const res = await send(
      `{ auditLogs(first: 200) { totalCount nodes { ${AUDIT_LOG_FIELDS} } edges { cursor node { ${AUDIT_LOG_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
      admin,
    );
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.auditLogs.nodes.length).toBeGreaterThan(0);
  });

  it("the README's dashboard queries, all in one request", async () => {
    const res = await send(DASHBOARD, admin, { since: '2026-01-01T00:00:00Z' });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });

  it('a full introspection query, every option on (as Sandbox and code generators send), in development', async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    });
    const res = await send(query, undefined);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(await res.rows()).toEqual([]);
  });

  it('an ordinary syntax error is not a refusal and writes no row', async () => {
    const res = await send('{ me { userId ');
    expectRequestError(res, { status: 400, code: 'GRAPHQL_PARSE_FAILED', inOperation: true });
    expect(await res.rows()).toEqual([]);
  });
});

describe('configuration', () => {
  it('each limit is set from its environment variable', () => {
    expect(loadConfig({}).queryLimits).toEqual(DEFAULT_QUERY_LIMITS);
    const config = loadConfig({
      GRAPHQL_MAX_TOKENS: '500',
      GRAPHQL_MAX_RECURSIVE_SELECTIONS: '400',
      GRAPHQL_MAX_DEPTH: '6',
      GRAPHQL_MAX_ALIASES: '2',
      GRAPHQL_MAX_DIRECTIVES: '3',
      GRAPHQL_MAX_COST: '5000',
    });
    expect(config.queryLimits).toEqual({
      maxTokens: 500,
      maxRecursiveSelections: 400,
      maxDepth: 6,
      maxAliases: 2,
      maxDirectives: 3,
      maxCost: 5000,
    });
  });

  it.each(['0', '-1', 'lots', '1.5'])('refuses to start with GRAPHQL_MAX_COST=%s', (value) => {
    expect(() => loadConfig({ GRAPHQL_MAX_COST: value })).toThrow(ConfigError);
  });

  it('a server started with GRAPHQL_MAX_ALIASES=2 refuses a third alias', async () => {
    const strict = await startTestServer({ GRAPHQL_MAX_ALIASES: '2' });
    try {
      expect((await send('{ a: me { userId } b: me { userId } }', alice, undefined, strict)).status).toBe(200);
      const res = await send('{ a: me { userId } b: me { userId } c: me { userId } }', alice, undefined, strict);
      expectRequestError(res, { status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: 'maxAliases', max: 2, measured: 3 } });
      expect((await res.rows()).map((row) => row.details)).toEqual([{ limit: 'maxAliases', max: 2, measured: 3 }]);
    } finally {
      await strict.stop();
    }
  });
});

describe('field suggestions', () => {
  const TYPO = '{ items { nodes { titel } } }';
  const ENUM_TYPO = 'query Denied($filter: AuditLogFilter) { auditLogs(filter: $filter) { totalCount } }';

  it('are shown in development', async () => {
    expectRequestError(await send(TYPO), {
      status: 400,
      code: 'GRAPHQL_VALIDATION_FAILED',
      message: 'Cannot query field "titel" on type "Item". Did you mean "title"?',
      inOperation: true,
    });
    expectRequestError(await send(ENUM_TYPO, admin, { filter: { outcome: 'DENIE' } }), {
      status: 400,
      code: 'BAD_USER_INPUT',
      field: 'filter.outcome',
      message: /Did you mean the enum value "DENIED"\?$/,
      inOperation: true,
    });
  });

  describe('in production', () => {
    let production: TestServer;
    beforeAll(async () => {
      production = await startTestServer({ NODE_ENV: 'production' });
    });
    afterAll(() => production.stop());

    it('are removed from validation errors', async () => {
      expectRequestError(await send(TYPO, alice, undefined, production), {
        status: 400,
        code: 'GRAPHQL_VALIDATION_FAILED',
        message: 'Cannot query field "titel" on type "Item".',
        inOperation: true,
      });
    });

    it('are removed from variable errors, enum values and input fields alike', async () => {
      expectRequestError(await send(ENUM_TYPO, admin, { filter: { outcome: 'DENIE' } }, production), {
        status: 400,
        code: 'BAD_USER_INPUT',
        field: 'filter.outcome',
        message: 'Variable "$filter" got invalid value "DENIE" at "filter.outcome"; Value "DENIE" does not exist in "AuditOutcome" enum.',
        inOperation: true,
      });
      expectRequestError(await send(ENUM_TYPO, admin, { filter: { outcom: 'DENIED' } }, production), {
        status: 400,
        code: 'BAD_USER_INPUT',
        field: 'filter',
        message: 'Variable "$filter" got invalid value { outcom: "DENIED" }; Field "outcom" is not defined by type "AuditLogFilter".',
        inOperation: true,
      });
    });

    it('leave the query limits in force', async () => {
      await expectRefused(await send(fragmentBomb(100), alice, undefined, production), 'maxRecursiveSelections');
    });
  });
});

describe('when the refusal cannot be recorded', () => {
  it('answers 503 and nothing else', async () => {
    await server.sql.unsafe(`
      create function fail_refusal_insert() returns trigger language plpgsql as $$
      begin
        if new.action = 'query_refused' then raise exception 'injected failure'; end if;
        return new;
      end $$`);
    await server.sql.unsafe('create trigger fail_refusal_insert before insert on audit_logs for each row execute function fail_refusal_insert()');

    const res = await send(fragmentBomb(100));

    expectRequestError(res, { status: 503, code: 'INTERNAL_SERVER_ERROR' });
    expect(await res.rows()).toEqual([]);
  });
});

import path from 'node:path';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { allowBackdatedRows, auditRowsOfRequest } from '../support/audit-rows';
import { ROOT, run } from '../support/node-process';
import { admin, alice, startTestServer, type TestServer } from '../support/test-server';

/*
 * GET /audit/export and npm run audit:export: a window of the trail, every column, in NDJSON, CSV
 * or OCSF, recorded before the first row leaves, streamed from one snapshot.
 */
let server: TestServer;
let adminToken: string;
const itOnPostgres = process.env.DATABASE_URL ? it : it.skip;
const STATEMENT_TIMEOUT_MS = 500;

const FROM = '2026-03-01T00:00:00Z';
const TO = '2026-03-02T00:00:00Z';
const ROWS = 2500;
/**
 * Rows of April 2026, a month of bulk: ~30 MB exported, far more than the sockets between the
 * server and this process buffer, so an export of it is still streaming when its reader pauses
 * or goes away. Wide rows (a padded `details`) rather than more of them: seeding and exporting
 * cost by the row.
 */
const BULK = 25_000;
const BULK_PADDING = 'x'.repeat(900);
/** Texts a CSV writer must quote, and one a spreadsheet would run as a formula. */
const AWKWARD = ['comma, "quotes"\nand a newline', '=HYPERLINK("http://evil")', 'ünïcödé ✓'];

beforeAll(async () => {
  // A short statement timeout, which a slowly read export outlasts. No seals are exported or
  // checked here: a sealer hashing the 100,000 rows of bulk would only slow the file down.
  server = await startTestServer({ DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS), AUDIT_SEAL_INTERVAL_MS: '3600000' });
  adminToken = await server.token(admin);
  await allowBackdatedRows(server.sql, '2026-02-01');
  await server.sql`
    insert into audit_logs (occurred_at, user_id, user_role, action, resource_type, resource_id, resource_ids, owner_ids,
                            outcome, admin_bypass, details, request_id, operation_name, ip, user_agent)
    select timestamptz '2026-03-01 00:00:00+00' + g * interval '30 seconds' + interval '123457 microseconds',
           case when g % 7 = 0 then null else 'user' || (g % 5) end,
           case when g % 11 = 0 then 'ADMIN' else 'USER' end,
           (array['update_item', 'admin_view_item', 'create_item', 'access_denied'])[g % 4 + 1],
           'item',
           case when g % 4 = 1 then null else (g % 50)::text end,
           case when g % 4 = 1 then array[(g % 50)::text, ((g + 1) % 50)::text] else '{}' end,
           array['user' || (g % 3)],
           case when g % 4 = 3 then 'denied' else 'success' end,
           g % 4 = 1,
           jsonb_build_object('note', (${AWKWARD}::text[])[g % 3 + 1], 'n', g),
           'req-' || g, (${AWKWARD}::text[])[g % 3 + 1], '10.0.0.' || (g % 250), 'agent/' || g
    from generate_series(0, ${ROWS - 1}) g`;
  // A month of bulk, so that an export of it is still streaming when its reader goes away.
  await server.sql`
    insert into audit_logs (occurred_at, action, outcome, details)
    select timestamptz '2026-04-01 00:00:00+00' + g * interval '80 seconds', 'update_item', 'success', jsonb_build_object('n', g, 'padding', ${BULK_PADDING}::text)
    from generate_series(1, ${BULK}) g`;
  // Rows on both sides of the window, which no export of it may contain.
  await server.sql`
    insert into audit_logs (occurred_at, action, outcome)
    values (timestamptz '2026-02-28 23:59:59.999999+00', 'update_item', 'success'),
           (timestamptz '2026-03-02 00:00:00+00', 'update_item', 'success')`;
}, 60_000);
afterAll(() => server?.stop());

/** The window's rows straight from the table, as an export must give them. */
async function expectedRows() {
  return server.sql`
    select id::text as "id", to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "occurredAt",
           user_id as "userId", user_role as "userRole", action, resource_type as "resourceType", resource_id as "resourceId",
           resource_ids as "resourceIds", owner_ids as "ownerIds", outcome, admin_bypass as "adminBypass", details,
           request_id as "requestId", operation_name as "operationName", ip, user_agent as "userAgent",
           access_reason as "accessReason", access_reference as "accessReference", break_glass as "breakGlass"
    from audit_logs where occurred_at >= ${FROM} and occurred_at < ${TO} order by occurred_at, id`;
}

const exportUrl = (query: Record<string, string>) => `${server.url}/audit/export?${new URLSearchParams(query)}`;
const get = (query: Record<string, string>, token: string | null = adminToken, init: RequestInit = {}) =>
  fetch(exportUrl(query), { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'user-agent': 'export-test/1' } });

/** Minimal RFC 4180 reader, written apart from the exporter. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') record.push(cell), (cell = '');
    else if (char === '\r' && text[i + 1] === '\n') record.push(cell), records.push(record), (record = []), (cell = ''), i++;
    else cell += char;
  }
  return records;
}

describe('GET /audit/export', () => {
  it('streams every row of the window as NDJSON, oldest first, every column, and records the export first', async () => {
    const response = await get({ from: FROM, to: TO, format: 'ndjson' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="audit-logs_2026-03-01T00-00-00-000Z_2026-03-02T00-00-00-000Z.ndjson"',
    );
    expect(response.headers.get('x-audit-rows')).toBe(String(ROWS));
    const lines = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([...(await expectedRows())]);
    expect(lines[0].occurredAt).toBe('2026-03-01T00:00:00.123457Z');

    const rows = await auditRowsOfRequest(server.sql, response.headers.get('x-request-id')!);
    expect(rows).toEqual([
      expect.objectContaining({
        user_id: 'root',
        action: 'export_audit_logs',
        resource_type: 'audit_log',
        outcome: 'success',
        admin_bypass: true,
        user_agent: 'export-test/1',
        details: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z', format: 'ndjson', rows: ROWS, fields: ['GET /audit/export'], count: 1 },
      }),
    ]);
  });

  it('writes CSV with a header, quoting what needs it and defusing spreadsheet formulas', async () => {
    const response = await get({ from: FROM, to: TO, format: 'csv' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header, ...records] = parseCsv(await response.text());
    expect(header).toEqual(['id', 'occurredAt', 'userId', 'userRole', 'action', 'resourceType', 'resourceId', 'resourceIds', 'ownerIds', 'outcome', 'adminBypass', 'details', 'requestId', 'operationName', 'ip', 'userAgent', 'accessReason', 'accessReference', 'breakGlass']);
    const expected = await expectedRows();
    expect(records).toHaveLength(expected.length);
    for (const [index, record] of records.entries()) {
      const row = expected[index]!;
      const text = (value: unknown) => (value === null ? '' : typeof value === 'string' ? (/^[=+\-@]/.test(value) ? `'${value}` : value) : JSON.stringify(value));
      expect(record).toEqual(header!.map((column) => text(row[column])));
    }
    expect(records.some((record) => record[13] === `'=HYPERLINK("http://evil")`)).toBe(true);
  });

  it('maps rows to OCSF API Activity events', async () => {
    const response = await get({ from: FROM, to: TO, format: 'ocsf' });
    expect(response.status).toBe(200);
    const events = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line));
    const expected = await expectedRows();
    expect(events).toHaveLength(expected.length);
    const byId = new Map(events.map((event) => [event.metadata.uid, event]));
    const update = expected.find((row) => row.action === 'update_item' && row.userId !== null)!;
    expect(byId.get(update.id)).toMatchObject({
      class_uid: 6003,
      category_uid: 6,
      activity_id: 3,
      type_uid: 600303,
      time: Date.parse(update.occurredAt),
      status_id: 1,
      actor: { user: { uid: update.userId } },
      api: { operation: 'update_item', request: { uid: update.requestId } },
      resources: [{ uid: update.resourceId, type: 'item', owner: { uid: update.ownerIds[0] } }],
      src_endpoint: { ip: update.ip },
      http_request: { user_agent: update.userAgent },
      metadata: { uid: update.id },
      unmapped: { occurred_at: update.occurredAt, details: update.details, admin_bypass: false },
    });
    const listing = expected.find((row) => row.action === 'admin_view_item')!;
    expect(byId.get(listing.id)).toMatchObject({ activity_id: 2, resources: listing.resourceIds.map((uid: string) => ({ uid, type: 'item' })) });
    const denied = expected.find((row) => row.outcome === 'denied')!;
    expect(byId.get(denied.id)).toMatchObject({ activity_id: 99, status_id: 2, status: 'Failure', status_detail: 'denied' });
  });

  it.each([
    ['no token', undefined, 401, 'UNAUTHENTICATED', 'unauthenticated'],
    ['a user token', 'user', 403, 'FORBIDDEN', 'not_admin'],
  ])('refuses %s, recording the attempt', async (_who, who, status, code, reason) => {
    const response = await get({ from: FROM, to: TO }, who === 'user' ? await server.token(alice) : null);
    expect(response.status).toBe(status);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe(code);
    const rows = await auditRowsOfRequest(server.sql, response.headers.get('x-request-id')!);
    expect(rows).toEqual([expect.objectContaining({ action: 'export_audit_logs', outcome: 'denied', details: expect.objectContaining({ reason }) })]);
  });

  it('refuses an invalid token as a failed logon', async () => {
    const response = await get({ from: FROM, to: TO }, 'not-a-token');
    expect(response.status).toBe(401);
    const rows = await auditRowsOfRequest(server.sql, response.headers.get('x-request-id')!);
    expect(rows).toEqual([expect.objectContaining({ action: 'authenticate', outcome: 'denied', details: { reason: 'malformed' } })]);
  });

  it.each([
    [{ to: TO }, 'from'],
    [{ from: 'yesterday', to: TO }, 'from'],
    [{ from: FROM, to: '2026-03-01T00:00:00' }, 'to'],
    [{ from: TO, to: FROM }, 'to'],
    [{ from: FROM, to: TO, format: 'xml' }, 'format'],
  ])('refuses %j with BAD_USER_INPUT naming %s, and records it', async (query, field) => {
    const response = await get(query as Record<string, string>);
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(body.errors[0].message).toMatch(new RegExp(`^${field}: `));
    const rows = await auditRowsOfRequest(server.sql, response.headers.get('x-request-id')!);
    // Refused as a bad argument of any door is: by its name, never its value.
    expect(rows).toEqual([expect.objectContaining({ action: 'invalid_argument', outcome: 'denied', details: { argument: field, fields: ['GET /audit/export'], count: 1 } })]);
  });

  it('sends nothing when the export cannot be recorded (503)', async () => {
    await server.sql.unsafe(`
      create function refuse_export_rows() returns trigger language plpgsql as $$
      begin raise exception 'refused for the test'; end $$;
      create trigger refuse_export_rows before insert on audit_logs for each row
      when (new.action = 'export_audit_logs') execute function refuse_export_rows();`);
    try {
      const response = await get({ from: FROM, to: TO });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        errors: [{ message: 'The audit trail could not be written, so nothing was exported. Try again later.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
    } finally {
      await server.sql.unsafe('drop trigger refuse_export_rows on audit_logs; drop function refuse_export_rows()');
    }
  });

  itOnPostgres('completes an export read more slowly than the statement timeout allows one statement', async () => {
    const response = await get({ from: '2026-04-01', to: '2026-05-01' });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value!;
    await new Promise((resolve) => setTimeout(resolve, STATEMENT_TIMEOUT_MS * 1.5));
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    // Every row of the month once, in order, straight from the table (rather than a second export,
    // which took as long as this one): an export its statement timeout cut would end early.
    const ids = text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
    const expected = (
      await server.sql<{ id: string }[]>`
        select id::text from audit_logs where occurred_at >= '2026-04-01' and occurred_at < '2026-05-01' order by occurred_at, id`
    ).map((row) => row.id);
    expect(ids).toHaveLength(BULK);
    expect(ids.findIndex((id, index) => id !== expected[index])).toBe(-1);
  });

  // Not on the embedded database: its one backend serves every connection in turn, so this test's
  // own queries would land inside the export's open cursor.
  itOnPostgres('records an export the reader abandoned as an error with the rows sent', async () => {
    const controller = new AbortController();
    const response = await get({ from: '2026-04-01', to: '2026-05-01' }, adminToken, { signal: controller.signal });
    expect(response.headers.get('x-audit-rows')).toBe(String(BULK));
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    const requestId = response.headers.get('x-request-id')!;
    let rows = await auditRowsOfRequest(server.sql, requestId);
    for (let tries = 0; tries < 100 && rows.length < 2; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await auditRowsOfRequest(server.sql, requestId);
    }
    expect(rows).toEqual([
      expect.objectContaining({ action: 'export_audit_logs', outcome: 'success', details: expect.objectContaining({ rows: BULK }) }),
      expect.objectContaining({
        action: 'export_audit_logs',
        outcome: 'error',
        details: expect.objectContaining({ rowsSent: expect.any(Number), error: 'ReaderGone', code: 'CLIENT_CLOSED' }),
      }),
    ]);
    expect(rows[1]!.details.rowsSent).toBeLessThan(BULK);
  });
});

describe('npm run audit:export', () => {
  const CLI = path.join(ROOT, 'dist/cli/audit-export.js');
  const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

  describeOnPostgres('from the command line', () => {
    it('writes the same NDJSON to a file and records the export', async () => {
      const output = path.join(os.tmpdir(), `export-${process.pid}.ndjson`);
      try {
        const result = await run(CLI, ['--from', FROM, '--to', TO, '--output', output], { DATABASE_URL: server.database.url });
        expect(result).toMatchObject({ code: 0, stdout: '', stderr: `exported ${ROWS} row(s) from 2026-03-01T00:00:00.000Z to 2026-03-02T00:00:00.000Z as ndjson\n` });
        const lines = (await readFile(output, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
        expect(lines).toEqual([...(await expectedRows())]);
      } finally {
        await rm(output, { force: true });
      }
      const [row] = await server.sql`select user_id, details from audit_logs where operation_name = 'audit:export'`;
      expect(row).toEqual({ user_id: null, details: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z', format: 'ndjson', rows: ROWS, fields: ['npm run audit:export'], count: 1 } });
    });

    it('refuses a bad window naming the option', async () => {
      const result = await run(CLI, ['--from', TO, '--to', FROM], { DATABASE_URL: server.database.url });
      expect(result).toMatchObject({ code: 1, stdout: '', stderr: '--to: must be later than from\n' });
    });
  });
});

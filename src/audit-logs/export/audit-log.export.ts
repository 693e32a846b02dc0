import type postgres from 'postgres';
import type { RequestAudit } from '../../audit';
import type { AuditActionRegistry } from '../../audit/operations';
import { EXPORT_AUDIT_LOGS } from '../query/audit-log.actions';
import type { ExportedRow } from './audit-log.exported-row';
import type { ExportFormat, ExportWindow } from './audit-log.export-window';
import { ocsfApiActivity } from './audit-log.ocsf';

const COLUMNS: readonly (keyof ExportedRow)[] = [
  'id', 'occurredAt', 'userId', 'userRole', 'action', 'resourceType', 'resourceId', 'resourceIds', 'ownerIds',
  'outcome', 'adminBypass', 'details', 'requestId', 'operationName', 'ip', 'userAgent', 'accessReason', 'accessReference', 'breakGlass',
];


/** How one format is written: its media type, an optional first line, and one line per row. */
export interface ExportEncoding {
  readonly contentType: string;
  readonly extension: string;
  readonly header?: string;
  /** A row's line; `actions` are the server's (OCSF names each action's activity). */
  line(row: ExportedRow, actions: AuditActionRegistry): string;
}

export const EXPORT_ENCODINGS: Readonly<Record<ExportFormat, ExportEncoding>> = {
  ndjson: { contentType: 'application/x-ndjson', extension: 'ndjson', line: (row) => `${JSON.stringify(row)}\n` },
  csv: {
    contentType: 'text/csv; charset=utf-8',
    extension: 'csv',
    header: `${COLUMNS.join(',')}\r\n`,
    line: (row) => `${COLUMNS.map((column) => csvCell(row[column])).join(',')}\r\n`,
  },
  ocsf: { contentType: 'application/x-ndjson', extension: 'ocsf.ndjson', line: (row, actions) => `${JSON.stringify(ocsfApiActivity(row, actions))}\n` },
};

/**
 * What makes a spreadsheet run a cell as a formula (OWASP "CSV injection"): `=`, `+`, `-`, `@`, tab
 * or carriage return first, or their full-width forms (`＝＋－＠`, which some spreadsheets read as
 * the ASCII ones), also after leading whitespace, which some spreadsheets trim first.
 */
const FORMULA_START = /^\s*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * What a cell must be quoted for: the comma, and the other separators a spreadsheet may split on
 * (`;` in locales with a decimal comma, tab when pasted or imported), quotes and line breaks. Quoted,
 * a separator stays inside its field, so what follows it cannot start a cell of its own (OWASP:
 * `Mozilla;=1+2;x`).
 */
const NEEDS_QUOTES = /[,;\t"\r\n]/;

/**
 * One RFC 4180 cell. Lists and `details` are JSON. A text that a spreadsheet would run as a formula
 * gets a leading `'` ({@link FORMULA_START}), and one holding a separator is quoted
 * ({@link NEEDS_QUOTES}), since user agents, operation names and details are the client's words.
 */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** How many rows one fetch of the cursor holds: memory stays flat whatever the window holds. */
const BATCH_ROWS = 2000;

/** The longest an export may take to read, however slow its reader: 30 minutes. */
export const EXPORT_STATEMENT_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * Streams the rows of `window`, oldest first: `begin(count)` learns how many there are before the
 * first is read (the export's audit row records it, written by another connection of the pool),
 * then `write` gets them in batches and may wait (backpressure). The count and the rows come from
 * one read-only REPEATABLE READ snapshot, so rows committed meanwhile neither appear nor shift the
 * count. A pool of one connection (the embedded database) cannot write while the snapshot holds it:
 * there the count is taken just before the snapshot, and a row committed in between with a time
 * inside the window would be exported without being counted.
 */
export async function streamAuditLogs(
  sql: postgres.Sql,
  window: ExportWindow,
  begin: (rows: number) => Promise<void>,
  write: (rows: readonly ExportedRow[]) => Promise<void>,
): Promise<void> {
  const count = async (executor: postgres.Sql | postgres.TransactionSql) => {
    const [counted] = await executor<{ rows: number }[]>`
      select count(*)::int as rows from audit_logs where occurred_at >= ${window.from.toISOString()}::timestamptz and occurred_at < ${window.to.toISOString()}::timestamptz`;
    return counted!.rows;
  };
  const oneConnection = sql.options.max <= 1;
  if (oneConnection) await begin(await count(sql));
  await sql.begin('isolation level repeatable read read only', async (tx) => {
    // A cursor is one statement from its first fetch to its last, so the pool's statement_timeout
    // (10 s by default) would cut every export that takes longer than that to read.
    await tx`select set_config('statement_timeout', ${String(EXPORT_STATEMENT_TIMEOUT_MS)}, true)`;
    if (!oneConnection) await begin(await count(tx));
    const cursor = tx<ExportedRow[]>`
      select id::text as "id",
             to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "occurredAt",
             user_id as "userId", user_role as "userRole", action, resource_type as "resourceType",
             resource_id as "resourceId", resource_ids as "resourceIds", owner_ids as "ownerIds", outcome,
             admin_bypass as "adminBypass", details, request_id as "requestId", operation_name as "operationName",
             ip, user_agent as "userAgent", access_reason as "accessReason", access_reference as "accessReference", break_glass as "breakGlass"
      from audit_logs where occurred_at >= ${window.from.toISOString()}::timestamptz and occurred_at < ${window.to.toISOString()}::timestamptz
      order by occurred_at, id`.cursor(BATCH_ROWS);
    for await (const rows of cursor) await write(rows);
  });
}

/** Where an export goes: an HTTP response, a file, stdout. */
export interface ExportOutput {
  /** Called once the export is recorded, before the first byte: e.g. the response's headers. */
  start(rows: number, encoding: ExportEncoding): void;
  /** Resolves once `chunk` may be followed by more (backpressure); rejects if the reader went away. */
  write(chunk: string): Promise<void>;
}

/** The export could not be recorded in the trail, so nothing was exported. */
export class ExportNotRecorded extends Error {
  override readonly name = 'ExportNotRecorded';
}

const exportEvent = { action: EXPORT_AUDIT_LOGS } as const;

/**
 * Exports `window` for the request behind `audit` into `output`. The `export_audit_logs` row (the
 * window, the format and how many rows the export holds) is committed before the first row leaves;
 * if it cannot be, {@link ExportNotRecorded} is thrown and nothing was written. An export that fails
 * otherwise (the reader went away, the database failed) leaves an `error` row with `rowsSent`.
 * `via` names the entry point in the row's `details.fields` (e.g. `GET /audit/export`).
 */
export async function runAuditExport(sql: postgres.Sql, audit: RequestAudit, window: ExportWindow, output: ExportOutput, via: string): Promise<void> {
  const encoding = EXPORT_ENCODINGS[window.format];
  await recordedExport(audit, { from: window.from, to: window.to, format: window.format }, via, (record, sent) =>
    streamAuditLogs(
      sql,
      window,
      async (rows) => {
        await record({ rows });
        output.start(rows, encoding);
        if (encoding.header) await output.write(encoding.header);
      },
      async (rows) => {
        await output.write(rows.map((row) => encoding.line(row, audit.actions)).join(''));
        sent(rows.length);
      },
    ),
  );
}

/**
 * Runs `exportRows` as an export recorded in the trail, whatever its format: it calls `record` with
 * what the export holds (at least `rows`) once it knows, before writing anything, which commits the
 * `export_audit_logs` row (`from`, `to`, `format` and those counts) or throws
 * {@link ExportNotRecorded}; and `sent` as rows go out. An export that fails otherwise leaves an
 * `error` row with `rowsSent`.
 */
export async function recordedExport(
  audit: RequestAudit,
  what: { readonly from: Date; readonly to: Date; readonly format: string },
  via: string,
  exportRows: (record: (counts: { readonly rows: number } & Record<string, unknown>) => Promise<void>, sent: (rows: number) => void) => Promise<void>,
): Promise<void> {
  const details = { from: what.from.toISOString(), to: what.to.toISOString(), format: what.format };
  let rowsSent = 0;
  try {
    await exportRows(
      async (counts) => {
        // The rows are other users' activity, seen outside any owner scoping.
        audit.noteRead({ ...exportEvent, adminBypass: true, details: { ...details, ...counts } }, via);
        try {
          await audit.flush();
        } catch (error) {
          throw new ExportNotRecorded('the export could not be recorded in the audit trail', { cause: error });
        }
      },
      (rows) => (rowsSent += rows),
    );
  } catch (error) {
    // Unless the trail itself failed, a failed export is recorded, with how far it got.
    if (!(error instanceof ExportNotRecorded)) {
      audit.failed({ ...exportEvent, adminBypass: true, details: { ...details, rowsSent } }, error);
      await audit.flush().catch((flushError: unknown) => {
        throw new AggregateError([error, flushError], 'export cut short, and its error row could not be written');
      });
    }
    throw error;
  }
}

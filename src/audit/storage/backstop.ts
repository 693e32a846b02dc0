import { getTableColumns, getTableName } from 'drizzle-orm';
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type { AuditedResource } from '../model/audited-resource';

/**
 * The database backstop of an audited resource: triggers on its table that record, in the
 * changing transaction, every INSERT, UPDATE, DELETE and TRUNCATE the API did not record itself —
 * `psql`, migrations, backfills, other services. The shared SQL functions are the migrations'
 * (0019, 0025, 0027); a resource's own mark and claim check are generated here, and its triggers
 * pass its declaration, so the snapshots and diffs are those the API writes (docs/audit-trail.md,
 * Changes made outside the API).
 */

/** How a column's value is kept in a snapshot, as the API keeps it (`record-snapshot.ts`). */
type ValueForm = 'json' | 'text' | 'date';

/** One column as the backstop's SQL reads it. */
interface BackstopColumn {
  readonly column: string;
  /** Its key in snapshots and diffs: the Drizzle field, as in the API's rows. */
  readonly field: string;
  readonly as: ValueForm;
  readonly sensitive: boolean;
  readonly diffed: boolean;
}

/** What the triggers are told (their one argument, JSON): the resource's declaration in column names. */
interface BackstopConfig {
  readonly type: string;
  readonly id: string;
  readonly owner: string;
  readonly columns: readonly BackstopColumn[];
}

/** The six triggers, by name suffix: one per statement kind, the mark of unclaimed changes, and the check of the API's claims. */
export const TRIGGERS = ['insert', 'update', 'delete', 'truncate', 'mark', 'claims'] as const;

/** The function each trigger of the resource stored in `table` calls. */
export const functionOf = (suffix: (typeof TRIGGERS)[number], table: string): string =>
  suffix === 'mark' ? markName(table) : suffix === 'claims' ? claimCheckName(table) : 'audit_backstop_record';

/**
 * The mark of each record a statement changes unclaimed, generated for its table so that it reads
 * the record's id as a column. A statement's trigger takes only the marks of the records in its own
 * transition tables: a statement run inside it (by a function in its RETURNING, or by a trigger of a
 * temporary table its CTE writes) shares its start and its kind of change, but not its records.
 */
const markName = (table: string) => `${table}_audit_backstop_mark`;

/**
 * The commit-time check of the API's claimed changes of one table: generated for it, so that it
 * reads the record's id and owner as columns. A generic function had to parse the declaration
 * and turn the whole record into JSON on every change the API made (0.05 ms of its 0.1 ms).
 */
const claimCheckName = (table: string) => `${table}_audit_backstop_check_claim`;

/**
 * The setting the API sets, before each statement that changes an audited table, to the md5 of
 * that statement's text: "the API records this statement's changes itself". A statement cannot
 * claim itself (setting it from inside changes the text it would have to hash).
 */
export const API_CHANGE_SETTING = 'audit.api_change';

/** A trigger's condition: the API has claimed the statement running now. */
const CLAIMED = `pg_catalog.current_setting('${API_CHANGE_SETTING}', true) = pg_catalog.md5(pg_catalog.current_query())`;
const UNCLAIMED = `pg_catalog.current_setting('${API_CHANGE_SETTING}', true) IS DISTINCT FROM pg_catalog.md5(pg_catalog.current_query())`;

/**
 * A date is kept as `Date.toISOString()` keeps it, a bigint or a numeric as its decimal text
 * (postgres.js's reading of them), anything else as PostgreSQL's JSON of it.
 */
function formOf(column: PgColumn): ValueForm {
  if (column.dataType === 'date') return 'date';
  if (column.dataType === 'bigint' || column.dataType === 'string') return 'text';
  return 'json';
}

function configOf(resource: AuditedResource): BackstopConfig {
  const columns = getTableColumns(resource.table) as Record<string, PgColumn>;
  const diffed = new Set(resource.fields.diffed);
  return {
    type: resource.type,
    id: columns[resource.idField]!.name,
    owner: columns[resource.ownerField]!.name,
    columns: resource.fields.snapshot.map((field) => ({
      column: columns[field]!.name,
      field,
      as: formOf(columns[field]!),
      sensitive: resource.fields.sensitive.has(field),
      diffed: diffed.has(field),
    })),
  };
}

/** The trigger argument for `resource`: its declaration as JSON, compared with what is installed at start. */
export const backstopArgument = (resource: AuditedResource): string => JSON.stringify(configOf(resource));

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

export function qualifiedTable(table: PgTable): { name: string; sql: string } {
  const { schema } = getTableConfig(table);
  const name = getTableName(table);
  return { name, sql: schema ? `${quoted(schema)}.${quoted(name)}` : quoted(name) };
}

/**
 * The statements that install `resource`'s backstop, for its migration (`npm run db:backstop`):
 * drizzle-kit cannot declare triggers, so they are generated from the declaration, and the server
 * refuses to start while what is installed differs from it (`backstopProblems`, backstop-check.ts).
 */
export function backstopSql(resource: AuditedResource): string {
  const table = qualifiedTable(resource.table);
  const argument = literal(backstopArgument(resource));
  const name = (suffix: (typeof TRIGGERS)[number]) => quoted(`${table.name}_audit_backstop_${suffix}`);
  // No WHEN here: the statements of a DO block or of one query string share their text and start,
  // so a statement that claims itself only after a change would leave its mark to the next one's
  // trigger. Each statement's trigger takes its own marks as it ends, claimed or not.
  const perStatement = (event: 'INSERT' | 'UPDATE' | 'DELETE', transitions: string) =>
    `CREATE TRIGGER ${name(event.toLowerCase() as 'insert')} AFTER ${event} ON ${table.sql}\n` +
    `  REFERENCING ${transitions}\n  FOR EACH STATEMENT EXECUTE FUNCTION "audit_backstop_record"(${argument});`;
  const heading = `-- The audit backstop of ${resource.type} (generated from its declaration: npm run db:backstop -- ${resource.type}).\n`;
  return [
    heading + perStatement('INSERT', 'NEW TABLE AS new_records'),
    perStatement('UPDATE', 'OLD TABLE AS old_records NEW TABLE AS new_records'),
    perStatement('DELETE', 'OLD TABLE AS old_records'),
    `CREATE TRIGGER ${name('truncate')} BEFORE TRUNCATE ON ${table.sql}\n  FOR EACH STATEMENT EXECUTE FUNCTION "audit_backstop_record"(${argument});`,
    // The claim is compared in WHEN, so the API's own changes call no function here at all. An
    // AFTER trigger's WHEN is evaluated as each record changes; it marks only records the
    // statement did change (not the rows an INSERT … ON CONFLICT did not insert).
    ...markSql(resource, table.name),
    `CREATE TRIGGER ${name('mark')} AFTER INSERT OR UPDATE OR DELETE ON ${table.sql}\n  FOR EACH ROW\n` +
      `  WHEN (${UNCLAIMED})\n` +
      `  EXECUTE FUNCTION ${quoted(markName(table.name))}(${argument});`,
    ...claimCheckSql(resource, table.name),
    `CREATE CONSTRAINT TRIGGER ${name('claims')} AFTER INSERT OR UPDATE OR DELETE ON ${table.sql}\n` +
      `  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW\n` +
      `  WHEN (${CLAIMED})\n` +
      `  EXECUTE FUNCTION ${quoted(claimCheckName(table.name))}(${argument});`,
    // ALWAYS: an ordinary trigger does not fire under `session_replication_role = replica`, which
    // a superuser may set for a session; these fire whatever it is.
    `ALTER TABLE ${table.sql}\n  ${TRIGGERS.map((suffix) => `ENABLE ALWAYS TRIGGER ${name(suffix)}`).join(',\n  ')};`,
  ].join('\n--> statement-breakpoint\n');
}

/**
 * The statements that create `resource`'s claim check: at commit, for each record a claimed
 * statement changed, the transaction must hold a row of its own about that record, of that kind of
 * change (a restore may create or update), successful, naming its owner (both owners, and both
 * ids, of an UPDATE that changed either), or it does not commit. Written by this transaction
 * (`xmin`; the API writes no row in a savepoint), now (its start): one probe of this month's
 * resource index per record.
 */
function claimCheckSql(resource: AuditedResource, table: string): string[] {
  const { id, owner } = keyColumns(resource);
  const { create, update, delete: remove, restore } = resource.actions;
  const actions = (...names: string[]) => literal(`{${names.join(',')}}`) + '::text[]';
  const probe = (record: 'NEW' | 'OLD', kinds: string) =>
    `    PERFORM FROM audit_logs\n` +
    `    WHERE resource_id = ${text(`${record}.${id}`)} AND occurred_at = pg_catalog.now()\n` +
    `      AND resource_type = ${literal(resource.type)} AND action = ANY (${kinds}) AND outcome = 'success'\n` +
    `      AND owner_ids @> ARRAY[${text(`${record}.${owner}`)}] AND NOT (details ? 'database') AND xmin = pg_catalog.pg_current_xact_id()::xid;\n` +
    `    IF NOT FOUND THEN\n` +
    `      RAISE EXCEPTION 'a change of an audited record claimed by the API has no audit row of that change in its transaction'\n` +
    `        USING ERRCODE = 'insufficient_privilege';\n` +
    `    END IF;`;
  const fn = quoted(claimCheckName(table));
  return [
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger\nLANGUAGE plpgsql SECURITY DEFINER AS $$\nBEGIN\n` +
      `  IF TG_OP <> 'DELETE' THEN\n` +
      probe('NEW', `CASE TG_OP WHEN 'INSERT' THEN ${actions(create.name, restore.name)} ELSE ${actions(update.name, restore.name)} END`) +
      `\n  END IF;\n` +
      `  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (NEW.${id} IS DISTINCT FROM OLD.${id} OR NEW.${owner} IS DISTINCT FROM OLD.${owner})) THEN\n` +
      probe('OLD', `CASE TG_OP WHEN 'DELETE' THEN ${actions(remove.name)} ELSE ${actions(update.name, restore.name)} END`) +
      `\n  END IF;\n  RETURN NULL;\nEND;\n$$;`,
    ...ownersSettings(claimCheckName(table)),
  ];
}

/** The quoted id and owner columns of `resource`'s table. */
function keyColumns(resource: AuditedResource): { id: string; owner: string } {
  const columns = getTableColumns(resource.table) as Record<string, PgColumn>;
  return { id: quoted(columns[resource.idField]!.name), owner: quoted(columns[resource.ownerField]!.name) };
}

/** A record's id or owner as the API writes it: the value's JSON text (a bigint's digits, a text as it is). */
const text = (value: string) => `pg_catalog.to_jsonb(${value}) #>> '{}'`;

/** A generated function runs as the owner (who may read the trail), with no search path of the caller's. */
const ownersSettings = (fn: string): string[] => [
  `DO $$\nBEGIN\n  EXECUTE pg_catalog.format('ALTER FUNCTION %I() SET search_path = %I, pg_temp', ${literal(fn)}, current_schema());\nEND;\n$$;`,
  `REVOKE ALL ON FUNCTION ${quoted(fn)}() FROM PUBLIC;`,
];

/**
 * The statements that create `resource`'s mark function: a record changed while its statement is
 * not claimed is marked, by its id and the row it changed (an INSERT's new one, an UPDATE's or
 * DELETE's old one; its md5 under fixed settings, `audit_backstop_fingerprint`), in a table only
 * the owner may write; its statement's trigger takes the marks
 * of the rows in its transition tables and records them, and a mark left at commit refuses it
 * (migration 0027). A statement run inside the one changing a record, which shares its start,
 * sees that record as the outer one left it, so it cannot take the outer one's mark; one that
 * changes it unclaimed too would mark it twice: refused.
 */
function markSql(resource: AuditedResource, table: string): string[] {
  const { id } = keyColumns(resource);
  return [
    `CREATE OR REPLACE FUNCTION ${quoted(markName(table))}() RETURNS trigger\nLANGUAGE plpgsql SECURITY DEFINER AS $$\nBEGIN\n` +
      `  INSERT INTO audit_backstop_unclaimed (table_oid, operation, record, fingerprint)\n` +
      `  VALUES (TG_RELID, TG_OP, CASE TG_OP WHEN 'INSERT' THEN ${text(`NEW.${id}`)} ELSE ${text(`OLD.${id}`)} END,\n` +
      `          audit_backstop_fingerprint(CASE TG_OP WHEN 'INSERT' THEN NEW ELSE OLD END))\n` +
      `  ON CONFLICT DO NOTHING;\n` +
      `  IF NOT FOUND THEN\n` +
      `    RAISE EXCEPTION 'a record of an audited table was changed again, outside the API, by a statement run inside the one changing it'\n` +
      `      USING ERRCODE = 'insufficient_privilege';\n` +
      `  END IF;\n  RETURN NULL;\nEND;\n$$;`,
    ...ownersSettings(markName(table)),
  ];
}

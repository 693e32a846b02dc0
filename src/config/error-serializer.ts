import { DrizzleQueryError } from 'drizzle-orm';
import postgres from 'postgres';
import { MAX_WRAP_DEPTH, wrappedError } from '../core/failure';

/** Fields of a PostgreSQL error that name things (SQLSTATE, schema objects, server routine), never values. */
const NAMING_FIELDS = ['code', 'severity', 'schema_name', 'table_name', 'column_name', 'data_type_name', 'constraint_name', 'routine'] as const;

/**
 * pino's `err` serializer. Errors keep their type, code and stack frames, so operators can find
 * what failed and where. Database errors — and errors wrapping one, whose messages copy it — lose
 * everything that can hold data: drizzle's message carries the SQL and its parameters, and
 * PostgreSQL's message, detail, hint and context can quote the values of a row ("Failing row
 * contains (…)"). Other errors are logged with their message, as pino's default serializer does,
 * but without appending their causes' messages to it.
 */
export function serializeError(value: unknown): unknown {
  return value instanceof Error ? describe(value, 0) : value;
}

function describe(error: Error, depth: number): Record<string, unknown> {
  const type = error.constructor?.name || error.name;
  const inner = wrappedError(error);
  const cause = inner && depth < MAX_WRAP_DEPTH ? { cause: describe(inner, depth + 1) } : {};
  if (involvesDatabase(error, depth)) {
    return { type, ...namingFields(error), stack: stackFrames(type, error), ...cause };
  }
  const described: Record<string, unknown> = { type, message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'cause') described[key] = value instanceof Error ? describe(value, depth + 1) : value;
  }
  return { ...described, ...cause };
}

function involvesDatabase(error: Error, depth: number): boolean {
  if (error instanceof postgres.PostgresError || error instanceof DrizzleQueryError) return true;
  const inner = wrappedError(error);
  return inner !== undefined && depth < MAX_WRAP_DEPTH && involvesDatabase(inner, depth + 1);
}

function namingFields(error: Error): Record<string, string> {
  if (!(error instanceof postgres.PostgresError)) return {};
  const source = error as unknown as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const key of NAMING_FIELDS) {
    const value = source[key];
    if (typeof value === 'string') fields[key] = value;
  }
  return fields;
}

/**
 * The `at …` lines of the stack under the error's type. The stack opens with the message, which
 * may span lines (drizzle's does) and hold text that looks like a frame, so everything up to the
 * message's end is cut; a stack that does not contain the message is dropped whole.
 */
function stackFrames(type: string, error: Error): string {
  const stack = error.stack ?? '';
  const messageAt = stack.indexOf(error.message);
  if (messageAt === -1) return type;
  const frames = stack.slice(messageAt + error.message.length).split('\n').filter((line) => /^\s+at /.test(line));
  return [type, ...frames].join('\n');
}

import { InvalidInput } from '../../core/errors';

/** The formats an export is written in. */
export const EXPORT_FORMATS = ['ndjson', 'csv', 'ocsf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What an export covers: rows with `from <= occurred_at < to`, written as `format`. */
export interface ExportWindow {
  readonly from: Date;
  readonly to: Date;
  readonly format: ExportFormat;
}

/** A date (`2026-01-01`, midnight UTC) or a timestamp with its zone (`2026-01-01T09:30:00.123456+05:30`). */
const INSTANT =
  /^(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})(?:T(?<hour>\d{2}):(?<minute>\d{2})(?::(?<second>\d{2})(?:\.\d{1,6})?)?(?:Z|(?<sign>[+-])(?<offsetHours>\d{2}):(?<offsetMinutes>\d{2})))?$/;

/** The years a window may span: PostgreSQL reads no year 0, nor a five-digit one, in the ISO form it is sent in. */
const YEARS = { first: 1, last: 9999 } as const;

/**
 * `text` as an instant, or {@link InvalidInput} naming `name`. `new Date` alone will not do: it rolls
 * a day the month lacks over (`2026-02-31` is March 3rd), reads `24:00` as the next day, and takes
 * years PostgreSQL refuses, which then failed the export with a 500. So the instant must read back,
 * in the zone it was written in, as the very fields written, and fall within 0001 to 9999 both as
 * written and in UTC, the form the window is sent to PostgreSQL in.
 */
function instantOf(name: 'from' | 'to', text: unknown): Date {
  const groups = typeof text === 'string' ? INSTANT.exec(text)?.groups : undefined;
  if (typeof text !== 'string' || !groups) throw new InvalidInput(name, 'must be a timestamp with its zone (2026-01-01T00:00:00Z) or a date (2026-01-01)');
  const field = (key: string) => Number(groups[key] ?? 0);
  const value = new Date(groups.hour === undefined ? `${text}T00:00:00Z` : text);
  const written = [field('year'), field('month'), field('day'), field('hour'), field('minute'), field('second')];
  const offsetMinutes = (groups.sign === '-' ? -1 : 1) * (field('offsetHours') * 60 + field('offsetMinutes'));
  if (field('offsetHours') > 23 || field('offsetMinutes') > 59 || !readsBackAs(value, offsetMinutes, written)) {
    throw new InvalidInput(name, `is not a date and time of the calendar: ${text}`);
  }
  if (![field('year'), value.getUTCFullYear()].every((year) => year >= YEARS.first && year <= YEARS.last)) {
    throw new InvalidInput(name, `must fall within the years 0001 to 9999, in UTC too: ${text}`);
  }
  return value;
}

/** Whether `value`, seen `offsetMinutes` east of UTC, shows `written`: year, month, day, hour, minute, second. */
function readsBackAs(value: Date, offsetMinutes: number, written: readonly number[]): boolean {
  const local = new Date(value.getTime() + offsetMinutes * 60_000);
  const shown = [local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate(), local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds()];
  // An invalid Date shows NaN everywhere, which equals nothing written.
  return shown.every((shownField, index) => shownField === written[index]);
}

/** Reads and checks an export's parameters; throws {@link InvalidInput} naming the one at fault. */
export function exportWindowOf(params: { from?: unknown; to?: unknown; format?: unknown }): ExportWindow {
  const from = instantOf('from', params.from);
  const to = instantOf('to', params.to);
  if (from >= to) throw new InvalidInput('to', 'must be later than from');
  const format = params.format ?? 'ndjson';
  if (typeof format !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new InvalidInput('format', `must be one of ${EXPORT_FORMATS.join(', ')}`);
  }
  return { from, to, format: format as ExportFormat };
}


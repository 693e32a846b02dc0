import type { Context } from '../../api/context';
import { encodeCursor, readPageArgs } from '../../api/page';
import { InvalidInput } from '../../core/errors';
import { VIEW_AUDIT_LOGS } from '../query/audit-log.actions';
import { disclosuresOf, type Disclosure } from '../query/audit-log.disclosure';
import type { AuditLogFilter } from '../query/audit-log.inputs';
import { rowMatches } from '../query/audit-log.match';
import { AuditLogService } from '../query/audit-log.service';
import { isAfter, type SealedEntry, type SealedStream } from './audit-log.stream';
import { AUDIT_LOG_PAGE, type AuditLog } from '../query/audit-log.type';

/** What a live feed's subscriber passes: which rows, and where to resume. */
export interface FeedArgs {
  readonly filter?: AuditLogFilter | null;
  readonly after?: string | null;
}

/** One row of the live feed, with the cursor to resume after it. */
export interface FeedEntry {
  readonly cursor: string;
  readonly node: AuditLog;
}

/** What the live feed needs beyond a request's context: the process's reader of the sealed stream. */
export interface FeedContext extends Context {
  readonly stream: SealedStream;
  /** Aborted when the subscriber goes away or the server stops. */
  readonly closed: AbortSignal;
  /** How many rows the feed has delivered, for the row that records its end. */
  readonly delivered: { rows: number };
  /** What it was asked for, once it has started. */
  asked?: Record<string, unknown>;
}

const FIELD = 'Subscription.auditLogAdded';
const feedEvent = { action: VIEW_AUDIT_LOGS } as const;
/**
 * Rows a feed may have waiting while it records and sends earlier ones; a feed further behind ends
 * (complete), and its subscriber resumes from the last cursor it received.
 */
const MAX_WAITING = 5_000;

/**
 * Starts a live feed: the sealed rows matching `args.filter`, in seal order, after `args.after` (or,
 * without it, from now on), as they are sealed (in any process: the stream is the database's).
 * Each row is delivered once: the cursor of the last one delivered is where a subscriber that
 * dropped resumes. Recorded as a `view_audit_logs` row committed before the feed is returned, and
 * every batch that carries owned records' data as a row naming them, committed before the batch is
 * sent. Who may subscribe and what arguments are storable was checked before this runs, as for
 * any field; bad input is recorded as refused. {@link finishFeed} records its end.
 */
export async function openAuditLogFeed(args: FeedArgs, context: FeedContext): Promise<AsyncIterableIterator<FeedEntry>> {
  const details = { filter: args.filter ?? null, after: args.after ?? null };
  let from: { seal: number; id: bigint } | undefined;
  try {
    const { afterId } = readPageArgs(AUDIT_LOG_PAGE, { first: 1, after: args.after });
    const service = new AuditLogService(context.db);
    await service.listSealed(args.filter, { first: 1, afterId: undefined }); // refuses a filter that cannot mean what was meant
    if (afterId !== undefined) from = await service.sealedPosition(afterId);
  } catch (error) {
    if (error instanceof InvalidInput) context.audit.denied({ ...feedEvent, details: { ...details, reason: 'invalid_input', field: error.field } }, FIELD);
    throw error;
  }
  context.asked = details;
  context.audit.noteRead({ ...feedEvent, adminBypass: true, details: { ...details, feed: 'started' } }, FIELD);
  await context.audit.flush();
  // An async generator cannot be returned while it awaits (the next seal): ending the feed first wakes it.
  const ended = new AbortController();
  const rows = feedRows(args.filter, from, context, AbortSignal.any([context.closed, ended.signal]));
  const feed: AsyncIterableIterator<FeedEntry> = {
    next: () => rows.next(),
    return: async (value) => (ended.abort(), rows.return(await value)),
    throw: (error) => (ended.abort(), rows.throw(error)),
    [Symbol.asyncIterator]: () => feed,
  };
  return feed;
}

/**
 * The feed's rows: those the shared stream reads from now on, and before them, with a cursor, the
 * ones sealed since it, read page by page for this feed alone. The feed listens before it catches
 * up, so a row sealed meanwhile is in one or both, and delivered once.
 */
async function* feedRows(
  filter: AuditLogFilter | null | undefined,
  from: { seal: number; id: bigint } | undefined,
  context: FeedContext,
  closed: AbortSignal,
): AsyncGenerator<FeedEntry> {
  const waiting: SealedEntry[] = [];
  let wake: (() => void) | undefined;
  const stopListening = context.stream.listen((entries) => {
    for (const entry of entries) if (rowMatches(entry.row, filter)) waiting.push(entry);
    wake?.();
  });
  const woken = () => new Promise<void>((resolve) => (wake = resolve));
  closed.addEventListener('abort', () => wake?.(), { once: true });
  let position = from;
  try {
    for (let more = from !== undefined; more && !closed.aborted; ) {
      const page = await context.stream.page(filter, position?.id);
      more = page.more;
      yield* delivered(page.entries, context);
      if (page.entries.length > 0) position = { seal: page.entries.at(-1)!.seal, id: page.entries.at(-1)!.row.id };
    }
    while (!closed.aborted && waiting.length <= MAX_WAITING) {
      if (waiting.length === 0) await woken();
      const batch = waiting.splice(0).filter((entry) => isAfter(entry, position));
      if (batch.length === 0) continue;
      yield* delivered(batch, context);
      position = { seal: batch.at(-1)!.seal, id: batch.at(-1)!.row.id };
    }
  } finally {
    stopListening();
  }
}

/** No owned record's data: a batch of refusals and trail reads, recorded by the feed's own rows. */
const NOTHING_OWNED: Disclosure = {};

/** A batch ready to send, once the records whose data it carries are named in the trail by a committed row. */
async function* delivered(entries: readonly SealedEntry[], context: FeedContext): AsyncGenerator<FeedEntry> {
  if (entries.length === 0) return;
  const disclosures = disclosuresOf(entries.map((entry) => entry.row), context.viewer, NOTHING_OWNED).filter((shown) => shown !== NOTHING_OWNED);
  for (const shown of disclosures) {
    context.audit.noteRead({ ...feedEvent, ...shown, resourceId: null, details: { ...context.asked, feed: 'delivered', rows: entries.length } }, FIELD);
  }
  if (disclosures.length > 0) await context.audit.flush();
  for (const entry of entries) {
    context.delivered.rows++;
    yield { cursor: encodeCursor(AUDIT_LOG_PAGE.cursorKind, entry.row.id), node: entry.node };
  }
}

/** Records the end of a feed that started, with the rows it delivered, and writes what is buffered (a refusal). */
export async function finishFeed(context: FeedContext): Promise<void> {
  if (context.asked) {
    const details = { ...context.asked, feed: 'ended', rowsDelivered: context.delivered.rows };
    context.audit.noteRead({ ...feedEvent, adminBypass: true, details }, FIELD);
  }
  await context.audit.flush();
}

import type { Context } from '../api/context';
import { encodeCursor, readPageArgs } from '../api/page';
import type { SealWatcher } from '../audit';
import { InvalidInput } from '../core/errors';
import { VIEW_AUDIT_LOGS } from './audit-log.actions';
import { refusalToRead } from './audit-log.rules';
import type { AuditLogFilter } from './audit-log.inputs';
import { AuditIntegrityService } from './audit-integrity.service';
import { AuditLogService } from './audit-log.service';
import { AUDIT_LOG_PAGE, AuditLog } from './audit-log.type';

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

/** What the live feed needs beyond a request's context: the process's view of the seal chain. */
export interface FeedContext extends Context {
  readonly seals: SealWatcher;
  /** Aborted when the subscriber goes away or the server stops. */
  readonly closed: AbortSignal;
  /** How many rows the feed has delivered, for the row that records its end. */
  readonly delivered: { rows: number };
  /** What it was asked for, once it has started. */
  asked?: Record<string, unknown>;
}

/** Rows read from the sealed stream per statement. */
const BATCH = 100;
const FIELD = 'Subscription.auditLogAdded';
const feedEvent = { action: VIEW_AUDIT_LOGS.name, resourceType: VIEW_AUDIT_LOGS.resourceType } as const;

/**
 * Starts a live feed: the sealed rows matching `args.filter`, in seal order, after `args.after` (or,
 * without it, after the last row sealed so far), as they are sealed (in any process: the stream is
 * the database's). Each row is delivered once: the
 * cursor of the last one delivered is where the next read starts, and where a subscriber that
 * dropped resumes. Recorded as one `view_audit_logs` row, committed before the feed is returned;
 * bad input is recorded as refused. {@link finishFeed} records its end.
 */
export async function openAuditLogFeed(args: FeedArgs, context: FeedContext): Promise<AsyncIterableIterator<FeedEntry>> {
  const details = { filter: args.filter ?? null, after: args.after ?? null };
  // graphql-shield guards the field's `resolve`, which runs per row; the feed itself must not start.
  const refusal = refusalToRead(context, FIELD, { details });
  if (refusal) throw refusal;
  let afterId: bigint | undefined;
  const service = new AuditLogService(context.db);
  try {
    afterId = readPageArgs(AUDIT_LOG_PAGE, { first: BATCH, after: args.after }).afterId;
    await service.listSealed(args.filter, { first: 1, afterId });
    // Without a cursor a feed is live: it starts with the rows sealed from now on, not with history.
    if (afterId === undefined) afterId = await service.lastSealedId();
  } catch (error) {
    if (error instanceof InvalidInput) context.audit.denied({ ...feedEvent, details: { ...details, reason: 'invalid_input', field: error.field } }, FIELD);
    throw error;
  }
  context.asked = details;
  context.audit.noteRead({ ...feedEvent, adminBypass: true, details: { ...details, feed: 'started' } }, FIELD);
  await context.audit.flush();
  // An async generator cannot be returned while it awaits (it would wait for the next seal, and
  // the next row): ending the feed first wakes it, so it returns at once.
  const ended = new AbortController();
  const rows = sealedRows(service, args.filter, afterId, context, AbortSignal.any([context.closed, ended.signal]));
  const feed: AsyncIterableIterator<FeedEntry> = {
    next: () => rows.next(),
    return: async (value) => (ended.abort(), rows.return(await value)),
    throw: (error) => (ended.abort(), rows.throw(error)),
    [Symbol.asyncIterator]: () => feed,
  };
  return feed;
}

async function* sealedRows(
  service: AuditLogService,
  filter: FeedArgs['filter'],
  from: bigint | undefined,
  context: FeedContext,
  closed: AbortSignal,
): AsyncGenerator<FeedEntry> {
  const integrity = new AuditIntegrityService(context.db);
  let afterId = from;
  while (!closed.aborted) {
    const page = await service.listSealed(filter, { first: BATCH, afterId });
    const hashes = await integrity.ofRows(page.rows);
    for (const row of page.rows) {
      afterId = row.id;
      context.delivered.rows++;
      yield { cursor: encodeCursor(AUDIT_LOG_PAGE.cursorKind, row.id), node: AuditLog.fromRow(row, hashes.get(row.id)!) };
    }
    if (!page.hasNextPage) await context.seals.nextSeal(closed);
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

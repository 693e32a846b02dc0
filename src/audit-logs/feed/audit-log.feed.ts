import { viewerOf, type Context } from '../../api/context';
import type { AuditAction } from '../../audit';
import type { AuditEvent } from '../../audit/operations';
import type { Viewer } from '../../auth/viewer';
import { encodeCursor, readPageArgs, type PageSpec } from '../../api/page';
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

/** One row of a live feed, with the cursor to resume after it. */
export interface FeedEntry<Node = AuditLog> {
  readonly cursor: string;
  readonly node: Node;
}

/** What a live feed needs beyond a request's context: the process's reader of the sealed stream. */
export interface FeedContext extends Context {
  readonly stream: SealedStream;
  /** Aborted when the subscriber goes away or the server stops. */
  readonly closed: AbortSignal;
  /** How many rows the feed has delivered, for the row that records its end. */
  readonly delivered: { rows: number };
  /** The feed's kind and what it was asked for, once it has started. */
  started?: { readonly kind: FeedKind<unknown>; readonly asked: Record<string, unknown> };
}

/**
 * A kind of live feed over the sealed stream: the trail for admins (`auditLogAdded`), or an
 * owner's access log (`myDataAccessed`). Both are opened, caught up, delivered once in seal order,
 * resumed from a cursor and recorded by {@link openFeed} and {@link finishFeed}; a kind says only
 * what differs.
 */
export interface FeedKind<Node> {
  /** The subscription field, as its rows name it (`Subscription.auditLogAdded`). */
  readonly field: string;
  /** The action of its start, end and delivery rows. */
  readonly action: AuditAction;
  /** Its cursors' tag: a feed resumes after a cursor of its own or of the query it follows. */
  readonly page: PageSpec;
  /** What its start and end rows say besides: whose data it shows, whether that is a bypass. */
  readonly recordedAs: (viewer: Viewer) => Pick<AuditEvent, 'ownerIds' | 'adminBypass'>;
  /**
   * Whether each batch carrying owned records' data is named by a row before it is sent: the
   * trail's feed shows anyone's data; an owner's shows only what is theirs, which the start row names.
   */
  readonly recordsDeliveries: boolean;
  /** A sealed row as the subscriber receives it. */
  readonly nodeOf: (entry: SealedEntry, context: FeedContext) => Node;
}

/**
 * Rows a feed may have waiting while it records and sends earlier ones; a feed further behind ends
 * (complete), and its subscriber resumes from the last cursor it received.
 */
const MAX_WAITING = 5_000;

/**
 * Starts a live feed of `kind`: the sealed rows matching `filter`, in seal order, after `args.after`
 * (or, without it, from now on), as they are sealed (in any process: the stream is the database's).
 * Each row is delivered once: the cursor of the last one delivered is where a subscriber that
 * dropped resumes. Recorded as a row of the kind's action committed before the feed is returned
 * (and, for the trail's feed, every batch that carries owned records' data as a row naming them,
 * committed before the batch is sent). Who may subscribe and what arguments are storable was
 * checked before this runs, as for any field; bad input is recorded as refused. {@link finishFeed}
 * records its end.
 */
export async function openFeed<Node>(
  kind: FeedKind<Node>,
  filter: AuditLogFilter | null | undefined,
  args: { readonly after?: string | null; readonly asked: Record<string, unknown> },
  context: FeedContext,
): Promise<AsyncIterableIterator<FeedEntry<Node>>> {
  const details = { ...args.asked, after: args.after ?? null };
  const recordedAs = kind.recordedAs(viewerOf(context));
  let from: { seal: number; id: bigint } | undefined;
  try {
    const { afterId } = readPageArgs(kind.page, { first: 1, after: args.after });
    // The cursor, and the rows after it, from the primary: a replica may not have replayed them yet.
    const service = new AuditLogService(context.trailReads.primary.searches);
    await service.listSealed(filter, { first: 1, afterId: undefined }); // refuses a filter that cannot mean what was meant
    if (afterId !== undefined) from = await service.sealedPosition(afterId);
  } catch (error) {
    if (error instanceof InvalidInput) {
      context.audit.denied({ action: kind.action, ...recordedAs, details: { ...details, reason: 'invalid_input', field: error.field } }, kind.field);
    }
    throw error;
  }
  context.started = { kind, asked: details };
  context.audit.noteRead({ action: kind.action, ...recordedAs, details: { ...details, feed: 'started' } }, kind.field);
  await context.audit.flush();
  // An async generator cannot be returned while it awaits (the next seal): ending the feed first wakes it.
  const ended = new AbortController();
  const rows = feedRows(kind, filter, from, context, AbortSignal.any([context.closed, ended.signal]));
  const feed: AsyncIterableIterator<FeedEntry<Node>> = {
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
async function* feedRows<Node>(
  kind: FeedKind<Node>,
  filter: AuditLogFilter | null | undefined,
  from: { seal: number; id: bigint } | undefined,
  context: FeedContext,
  closed: AbortSignal,
): AsyncGenerator<FeedEntry<Node>> {
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
      const page = await context.stream.page(filter, position?.id, context.trailReads.primary.searches);
      more = page.more;
      yield* delivered(kind, page.entries, context);
      if (page.entries.length > 0) position = { seal: page.entries.at(-1)!.seal, id: page.entries.at(-1)!.row.id };
    }
    while (!closed.aborted && waiting.length <= MAX_WAITING) {
      if (waiting.length === 0) await woken();
      const batch = waiting.splice(0).filter((entry) => isAfter(entry, position));
      if (batch.length === 0) continue;
      yield* delivered(kind, batch, context);
      position = { seal: batch.at(-1)!.seal, id: batch.at(-1)!.row.id };
    }
  } finally {
    stopListening();
  }
}

/** No owned record's data: a batch of refusals and trail reads, recorded by the feed's own rows. */
const NOTHING_OWNED: Disclosure = {};

/** A batch ready to send, once the records whose data it carries are named in the trail by a committed row (where the kind says so). */
async function* delivered<Node>(kind: FeedKind<Node>, entries: readonly SealedEntry[], context: FeedContext): AsyncGenerator<FeedEntry<Node>> {
  if (entries.length === 0) return;
  if (kind.recordsDeliveries) {
    const disclosures = disclosuresOf(entries.map((entry) => entry.row), context.viewer, NOTHING_OWNED).filter((shown) => shown !== NOTHING_OWNED);
    for (const shown of disclosures) {
      const details = { ...context.started?.asked, feed: 'delivered', rows: entries.length };
      context.audit.noteRead({ action: kind.action, ...shown, resourceId: null, details }, kind.field);
    }
    if (disclosures.length > 0) await context.audit.flush();
  }
  for (const entry of entries) {
    context.delivered.rows++;
    yield { cursor: encodeCursor(kind.page.cursorKind, entry.row.id), node: kind.nodeOf(entry, context) };
  }
}

/** Records the end of a feed that started, with the rows it delivered, and writes what is buffered (a refusal). */
export async function finishFeed(context: FeedContext): Promise<void> {
  const started = context.started;
  if (started && context.viewer) {
    const details = { ...started.asked, feed: 'ended', rowsDelivered: context.delivered.rows };
    context.audit.noteRead({ action: started.kind.action, ...started.kind.recordedAs(context.viewer), details }, started.kind.field);
  }
  await context.audit.flush();
}

/** The trail's own feed, for admins: every sealed row matching the subscriber's filter. */
export const AUDIT_LOG_FEED: FeedKind<AuditLog> = {
  field: 'Subscription.auditLogAdded',
  action: VIEW_AUDIT_LOGS,
  page: AUDIT_LOG_PAGE,
  recordedAs: () => ({ adminBypass: true }),
  recordsDeliveries: true,
  nodeOf: (entry) => entry.node,
};

/** Opens the trail's feed for `args`, recorded as `view_audit_logs`. */
export function openAuditLogFeed(args: FeedArgs, context: FeedContext): Promise<AsyncIterableIterator<FeedEntry>> {
  return openFeed(AUDIT_LOG_FEED, args.filter, { after: args.after, asked: { filter: args.filter ?? null } }, context);
}

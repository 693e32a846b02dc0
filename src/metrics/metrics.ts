import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditObserver } from '../audit/wiring';
import { DEFAULT_QUERY_LIMITS } from '../config/query-limits';
import type { PoolUsage } from '../db/pool-usage';
import { GraphQLRequestMetrics } from './graphql-requests';
import { OperationLabels } from './operation-labels';

/** Options for {@link Metrics}. */
export interface MetricsOptions {
  /**
   * Distinct operation names that label request metrics before later ones count as `(other)`.
   * @defaultValue 100 (`METRICS_MAX_OPERATION_NAMES`)
   */
  readonly maxOperationNames?: number;
}

/** A gauge read at each scrape; see {@link Metrics.gauge}. */
export interface GaugeSource {
  /** Prometheus metric name, with its unit as a suffix (`_seconds`, `_total`…). */
  readonly name: string;
  /** What it measures, for the `# HELP` line. */
  readonly help: string;
  /** The current value, asked when `/metrics` is scraped (it may ask the database). */
  readonly read: () => number | Promise<number>;
}

/**
 * The server's metrics, in Prometheus's text format (prom-client, a registry per server). The
 * audit trail and the pool report through hooks of their own ({@link audit}, {@link observePool});
 * nothing below this module imports prom-client. docs/operations.md "Metrics" lists every metric.
 */
export class Metrics {
  private readonly registry = new Registry();
  /** Feed to the audit trail (`AuditTrail`'s `observer`): rows written, group-commit latency. */
  readonly audit: AuditObserver;
  /** The `/graphql` middleware, context hook and Apollo plugin measuring requests. */
  readonly graphqlRequests: GraphQLRequestMetrics;

  constructor(options: MetricsOptions = {}) {
    collectDefaultMetrics({ register: this.registry });
    // Every metric below lives in this server's registry, never prom-client's global one.
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter({ name, help, labelNames, registers });
    // prom-client's default buckets hold only when `buckets` is left out, not when it is undefined.
    const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets?: number[]) =>
      new Histogram({ name, help, labelNames, registers, ...(buckets && { buckets }) });

    const duration = histogram(
      'graphql_request_duration_seconds',
      'Time from a /graphql request arriving to its response sent, by operation name and outcome',
      ['operation', 'outcome'],
    );
    const refusedDocuments = counter(
      'graphql_documents_refused_total',
      'GraphQL documents refused before execution (QUERY_TOO_COMPLEX), by the limit exceeded',
      ['limit'],
    );
    // Every limit's series exists from the start, so a rate over it has a baseline.
    for (const limit of Object.keys(DEFAULT_QUERY_LIMITS)) refusedDocuments.inc({ limit }, 0);
    this.graphqlRequests = new GraphQLRequestMetrics(new OperationLabels(options.maxOperationNames ?? 100), duration, refusedDocuments);

    const rowsWritten = counter('audit_rows_written_total', 'Audit rows committed to audit_logs, by action and outcome', ['action', 'outcome']);
    const breakGlass = counter(
      'audit_break_glass_total',
      'Accesses to others\' records under the break-glass reason (audit rows with admin_bypass and break_glass), by action and outcome',
      ['action', 'outcome'],
    );
    const flushDuration = histogram(
      'audit_flush_duration_seconds',
      'Duration of each group-commit INSERT of audit rows, start to commit, by result (committed or failed)',
      ['result'],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    );
    const flushRows = histogram(
      'audit_flush_rows',
      'Audit rows in each group-commit INSERT: the rows of every request that waited for it',
      [],
      [1, 2, 5, 10, 20, 50, 100, 200, 500],
    );
    this.audit = {
      rowsWritten(rows, request) {
        for (const { action, outcome, adminBypass } of rows) {
          rowsWritten.inc({ action: action.name, outcome });
          if (adminBypass && request.accessReason?.breakGlass) breakGlass.inc({ action: action.name, outcome });
        }
      },
      groupCommitEnded(seconds, rows, committed) {
        flushDuration.observe({ result: committed ? 'committed' : 'failed' }, seconds);
        flushRows.observe(rows);
      },
    };
  }

  /**
   * Registers a gauge whose value `source.read` gives at each scrape: the way for a part of the
   * server that keeps a figure of its own (the pool's usage; a sealer's lag) to publish it without
   * importing prom-client. Register only what is measured: a gauge reads as a fact.
   */
  gauge(source: GaugeSource): void {
    new Gauge({
      name: source.name,
      help: source.help,
      registers: [this.registry],
      async collect() {
        this.set(await source.read());
      },
    });
  }

  /** Publishes the pool's usage (see `PoolUsage` for what is counted) next to its size. */
  observePool(usage: () => PoolUsage, maxConnections: number): void {
    this.gauge({
      name: 'db_pool_queries_in_flight',
      help: 'Statements sent through the pool outside transactions and not answered yet (running or waiting for a connection)',
      read: () => usage().queriesInFlight,
    });
    this.gauge({
      name: 'db_pool_transactions_open',
      help: 'Transactions begun and not yet ended, each holding one pool connection (waiting for one included)',
      read: () => usage().transactionsOpen,
    });
    this.gauge({ name: 'db_pool_max_connections', help: 'The pool size (DATABASE_POOL_MAX; 1 on the embedded database)', read: () => maxConnections });
  }

  /** The `Content-Type` of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus's text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

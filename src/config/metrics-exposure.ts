/**
 * Where `/metrics` is served and how scrapers prove they may read it. Metrics say what the
 * server does (operation names, traffic, failures), so production never serves them to anyone
 * who can reach the API: they get a listen address of their own, a bearer token, or both.
 */
export interface MetricsExposure {
  /**
   * A listen address of their own (`METRICS_PORT`, `METRICS_HOST`), meant to be reachable by the
   * scraper only; `undefined` serves `/metrics` on the API's port.
   */
  readonly listen: { readonly port: number; readonly host: string } | undefined;
  /** The bearer token a scrape must present (`METRICS_TOKEN`); `undefined` asks for none. */
  readonly token: string | undefined;
  /**
   * How many distinct operation names label request metrics; later names count as `(other)`.
   * Clients choose operation names, so without a cap they could grow the metrics without bound.
   * @defaultValue 100 (`METRICS_MAX_OPERATION_NAMES`)
   */
  readonly maxOperationNames: number;
}

/** The server's Prometheus metrics: what is measured and how it is rendered; `src/http` serves it. */
export { Metrics, type GaugeSource, type MetricsOptions } from './metrics';

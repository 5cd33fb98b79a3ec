/** Labels attached to a metric sample. */
export type MetricLabels = Readonly<Record<string, string>>;

/**
 * Metrics hooks handed to a plugin. The proxy backs them with Prometheus; tests and plugins run
 * standalone get {@link noopMetrics}. Names are snake_case without the `prism_` prefix.
 */
export interface PluginMetrics {
  /** Adds `value` (default 1) to a counter. */
  increment(name: string, labels?: MetricLabels, value?: number): void;
  /** Records one observation (e.g. a latency in seconds) in a histogram. */
  observe(name: string, value: number, labels?: MetricLabels): void;
  /** Sets a gauge to `value`. */
  gauge(name: string, value: number, labels?: MetricLabels): void;
}

/** Metrics hooks that record nothing. */
export const noopMetrics: PluginMetrics = {
  increment() {},
  observe() {},
  gauge() {},
};

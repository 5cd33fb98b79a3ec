import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MetricLabels, PluginMetrics } from './metrics.js';

/** Histogram buckets (seconds) for calls that usually take well under a millisecond. */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

type Metric = Counter<string> | Gauge<string> | Histogram<string>;

/**
 * {@link PluginMetrics} backed by a prom-client registry: each name becomes `prism_<name>` on first use,
 * with the label names of that first use (later labels outside that set are dropped, missing ones are
 * empty), so adapters need not declare their metrics up front.
 */
export function createPromMetrics(registry: Registry, base: MetricLabels = {}): PluginMetrics {
  const metrics = new Map<string, { metric: Metric; labelNames: readonly string[] }>();
  const get = <M extends Metric>(
    kind: 'counter' | 'gauge' | 'histogram',
    name: string,
    labels: MetricLabels | undefined,
  ): { metric: M; values: Record<string, string> } => {
    const all = { ...base, ...labels };
    let entry = metrics.get(name);
    if (!entry) {
      const fullName = `prism_${name}`;
      const labelNames = Object.keys(all);
      const existing = registry.getSingleMetric(fullName) as Metric | undefined;
      const help = `${name} (reported by the backend adapter)`;
      const metric =
        existing ??
        (kind === 'counter'
          ? new Counter({ name: fullName, help, labelNames, registers: [registry] })
          : kind === 'gauge'
            ? new Gauge({ name: fullName, help, labelNames, registers: [registry] })
            : new Histogram({
                name: fullName,
                help,
                labelNames,
                buckets: LATENCY_BUCKETS,
                registers: [registry],
              }));
      entry = { metric, labelNames };
      metrics.set(name, entry);
    }
    const values: Record<string, string> = {};
    for (const n of entry.labelNames) values[n] = all[n] ?? '';
    return { metric: entry.metric as M, values };
  };
  return {
    increment(name, labels, value = 1) {
      const { metric, values } = get<Counter<string>>('counter', name, labels);
      metric.inc(values, value);
    },
    observe(name, value, labels) {
      const { metric, values } = get<Histogram<string>>('histogram', name, labels);
      metric.observe(values, value);
    },
    gauge(name, value, labels) {
      const { metric, values } = get<Gauge<string>>('gauge', name, labels);
      metric.set(values, value);
    },
  };
}

/** The same hooks with `labels` added to every sample (e.g. the namespace of an instance). */
export function withLabels(metrics: PluginMetrics, labels: MetricLabels): PluginMetrics {
  return {
    increment: (name, l, value) => metrics.increment(name, { ...labels, ...l }, value),
    observe: (name, value, l) => metrics.observe(name, value, { ...labels, ...l }),
    gauge: (name, value, l) => metrics.gauge(name, value, { ...labels, ...l }),
  };
}

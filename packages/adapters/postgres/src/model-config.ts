import { DEFAULT_MAX_TRAVERSAL_DEPTH, MAX_TRAVERSAL_DEPTH_CEILING } from '@prism/graph-traversal';
import { z } from '@prism/sdk';

/** `backend.config` fields of the time-series and graph interfaces. */
export const MODEL_CONFIG_FIELDS = {
  /**
   * How often each namespace's time-series retention is re-enforced in the background: day partitions wholly
   * older than the retention are dropped and older rows deleted (reads and writes apply the cutoff at once).
   */
  timeseries_retention_interval_ms: z.number().int().min(1000).max(86_400_000).default(3_600_000),
  /** The deepest graph traversal (k-hop depth, shortest-path max_depth, subgraph depth) a request may ask. */
  max_traversal_depth: z
    .number()
    .int()
    .min(1)
    .max(MAX_TRAVERSAL_DEPTH_CEILING)
    .default(DEFAULT_MAX_TRAVERSAL_DEPTH),
};

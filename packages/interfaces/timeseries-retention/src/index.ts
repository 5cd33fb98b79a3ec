import {
  type SetRetentionRequest,
  TimeSeriesRetentionInterface,
} from '@prism/proto/prism/timeseries/v1/timeseries_retention_pb';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/timeseries/v1/timeseries_retention_pb';
// Write and the reads enforce retention too; the helpers live with timeseries_basic, which every backend has.
export { checkWriteRetention, retentionCutoffNs, withinRetention } from '@prism/timeseries-basic';

/** The shortest retention period other than 0 (forever): one minute. */
export const MIN_RETENTION_MS = 60_000n;
/** The longest retention period: 100 years of 365.25 days. */
export const MAX_RETENTION_MS = 36_525n * 86_400_000n;

/** Throws INVALID_ARGUMENT unless `retentionMs` is 0 (forever) or 60000..100 years. */
export function checkRetentionMs(retentionMs: bigint, field = 'retention_ms'): void {
  if (retentionMs === 0n) return;
  if (retentionMs < MIN_RETENTION_MS || retentionMs > MAX_RETENTION_MS)
    throw invalidArgument(
      `${field} is ${retentionMs}; 0 (keep forever) or ${MIN_RETENTION_MS}..${MAX_RETENTION_MS} (one minute to 100 years)`,
    );
}

/** The timeseries_retention flavour: a per-namespace retention period, enforced by the backend. */
export const TimeSeriesRetention = defineInterface(
  'timeseries_retention',
  TimeSeriesRetentionInterface,
  { setRetention: 'admin', getRetention: 'read' },
  { setRetention: (req: SetRetentionRequest) => checkRetentionMs(req.retentionMs) },
);

/** What an adapter implements for timeseries_retention. */
export type TimeSeriesRetentionImpl = InterfaceImpl<typeof TimeSeriesRetentionInterface>;

// MemStore stream_retention: the policy lives on the in-memory log and is enforced on every append, on
// SetRetention and on TrimStream (ON_WRITE). Bytes are payload bytes.
import type { StreamRetentionImpl } from '@prism/stream-retention';
import { RetentionEnforcement } from '@prism/stream-retention';
import { type LogRetention, type MemLog, type MemLogs, NO_RETENTION } from './log.js';

const toPolicy = (r: LogRetention) => ({
  maxAgeMs: BigInt(r.maxAgeMs),
  maxRecords: BigInt(r.maxRecords),
  maxBytes: BigInt(r.maxBytes),
});

/** What TrimStream reports about a log (or a missing one) after trimming. */
function report(log: MemLog | undefined, removed: number) {
  const first = log && log.length > 0 ? log.at(log.first) : undefined;
  return {
    removed: BigInt(removed),
    remaining: BigInt(log?.length ?? 0),
    firstOffset: first?.offset ?? 0n,
    firstMessageId: first?.message.id ?? '',
  };
}

/** stream_retention over MemLogs (the same logs as stream_basic). */
export function memStreamRetention(logs: MemLogs): StreamRetentionImpl {
  return {
    setRetention: (req) => {
      const p = req.policy!;
      const log = logs.ensure(req.stream);
      log.retention = {
        maxAgeMs: Number(p.maxAgeMs),
        // Beyond 2^53 a count or byte limit is unreachable in memory anyway.
        maxRecords: Math.min(Number(p.maxRecords), Number.MAX_SAFE_INTEGER),
        maxBytes: Math.min(Number(p.maxBytes), Number.MAX_SAFE_INTEGER),
      };
      log.enforce();
      return { policy: toPolicy(log.retention) };
    },
    getRetention: (req) => ({
      policy: toPolicy(logs.get(req.stream)?.retention ?? NO_RETENTION),
      supported: {
        maxAgeMs: true,
        maxRecords: true,
        maxBytes: true,
        enforcement: RetentionEnforcement.ON_WRITE,
      },
    }),
    trimStream: (req) => {
      const log = logs.get(req.stream);
      if (!log) return report(undefined, 0);
      let removed = log.enforce();
      let cut = 0n;
      if (req.beforeOffset > 0n) cut = req.beforeOffset;
      if (req.keepLast > 0n && log.next - req.keepLast > cut) cut = log.next - req.keepLast;
      if (req.beforeTimestampMs > 0n) {
        const at = log.offsetAtTime(req.beforeTimestampMs);
        if (at > cut) cut = at;
      }
      removed += log.trim(cut);
      return report(log, removed);
    },
  };
}

// MemStore streams: stream_basic, stream_replay and stream_consumer_groups over in-memory logs.
import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import type { CallContext } from '@prism/sdk';
import type { StreamBasicImpl } from '@prism/stream-basic';
import { GroupStart, type StreamConsumerGroupsImpl } from '@prism/stream-consumer-groups';
import type { StreamReplayImpl } from '@prism/stream-replay';
import type { LogRecord, MemLogs } from './log.js';

/** How long a following reader sleeps at most between checks (it is woken on every append anyway). */
const IDLE_CHECK_MS = 30_000;

/**
 * Yields records from `from` in offset order. Without `follow` it stops at the end as of the call;
 * with `follow` it waits for appends (and for the stream to exist) until `max` or cancellation.
 */
async function* readLog(
  logs: MemLogs,
  stream: string,
  from: bigint | ((log: NonNullable<ReturnType<MemLogs['get']>>) => bigint),
  max: number,
  follow: boolean,
  ctx: CallContext,
): AsyncGenerator<{ offset: bigint; message: LogRecord['message'] }> {
  const end = logs.get(stream)?.next ?? 1n;
  let pos: bigint | undefined;
  let n = 0;
  while (!ctx.signal.aborted && !logs.notifier.closed && (max === 0 || n < max)) {
    const log = logs.get(stream);
    if (log) {
      pos ??= typeof from === 'function' ? from(log) : from;
      if (pos < log.first) pos = log.first;
      const record = log.at(pos);
      if (record && (follow || record.offset < end)) {
        pos = record.offset + 1n;
        n++;
        yield {
          offset: record.offset,
          message: { ...record.message, payload: record.message.payload.slice() },
        };
        continue;
      }
    }
    if (!follow) return;
    await logs.notifier.wait(ctx.signal, IDLE_CHECK_MS);
  }
}

/** stream_basic over MemLogs. */
export function memStream(logs: MemLogs): StreamBasicImpl {
  return {
    append: (req) => {
      const r = logs.ensure(req.stream).append(req.stream, req.payload, req.metadata);
      return { offset: r.offset, messageId: r.message.id, timestampMs: r.message.timestampMs };
    },
    read: (req, ctx) => readLog(logs, req.stream, req.fromOffset, req.maxRecords, req.follow, ctx),
    trim: (req) => {
      logs.get(req.stream)?.trim(req.beforeOffset);
      return {};
    },
  };
}

/** stream_replay over MemLogs. */
export function memStreamReplay(logs: MemLogs): StreamReplayImpl {
  return {
    replay: (req, ctx) => {
      const start = req.start;
      const from =
        start.case === 'fromTimestampMs'
          ? (log: NonNullable<ReturnType<MemLogs['get']>>) => log.offsetAtTime(start.value)
          : (start.value ?? 0n);
      return readLog(logs, req.stream, from, req.maxRecords, req.follow, ctx);
    },
  };
}

/** stream_consumer_groups over MemLogs. */
export function memStreamGroups(logs: MemLogs): StreamConsumerGroupsImpl {
  return {
    readGroup: async function* (req, ctx) {
      const log = logs.ensure(req.stream);
      const group = log.group(req.group, req.start !== GroupStart.EARLIEST);
      const member = group.join();
      const maxInFlight = req.maxInFlight || MESSAGING_DEFAULTS.maxInFlight;
      const claimMs = orDefault(req.claimTimeoutMs, MESSAGING_DEFAULTS.claimTimeoutMs);
      try {
        while (!ctx.signal.aborted && !logs.notifier.closed && log.groups.get(req.group) === group) {
          // The generator runs only when the client pulls: a slow client holds at most max_in_flight records.
          const got = group.claim(member, maxInFlight, claimMs);
          if (typeof got === 'object') {
            yield {
              offset: got.record.offset,
              message: { ...got.record.message, payload: got.record.message.payload.slice() },
              ackId: got.ackId,
              deliveryCount: got.deliveryCount,
            };
            continue;
          }
          await logs.notifier.wait(ctx.signal, got === undefined ? IDLE_CHECK_MS : got - Date.now());
        }
      } finally {
        group.leave(member);
      }
    },
    ack: (req) => {
      logs.get(req.stream)?.groups.get(req.group)?.ack(req.ackIds);
      return {};
    },
    deleteGroup: (req) => {
      const log = logs.get(req.stream);
      const deleted = log?.groups.delete(req.group) ?? false;
      if (deleted) logs.notifier.notify();
      return { deleted };
    },
  };
}

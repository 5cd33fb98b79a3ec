// stream_retention on JetStream. Each Prism stream is its own limits-retention JetStream stream (see
// streams.ts: offsets are stream sequences, dense from 1), so the policy IS the stream's config: MaxAge,
// MaxMsgs and MaxBytes, set with a stream update and read back from the stream info — the server stores
// and enforces it (on every store, on the update itself, and MaxAge also on its own timer), not the
// adapter. TrimStream is a purge (`seq` removes every record below it, `keep` all but the newest).
import { type CallContext, invalidArgument } from '@prism/sdk';
import {
  RetentionEnforcement,
  type RetentionPolicy,
  type StreamRetentionImpl,
} from '@prism/stream-retention';
import { AckPolicy, DeliverPolicy, type JetStreamManager, nanos, type StreamInfo } from 'nats';
import { apiErrorCode, isNoMessage, isStreamNotFound, type NatsBackend } from './connection.js';
import { H_ID, reservedOf } from './message.js';
import type { Names } from './names.js';
import type { JetStreams } from './streams.js';

/** JetStream's smallest max_age. */
const MIN_AGE_MS = 100;
/** JetStream's default duplicate window; it may not exceed max_age, so it shrinks with a shorter age. */
const DUPLICATE_WINDOW_MS = 120_000;
/** JetStream API errors: invalid stream config, storage the server cannot reserve. */
const INVALID_CONFIG = 10052;
const STORAGE_EXCEEDED = 10047;

const ZERO = { maxAgeMs: 0n, maxRecords: 0n, maxBytes: 0n };

/** The policy of a stream's config (JetStream says -1 or 0 for unlimited). */
function policyOf(info: StreamInfo): Omit<RetentionPolicy, '$typeName'> {
  const c = info.config;
  const n = (v: number | undefined) => (v !== undefined && v > 0 ? BigInt(v) : 0n);
  return {
    maxAgeMs: c.max_age > 0 ? BigInt(Math.round(c.max_age / 1e6)) : 0n,
    maxRecords: n(c.max_msgs),
    maxBytes: n(c.max_bytes),
  };
}

/** A count limit as the JSON number JetStream takes (-1 = unlimited). */
function limit(value: bigint, field: string): number {
  if (value === 0n) return -1;
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw invalidArgument(
      `policy.${field} is ${value}; the nats backend accepts at most ${Number.MAX_SAFE_INTEGER} (0 = unlimited)`,
    );
  return Number(value);
}

/** stream_retention over JetStream stream limits. */
export function natsStreamRetention(
  backend: NatsBackend,
  names: Names,
  streams: JetStreams,
): StreamRetentionImpl {
  const b = backend;
  const info = async (jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> => {
    try {
      return await jsm.streams.info(name);
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
      b.forget(name);
      return undefined;
    }
  };

  /** Sequence of the first record stored at or after `ms` (last_seq + 1 when there is none). */
  const seqFromTime = async (jsm: JetStreamManager, name: string, ms: number): Promise<number> => {
    // The server resolves a start time to a sequence when it creates the consumer; nothing is delivered.
    const c = await jsm.consumers.add(name, {
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(ms).toISOString(),
      ack_policy: AckPolicy.None,
      inactive_threshold: nanos(60_000),
      mem_storage: true,
    });
    void jsm.consumers.delete(name, c.name).catch(() => {});
    return c.delivered.stream_seq + 1;
  };

  /** Where the stream now starts: removed/remaining/first offset and id. */
  const report = async (jsm: JetStreamManager, name: string, removed: number) => {
    for (let attempt = 0; ; attempt++) {
      const si = await info(jsm, name);
      if (!si || si.state.messages === 0)
        return { removed: BigInt(removed), remaining: 0n, firstOffset: 0n, firstMessageId: '' };
      const first = si.state.first_seq;
      try {
        const m = await jsm.streams.getMessage(name, { seq: first });
        return {
          removed: BigInt(removed),
          remaining: BigInt(si.state.messages),
          firstOffset: BigInt(first),
          firstMessageId: reservedOf(m.header, H_ID) ?? String(first),
        };
      } catch (err) {
        // Removed meanwhile (by its age or a concurrent trim): look again.
        if (!isNoMessage(err) || attempt >= 3) throw err;
      }
    }
  };

  return {
    setRetention: (req, ctx: CallContext) =>
      b.call(async () => {
        const p = req.policy!;
        if (p.maxAgeMs > 0n && p.maxAgeMs < BigInt(MIN_AGE_MS))
          throw invalidArgument(
            `policy.max_age_ms is ${p.maxAgeMs}; NATS JetStream needs at least ${MIN_AGE_MS} ms (0 = unlimited)`,
          );
        const ageMs = Number(p.maxAgeMs);
        const update = {
          max_age: ageMs > 0 ? nanos(ageMs) : 0,
          max_msgs: limit(p.maxRecords, 'max_records'),
          max_bytes: limit(p.maxBytes, 'max_bytes'),
          duplicate_window: nanos(ageMs > 0 ? Math.min(ageMs, DUPLICATE_WINDOW_MS) : DUPLICATE_WINDOW_MS),
        };
        const name = names.stream(req.stream);
        const jsm = await b.jsm();
        for (let attempt = 0; ; attempt++) {
          await streams.ensure(req.stream);
          try {
            // The server applies the new limits to the stored records before it answers.
            return { policy: policyOf(await jsm.streams.update(name, update)) };
          } catch (err) {
            const code = apiErrorCode(err);
            // Deleted since this instance created it: create it again.
            if (isStreamNotFound(err) && attempt === 0) {
              b.forget(name);
              continue;
            }
            if (code === STORAGE_EXCEEDED)
              throw invalidArgument(
                `policy.max_bytes is ${p.maxBytes}; the NATS JetStream server cannot reserve that much storage: ${errorText(err)}`,
              );
            if (code === INVALID_CONFIG)
              throw invalidArgument(`policy was rejected by NATS JetStream: ${errorText(err)}`);
            throw err;
          }
        }
      }, ctx),
    getRetention: (req, ctx: CallContext) =>
      b.call(async () => {
        const si = await info(await b.jsm(), names.stream(req.stream));
        return {
          policy: si ? policyOf(si) : ZERO,
          supported: {
            maxAgeMs: true,
            maxRecords: true,
            maxBytes: true,
            enforcement: RetentionEnforcement.ON_WRITE,
          },
        };
      }, ctx),
    trimStream: (req, ctx: CallContext) =>
      b.call(async () => {
        const name = names.stream(req.stream);
        const jsm = await b.jsm();
        const si = await info(jsm, name);
        if (!si) return { removed: 0n, remaining: 0n, firstOffset: 0n, firstMessageId: '' };
        let removed = 0;
        // Offsets and timestamps: remove every record below the highest sequence either names.
        let below = 0;
        if (req.beforeOffset > 0n) below = Math.min(Number(req.beforeOffset), si.state.last_seq + 1);
        if (req.beforeTimestampMs > 0n)
          below = Math.max(below, await seqFromTime(jsm, name, Number(req.beforeTimestampMs)));
        try {
          if (below > si.state.first_seq) removed += (await jsm.streams.purge(name, { seq: below })).purged;
          if (req.keepLast > 0n) {
            // The newest keep_last, counted by the server (records appended meanwhile count too).
            const keep =
              req.keepLast > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(req.keepLast);
            if (keep < si.state.messages) removed += (await jsm.streams.purge(name, { keep })).purged;
          }
        } catch (err) {
          if (!isStreamNotFound(err)) throw err;
          b.forget(name);
        }
        return report(jsm, name, removed);
      }, ctx),
  };
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

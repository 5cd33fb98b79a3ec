import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import type { CallContext } from '@prism/sdk';
import type { StreamBasicImpl } from '@prism/stream-basic';
import { GroupStart, type StreamConsumerGroupsImpl } from '@prism/stream-consumer-groups';
import type { StreamReplayImpl } from '@prism/stream-replay';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JsMsg,
  nanos,
  type OrderedConsumerOptions,
  RetentionPolicy,
} from 'nats';
import { isConsumerNotFound, isStreamNotFound, type NatsBackend } from './connection.js';
import type { DurableStreams } from './durable.js';
import { H_ID, metadataOf, newId, reservedOf, toHeaders } from './message.js';
import { encodeToken, type Names } from './names.js';
import { ackDeliveries, jsMessage } from './persistent.js';
import { parseAckSubject } from './pull.js';

type Start = { kind: 'offset'; offset: number } | { kind: 'time'; ms: number };

/**
 * stream_basic, stream_replay and stream_consumer_groups on JetStream. Each Prism stream is its own
 * limits-retention JetStream stream, so the offset of a record is its stream sequence (dense, from 1).
 * Reads use ordered (ephemeral, flow-controlled) consumers; a consumer group is a durable pull consumer
 * whose members pull from it, each with a bounded window of unacked records.
 */
export class JetStreams {
  constructor(
    private readonly backend: NatsBackend,
    private readonly names: Names,
    private readonly durable: DurableStreams,
  ) {}

  private ensure(stream: string): Promise<void> {
    return this.backend.ensureStream({
      name: this.names.stream(stream),
      subjects: [this.names.streamSubject(stream)],
      retention: RetentionPolicy.Limits,
    });
  }

  private groupConsumer(group: string): string {
    return `g-${encodeToken(group)}`;
  }

  basic(): StreamBasicImpl {
    const b = this.backend;
    return {
      append: (req) =>
        b.call(async () => {
          await this.ensure(req.stream);
          const id = newId();
          const ack = await b.js.publish(this.names.streamSubject(req.stream), req.payload, {
            headers: toHeaders(req.metadata, { [H_ID]: id }),
          });
          // The record's timestamp is the server's (what replay-by-time compares against).
          const stored = await (await b.jsm()).streams.getMessage(ack.stream, { seq: ack.seq });
          return { offset: BigInt(ack.seq), messageId: id, timestampMs: BigInt(stored.time.getTime()) };
        }),
      read: (req, call: CallContext) =>
        this.read(req.stream, { kind: 'offset', offset: Number(req.fromOffset) }, req, call.signal),
      trim: (req) =>
        b.call(async () => {
          const before = Number(req.beforeOffset);
          if (before <= 0) return {};
          try {
            // Purge with `seq` removes every message below it.
            await (await b.jsm()).streams.purge(this.names.stream(req.stream), { seq: before });
          } catch (err) {
            if (!isStreamNotFound(err)) throw err;
          }
          return {};
        }),
    };
  }

  replay(): StreamReplayImpl {
    return {
      replay: (req, call: CallContext) => {
        const start: Start =
          req.start.case === 'fromTimestampMs'
            ? { kind: 'time', ms: Number(req.start.value) }
            : { kind: 'offset', offset: Number(req.start.value ?? 0n) };
        return this.read(req.stream, start, req, call.signal);
      },
    };
  }

  private async *read(
    stream: string,
    start: Start,
    opts: { maxRecords: number; follow: boolean },
    signal: AbortSignal,
  ): AsyncGenerator<{ offset: bigint; message: ReturnType<typeof jsMessage> }> {
    const b = this.backend;
    const name = this.names.stream(stream);
    const last = await b.call(async () => {
      try {
        return (await (await b.jsm()).streams.info(name)).state.last_seq;
      } catch (err) {
        if (!isStreamNotFound(err)) throw err;
        b.forget(name);
        return undefined;
      }
    });
    if (last === undefined) {
      if (!opts.follow) return;
      await b.call(() => this.ensure(stream)); // a follower waits for the first record
    }
    const upTo = opts.follow ? Number.POSITIVE_INFINITY : (last ?? 0);
    if (start.kind === 'offset' && start.offset > upTo) return;
    if (upTo === 0) return;
    const options: Partial<OrderedConsumerOptions> =
      start.kind === 'time'
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(start.ms).toISOString() }
        : start.offset > 1
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.offset }
          : { deliver_policy: DeliverPolicy.All };
    const consumer = await b.call(() => b.js.consumers.get(name, options));
    let messages: ConsumerMessages | undefined;
    const stop = () => messages?.stop();
    signal.addEventListener('abort', stop, { once: true });
    let count = 0;
    try {
      messages = await b.call(() => consumer.consume({ max_messages: 64 }));
      if (signal.aborted) return;
      for await (const m of messages as AsyncIterable<JsMsg>) {
        if (m.seq > upTo) return;
        yield { offset: BigInt(m.seq), message: storedMessage(stream, m) };
        if (opts.maxRecords > 0 && ++count >= opts.maxRecords) return;
        // Caught up with the records present at the start (also when some were trimmed meanwhile).
        if (!opts.follow && (m.seq >= upTo || m.info.pending === 0)) return;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  }

  groups(): StreamConsumerGroupsImpl {
    const b = this.backend;
    return {
      readGroup: (req, call: CallContext) => this.readGroup(req, call.signal),
      ack: (req) =>
        b
          .call(() =>
            ackDeliveries(
              b,
              this.durable,
              this.names.stream(req.stream),
              this.groupConsumer(req.group),
              req.ackIds,
            ),
          )
          .then(() => ({})),
      deleteGroup: (req) =>
        b.call(async () => {
          try {
            const deleted = await (await b.jsm()).consumers.delete(
              this.names.stream(req.stream),
              this.groupConsumer(req.group),
            );
            return { deleted };
          } catch (err) {
            if (isConsumerNotFound(err) || isStreamNotFound(err)) return { deleted: false };
            throw err;
          }
        }),
    };
  }

  private async *readGroup(
    req: {
      stream: string;
      group: string;
      start: GroupStart;
      maxInFlight: number;
      claimTimeoutMs: bigint;
    },
    signal: AbortSignal,
  ) {
    const b = this.backend;
    const stream = this.names.stream(req.stream);
    const name = this.groupConsumer(req.group);
    let claimMs = orDefault(req.claimTimeoutMs, MESSAGING_DEFAULTS.claimTimeoutMs);
    await b.call(async () => {
      await this.ensure(req.stream);
      const jsm = await b.jsm();
      try {
        claimMs =
          Math.round(((await jsm.consumers.info(stream, name)).config.ack_wait ?? 0) / 1e6) || claimMs;
      } catch (err) {
        if (!isConsumerNotFound(err)) throw err;
        await jsm.consumers.add(stream, {
          durable_name: name,
          ack_policy: AckPolicy.Explicit,
          ack_wait: nanos(claimMs),
          deliver_policy: req.start === GroupStart.EARLIEST ? DeliverPolicy.All : DeliverPolicy.New,
          max_deliver: -1,
          max_ack_pending: -1,
        });
      }
    });
    const maxInFlight = orDefault(req.maxInFlight, MESSAGING_DEFAULTS.maxInFlight);
    for await (const m of this.durable.deliver(b, stream, name, maxInFlight, claimMs, signal)) {
      const token = m.reply ? parseAckSubject(m.reply) : undefined;
      yield {
        offset: BigInt(token?.streamSeq ?? 0),
        message: jsMessage(req.stream, m),
        ackId: m.reply ?? '',
        deliveryCount: token?.deliveryCount ?? 1,
      };
    }
  }
}

/** A record read through an ordered consumer. */
function storedMessage(stream: string, m: JsMsg) {
  return {
    id: reservedOf(m.headers, H_ID) ?? String(m.seq),
    topic: stream,
    payload: m.data,
    metadata: metadataOf(m.headers),
    // The ack subject carries the exact nanosecond timestamp (info.timestampNanos is a lossy double).
    timestampMs: BigInt(
      parseAckSubject((m as JsMsg & { reply?: string }).reply ?? '')?.timestampMs ??
        Math.floor(m.info.timestampNanos / 1e6),
    ),
  };
}

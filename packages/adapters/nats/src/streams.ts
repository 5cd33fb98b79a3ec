import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import type { CallContext } from '@prism/sdk';
import type { StreamBasicImpl } from '@prism/stream-basic';
import { GroupStart, type StreamConsumerGroupsImpl } from '@prism/stream-consumer-groups';
import type { StreamReplayImpl } from '@prism/stream-replay';
import { AckPolicy, DeliverPolicy, type Msg, nanos, RetentionPolicy } from 'nats';
import { isConsumerNotFound, isStreamNotFound, type NatsBackend } from './connection.js';
import type { DurableStreams } from './durable.js';
import { H_ID, metadataOf, newId, reservedOf, toHeaders } from './message.js';
import { encodeToken, type Names } from './names.js';
import { ackDeliveries, jsMessage } from './persistent.js';
import { type AckToken, parseAckSubject, pull, pullSome } from './pull.js';

type Start = { kind: 'offset'; offset: number } | { kind: 'time'; ms: number };

/**
 * stream_basic, stream_replay and stream_consumer_groups on JetStream. Each Prism stream is its own
 * limits-retention JetStream stream, so the offset of a record is its stream sequence (dense, from 1).
 * Reads use ordered (ephemeral, flow-controlled) consumers; a consumer group is a durable pull consumer
 * whose members pull from it, each with a bounded window of unacked records.
 */
/** How long one fetch of a following reader waits on the server for new records. */
const FOLLOW_WAIT_MS = 5_000;

export class JetStreams {
  constructor(
    private readonly backend: NatsBackend,
    private readonly names: Names,
    private readonly durable: DurableStreams,
  ) {}

  /** Creates the JetStream stream of a Prism stream unless it exists (no retention limits). */
  ensure(stream: string): Promise<void> {
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
      append: (req, ctx) =>
        b.call(async () => {
          const id = newId();
          const headers = toHeaders(req.metadata, { [H_ID]: id });
          b.checkMessage(req.payload, headers);
          await this.ensure(req.stream);
          const ack = await b.js.publish(this.names.streamSubject(req.stream), req.payload, { headers });
          // The record's timestamp is the server's (what replay-by-time compares against).
          const stored = await (await b.jsm()).streams.getMessage(ack.stream, { seq: ack.seq });
          return { offset: BigInt(ack.seq), messageId: id, timestampMs: BigInt(stored.time.getTime()) };
        }, ctx),
      read: (req, call: CallContext) =>
        this.read(req.stream, { kind: 'offset', offset: Number(req.fromOffset) }, req, call.signal),
      trim: (req, ctx) =>
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
        }, ctx),
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
    const startCfg =
      start.kind === 'time'
        ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(start.ms).toISOString() }
        : start.offset > 1
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.offset }
          : { deliver_policy: DeliverPolicy.All };
    // An ephemeral, unacknowledged consumer per read: the server removes it if we vanish.
    const jsm = await b.call(() => b.jsm());
    const consumer = await b.call(() =>
      jsm.consumers.add(name, {
        ...startCfg,
        ack_policy: AckPolicy.None,
        inactive_threshold: nanos(60_000),
        mem_storage: true,
      }),
    );
    let count = 0;
    try {
      while (!signal.aborted) {
        const want = opts.maxRecords > 0 ? Math.min(64, opts.maxRecords - count) : 64;
        // Pulled only when the client asked for more: at most one batch is held in memory.
        // Bounded: a follower's fetch waits up to 5 s on the server by design, on top of request_timeout_ms.
        const { messages } = await b.call(
          () =>
            opts.follow
              ? pullSome(b.conn, name, consumer.name, want, FOLLOW_WAIT_MS, signal)
              : pull(b.conn, name, consumer.name, { batch: want }, signal),
          undefined,
          opts.follow ? FOLLOW_WAIT_MS : 0,
        );
        if (messages.length === 0 && !opts.follow) return;
        for (const m of messages) {
          const token = parseAckSubject(m.reply ?? '');
          if (!token || token.streamSeq > upTo) return;
          yield { offset: BigInt(token.streamSeq), message: recordOf(stream, m, token) };
          if (opts.maxRecords > 0 && ++count >= opts.maxRecords) return;
          if (!opts.follow && token.streamSeq >= upTo) return;
        }
      }
    } finally {
      void jsm.consumers.delete(name, consumer.name).catch(() => {});
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
      deleteGroup: (req, ctx) =>
        b.call(async () => {
          this.durable.forget(this.names.stream(req.stream), this.groupConsumer(req.group));
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
        }, ctx),
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
    /** Which incarnation of the group this is (a deleted and recreated group is another). */
    let created = '';
    await b.call(async () => {
      await this.ensure(req.stream);
      const jsm = await b.jsm();
      try {
        const info = await jsm.consumers.info(stream, name);
        created = info.created;
        claimMs = Math.round((info.config.ack_wait ?? 0) / 1e6) || claimMs;
      } catch (err) {
        if (!isConsumerNotFound(err)) throw err;
        created = (
          await jsm.consumers.add(stream, {
            durable_name: name,
            ack_policy: AckPolicy.Explicit,
            ack_wait: nanos(claimMs),
            deliver_policy: req.start === GroupStart.EARLIEST ? DeliverPolicy.All : DeliverPolicy.New,
            max_deliver: -1,
            max_ack_pending: -1,
          })
        ).created;
      }
    });
    const maxInFlight = orDefault(req.maxInFlight, MESSAGING_DEFAULTS.maxInFlight);
    for await (const m of this.durable.deliver(b, stream, name, maxInFlight, claimMs, signal, created)) {
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

/** A record read through an ephemeral consumer. */
function recordOf(stream: string, m: Msg, token: AckToken) {
  return {
    id: reservedOf(m.headers, H_ID) ?? String(token.streamSeq),
    topic: stream,
    payload: m.data,
    metadata: metadataOf(m.headers),
    timestampMs: BigInt(token.timestampMs),
  };
}

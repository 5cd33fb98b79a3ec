// pubsub_filtering and pubsub_ordering on core NATS (at-most-once, like pubsub_basic in pubsub.ts).
//
// Filtering: the topic is the NATS subscription's subject (the server only sends the topic's messages); the
// Filter runs in the adapter on the message headers (the metadata), with @prism/sdk's reference evaluator,
// before the message enters the stream's bounded buffer, so non-matching messages never take buffer space.
//
// Ordering: an ordered message goes to the subject `prism.<ns>.o.<topic>.<key token>`, where the key token is
// the ordering key encoded into ONE subject token (encodeToken: injective, no '.', '*' or '>'), so topic
// "x" key "y.z" and topic "x.y" key "z" never meet, and the `o.` space is apart from pubsub_basic's `t.`.
// A subscription to every key is `…o.<topic>.*`; one limited to keys subscribes to each key's subject.
// Why the order holds: a nats-server processes the messages of one connection in order and hands each
// subject's messages to every subscribing connection in the order it processed them; PublishOrdered returns
// only after a PING/PONG round trip (flush), so a returned Publish was processed before any Publish that
// starts later, from any client of that server. Every subscription of a key thus sees one sequence. The
// client delivers one connection's messages in arrival order into each stream's own DroppingBuffer, which
// never reorders (it drops new messages when full) and never blocks the connection: a stream nobody reads
// never delays another. (In a NATS cluster, publishes of one key through different servers that overlap
// within the route latency are ordered by arrival at each server.)
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { MessageSchema } from '@prism/pubsub-basic';
import type { PubSubFilteringImpl } from '@prism/pubsub-filtering';
import { keySet, type OrderedMessageSchema, type PubSubOrderingImpl } from '@prism/pubsub-ordering';
import { type CallContext, compileFilter, DroppingBuffer, type PluginContext } from '@prism/sdk';
import type { Msg, Subscription } from 'nats';
import type { NatsBackend } from './connection.js';
import { H_ID, H_TS, metadataOf, newId, reservedOf, toHeaders } from './message.js';
import { decodeToken, encodeToken, type Names } from './names.js';

type Message = MessageInitShape<typeof MessageSchema>;
type Ordered = MessageInitShape<typeof OrderedMessageSchema>;
type Event<T> = {
  event: { case: 'subscribed'; value: { subscriptionId: string } } | { case: 'message'; value: T };
};

function toMessage(topic: string, msg: Msg, metadata = metadataOf(msg.headers)): Message {
  const ts = Number(reservedOf(msg.headers, H_TS));
  return {
    id: reservedOf(msg.headers, H_ID) ?? '',
    topic,
    payload: msg.data,
    metadata,
    timestampMs: BigInt(Number.isFinite(ts) ? ts : Date.now()),
  };
}

/** Subject scheme of ordered topics (`prism.<ns>.o.<topic>.<key token>`). */
export class OrderedSubjects {
  readonly #prefix: string;
  constructor(names: Names) {
    this.#prefix = `${names.root}o.`;
  }
  subject(topic: string, key: string): string {
    return `${this.#prefix}${topic}.${encodeToken(key)}`;
  }
  /** Every key of a topic. */
  allKeys(topic: string): string {
    return `${this.#prefix}${topic}.*`;
  }
  /** Topic and key of an ordered subject, or undefined outside the namespace's ordered space. */
  parse(subject: string): { topic: string; key: string } | undefined {
    if (!subject.startsWith(this.#prefix)) return undefined;
    const rest = subject.slice(this.#prefix.length);
    const dot = rest.lastIndexOf('.');
    if (dot <= 0) return undefined;
    return { topic: rest.slice(0, dot), key: decodeToken(rest.slice(dot + 1)) };
  }
}

/** pubsub_filtering and pubsub_ordering on core NATS. */
export class CorePubSubFlavours {
  readonly #ordered: OrderedSubjects;

  constructor(
    private readonly backend: NatsBackend,
    private readonly names: Names,
    private readonly ctx: PluginContext,
  ) {
    this.#ordered = new OrderedSubjects(names);
  }

  /**
   * A Subscribed event, then `convert(msg)` of every message on `subjects` that it does not map to
   * undefined (dropped before buffering), until cancelled.
   */
  async *#stream<T>(
    subjects: readonly string[],
    label: string,
    signal: AbortSignal,
    convert: (msg: Msg) => T | undefined,
  ): AsyncGenerator<Event<T>> {
    const nc = this.backend.conn;
    const buffer = new DroppingBuffer<T>({
      capacity: this.backend.config.subscription_buffer,
      signal,
      metrics: this.ctx.metrics,
      labels: { interface: label },
    });
    const subs: Subscription[] = [];
    buffer.onRelease(() => {
      for (const sub of subs) sub.unsubscribe();
    });
    for (const subject of subjects) {
      const sub = nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return buffer.fail(this.backend.map(err));
          const item = convert(msg);
          if (item !== undefined) buffer.push(item);
        },
      });
      subs.push(sub);
      // The connection closing ends the subscription: fail the stream instead of hanging.
      void sub.closed.then(() => buffer.fail(this.backend.map(new Error('subscription closed'))));
    }
    try {
      // Every SUB reached the server once a PING round trip completes: from then on nothing is missed.
      await this.backend.flush();
      yield {
        event: { case: 'subscribed', value: { subscriptionId: `${subjects[0]}#${subs[0]?.getID()}` } },
      };
      for await (const item of buffer) yield { event: { case: 'message', value: item } };
    } finally {
      await buffer.release();
      if (buffer.dropped > 0)
        this.ctx.logger.warn({ subjects, dropped: buffer.dropped }, 'slow subscriber: messages dropped');
    }
  }

  filtering(): PubSubFilteringImpl {
    return {
      subscribeFiltered: (req, call: CallContext) => {
        const matches = compileFilter(req.filter);
        return this.#stream([this.names.topicSubject(req.topic)], 'pubsub_filtering', call.signal, (msg) => {
          const metadata = metadataOf(msg.headers);
          return matches(metadata) ? toMessage(req.topic, msg, metadata) : undefined;
        });
      },
    };
  }

  ordering(): PubSubOrderingImpl {
    return {
      publishOrdered: async (req, ctx) => {
        const id = newId();
        const headers = toHeaders(req.metadata, { [H_ID]: id, [H_TS]: String(Date.now()) });
        this.backend.checkMessage(req.payload, headers);
        this.backend.conn.publish(this.#ordered.subject(req.topic, req.orderingKey), req.payload, {
          headers,
        });
        // The round trip is what orders this publish before any publish that starts after it returns.
        await this.backend.flush(ctx);
        return { messageId: id };
      },
      subscribeOrdered: (req, call: CallContext) => {
        const keys = keySet(req.orderingKeys);
        const subjects = keys
          ? [...keys].map((k) => this.#ordered.subject(req.topic, k))
          : [this.#ordered.allKeys(req.topic)];
        return this.#stream<Ordered>(subjects, 'pubsub_ordering', call.signal, (msg) => {
          const where = this.#ordered.parse(msg.subject);
          if (where === undefined || where.topic !== req.topic) return undefined;
          return { message: toMessage(req.topic, msg), orderingKey: where.key };
        });
      },
    };
  }
}

import type { MessageInitShape } from '@bufbuild/protobuf';
import type { MessageSchema, PubSubBasicImpl } from '@prism/pubsub-basic';
import type { PubSubWildcardsImpl } from '@prism/pubsub-wildcards';
import { type CallContext, DroppingBuffer, type PluginContext } from '@prism/sdk';
import type { Msg, Subscription } from 'nats';
import type { NatsBackend } from './connection.js';
import { H_ID, H_TS, metadataOf, newId, reservedOf, toHeaders } from './message.js';
import type { Names } from './names.js';

type Message = MessageInitShape<typeof MessageSchema>;

/**
 * pubsub_basic and pubsub_wildcards on core NATS (at-most-once). Topics map 1:1 to subjects under the
 * namespace prefix, and the contract's pattern syntax (`*`, trailing `>`) is NATS' own, so patterns map
 * without translation. Each subscription is a NATS subscription feeding a bounded buffer: when the
 * client reads slower than messages arrive, new messages are dropped and counted, never buffered
 * without limit.
 */
export class CorePubSub {
  constructor(
    private readonly backend: NatsBackend,
    private readonly names: Names,
    private readonly ctx: PluginContext,
  ) {}

  async publish(
    topic: string,
    payload: Uint8Array,
    metadata: Record<string, string>,
    ctx?: Pick<CallContext, 'deadline'>,
  ): Promise<{ messageId: string }> {
    const id = newId();
    const nc = this.backend.conn;
    const headers = toHeaders(metadata, { [H_ID]: id, [H_TS]: String(Date.now()) });
    this.backend.checkMessage(payload, headers);
    nc.publish(this.names.topicSubject(topic), payload, { headers });
    // A round trip makes sure the server took the message (the client otherwise buffers while reconnecting).
    await this.backend.flush(ctx);
    return { messageId: id };
  }

  /** Streams a Subscribed event, then every message of subjects matching `subject`, until cancelled. */
  async *subscribe(subject: string, label: string, signal: AbortSignal): AsyncGenerator<Event> {
    const nc = this.backend.conn;
    const buffer = new DroppingBuffer<Msg>({
      capacity: this.backend.config.subscription_buffer,
      signal,
      metrics: this.ctx.metrics,
      labels: { interface: label },
    });
    const sub: Subscription = nc.subscribe(subject, {
      callback: (err, msg) => (err ? buffer.fail(this.backend.map(err)) : buffer.push(msg)),
    });
    buffer.onRelease(() => sub.unsubscribe());
    // The connection closing ends the subscription: fail the stream instead of hanging.
    void sub.closed.then(() => buffer.fail(this.backend.map(new Error('subscription closed'))));
    try {
      // The SUB reached the server once a PING round trip completes: from then on nothing is missed.
      await this.backend.flush();
      yield { event: { case: 'subscribed', value: { subscriptionId: `${subject}#${sub.getID()}` } } };
      for await (const msg of buffer) {
        const topic = this.names.topicOf(msg.subject);
        if (topic !== undefined) yield { event: { case: 'message', value: toMessage(topic, msg) } };
      }
    } finally {
      await buffer.release();
      if (buffer.dropped > 0)
        this.ctx.logger.warn({ subject, dropped: buffer.dropped }, 'slow subscriber: messages dropped');
    }
  }

  basic(): PubSubBasicImpl {
    return {
      publish: (req, ctx) => this.publish(req.topic, req.payload, req.metadata, ctx),
      subscribe: (req, call: CallContext) =>
        this.subscribe(this.names.topicSubject(req.topic), 'pubsub_basic', call.signal),
    };
  }

  wildcards(): PubSubWildcardsImpl {
    return {
      subscribePattern: (req, call: CallContext) =>
        this.subscribe(this.names.topicSubject(req.pattern), 'pubsub_wildcards', call.signal),
    };
  }
}

type Event = {
  event: { case: 'subscribed'; value: { subscriptionId: string } } | { case: 'message'; value: Message };
};

function toMessage(topic: string, msg: Msg): Message {
  const ts = Number(reservedOf(msg.headers, H_TS));
  return {
    id: reservedOf(msg.headers, H_ID) ?? '',
    topic,
    payload: msg.data,
    metadata: metadataOf(msg.headers),
    timestampMs: BigInt(Number.isFinite(ts) ? ts : Date.now()),
  };
}

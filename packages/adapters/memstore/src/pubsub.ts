// In-process publish/subscribe for MemStore: pubsub_basic and pubsub_wildcards (at-most-once).
// Delivery is synchronous into each subscription's bounded DroppingBuffer, so a slow stream drops (and
// counts) messages instead of growing memory; per-publisher order holds because delivery is in call order.
import { randomUUID } from 'node:crypto';
import type { Message, PubSubBasicImpl } from '@prism/pubsub-basic';
import { type PubSubWildcardsImpl, topicMatches } from '@prism/pubsub-wildcards';
import { type CallContext, DroppingBuffer, type PluginMetrics } from '@prism/sdk';

/** Messages a subscription stream holds for a slow client before dropping. */
export const SUBSCRIPTION_BUFFER = 1024;

interface Subscriber {
  readonly matches: (topic: string) => boolean;
  readonly deliver: (message: Message) => void;
}

/** One namespace's topics and subscribers. */
export class MemBroker {
  readonly #subscribers = new Set<Subscriber>();

  /** Active subscriptions (for health/metrics). */
  get subscriptions(): number {
    return this.#subscribers.size;
  }

  /** Delivers a message to every matching subscriber and returns it. */
  publish(topic: string, payload: Uint8Array, metadata: Record<string, string>): Message {
    const message = {
      $typeName: 'prism.common.v1.Message',
      id: randomUUID(),
      topic,
      payload: payload.slice(),
      metadata: { ...metadata },
      timestampMs: BigInt(Date.now()),
    } satisfies Message;
    for (const s of this.#subscribers) if (s.matches(topic)) s.deliver(message);
    return message;
  }

  /** Registers a subscriber; returns its release function. */
  subscribe(matches: (topic: string) => boolean, deliver: (message: Message) => void): () => void {
    const sub: Subscriber = { matches, deliver };
    this.#subscribers.add(sub);
    return () => this.#subscribers.delete(sub);
  }

  /** Drops every subscriber (instance close). */
  close(): void {
    this.#subscribers.clear();
  }
}

type Event = {
  event: { case: 'subscribed'; value: { subscriptionId: string } } | { case: 'message'; value: Message };
};

/** The subscription stream shared by Subscribe and SubscribePattern. */
async function* subscription(
  broker: MemBroker,
  matches: (topic: string) => boolean,
  ctx: CallContext,
  metrics: PluginMetrics,
  iface: string,
): AsyncGenerator<Event> {
  const buffer = new DroppingBuffer<Message>({
    capacity: SUBSCRIPTION_BUFFER,
    signal: ctx.signal,
    metrics,
    labels: { backend: 'memstore', interface: iface },
  });
  buffer.onRelease(broker.subscribe(matches, (m) => buffer.push(m)));
  try {
    yield { event: { case: 'subscribed', value: { subscriptionId: randomUUID() } } };
    for await (const message of buffer) yield { event: { case: 'message', value: message } };
  } finally {
    await buffer.release();
  }
}

/** pubsub_basic over a MemBroker. */
export function memPubSub(broker: MemBroker, metrics: PluginMetrics): PubSubBasicImpl {
  return {
    publish: (req) => ({ messageId: broker.publish(req.topic, req.payload, req.metadata).id }),
    subscribe: (req, ctx) => subscription(broker, (t) => t === req.topic, ctx, metrics, 'pubsub_basic'),
  };
}

/** pubsub_wildcards over a MemBroker (patterns validated by the interface). */
export function memPubSubWildcards(broker: MemBroker, metrics: PluginMetrics): PubSubWildcardsImpl {
  return {
    subscribePattern: (req, ctx) =>
      subscription(broker, (t) => topicMatches(req.pattern, t), ctx, metrics, 'pubsub_wildcards'),
  };
}

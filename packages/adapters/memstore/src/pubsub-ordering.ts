// pubsub_ordering for MemStore (at-most-once, per-key order). Ordered topics are a broker of their own
// (separate from pubsub_basic's). Delivery is synchronous, in Publish call order, into each stream's own
// bounded DroppingBuffer: so every key (indeed every topic) has one sequence that all streams see in the same
// order, a stream that is not read only fills (and then drops from) its own buffer, never delaying others,
// and a dropping buffer never reorders what it keeps.
import { randomUUID } from 'node:crypto';
import type { Message } from '@prism/pubsub-basic';
import { keySet, type OrderedMessage, type PubSubOrderingImpl } from '@prism/pubsub-ordering';
import { type CallContext, DroppingBuffer, type PluginMetrics } from '@prism/sdk';
import { SUBSCRIPTION_BUFFER } from './pubsub.js';

interface OrderedSubscriber {
  readonly topic: string;
  readonly keys: ReadonlySet<string> | undefined;
  readonly deliver: (message: OrderedMessage) => void;
}

/** One namespace's ordered topics and their subscribers. */
export class MemOrderedBroker {
  readonly #subscribers = new Set<OrderedSubscriber>();

  publish(topic: string, orderingKey: string, payload: Uint8Array, metadata: Record<string, string>): string {
    const message = {
      $typeName: 'prism.common.v1.Message',
      id: randomUUID(),
      topic,
      payload: payload.slice(),
      metadata: { ...metadata },
      timestampMs: BigInt(Date.now()),
    } satisfies Message;
    const ordered = {
      $typeName: 'prism.pubsub.v1.OrderedMessage',
      message,
      orderingKey,
    } satisfies OrderedMessage;
    for (const s of this.#subscribers)
      if (s.topic === topic && (s.keys === undefined || s.keys.has(orderingKey))) s.deliver(ordered);
    return message.id;
  }

  subscribe(sub: OrderedSubscriber): () => void {
    this.#subscribers.add(sub);
    return () => this.#subscribers.delete(sub);
  }

  close(): void {
    this.#subscribers.clear();
  }
}

/** pubsub_ordering over a MemOrderedBroker. */
export function memPubSubOrdering(broker: MemOrderedBroker, metrics: PluginMetrics): PubSubOrderingImpl {
  return {
    publishOrdered: (req) => ({
      messageId: broker.publish(req.topic, req.orderingKey, req.payload, req.metadata),
    }),
    async *subscribeOrdered(req, ctx: CallContext) {
      const buffer = new DroppingBuffer<OrderedMessage>({
        capacity: SUBSCRIPTION_BUFFER,
        signal: ctx.signal,
        metrics,
        labels: { backend: 'memstore', interface: 'pubsub_ordering' },
      });
      buffer.onRelease(
        broker.subscribe({
          topic: req.topic,
          keys: keySet(req.orderingKeys),
          deliver: (m) => buffer.push(m),
        }),
      );
      try {
        yield { event: { case: 'subscribed', value: { subscriptionId: randomUUID() } } };
        for await (const message of buffer) yield { event: { case: 'message', value: message } };
      } finally {
        await buffer.release();
      }
    },
  };
}

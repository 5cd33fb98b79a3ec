// pubsub_filtering for MemStore: a subscriber on the pubsub_basic broker whose filter (compiled once, with
// @prism/sdk's reference evaluator) runs before the message enters the stream's bounded buffer, so messages
// that do not match never take buffer space and never reach the client.
import { randomUUID } from 'node:crypto';
import type { Message } from '@prism/pubsub-basic';
import type { PubSubFilteringImpl } from '@prism/pubsub-filtering';
import { type CallContext, compileFilter, DroppingBuffer, type PluginMetrics } from '@prism/sdk';
import { type MemBroker, SUBSCRIPTION_BUFFER } from './pubsub.js';

/** pubsub_filtering over the MemBroker that pubsub_basic publishes to. */
export function memPubSubFiltering(broker: MemBroker, metrics: PluginMetrics): PubSubFilteringImpl {
  return {
    async *subscribeFiltered(req, ctx: CallContext) {
      const matches = compileFilter(req.filter);
      const buffer = new DroppingBuffer<Message>({
        capacity: SUBSCRIPTION_BUFFER,
        signal: ctx.signal,
        metrics,
        labels: { backend: 'memstore', interface: 'pubsub_filtering' },
      });
      buffer.onRelease(
        broker.subscribe(
          (t) => t === req.topic,
          (m) => {
            if (matches(m.metadata)) buffer.push(m);
          },
        ),
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

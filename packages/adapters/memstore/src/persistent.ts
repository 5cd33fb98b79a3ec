// MemStore durable pub/sub (pubsub_persistent): each topic is an in-memory log, each durable subscription
// a consumer group on it created at the end of the log, each SubscribeDurable stream a member of that group.
// Durable across client disconnects, NOT across process restarts (MemStore keeps nothing on disk).
import { randomUUID } from 'node:crypto';
import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import type { PubSubPersistentImpl } from '@prism/pubsub-persistent';
import type { MemLog, MemLogs } from './log.js';

/** Drops records every subscription of the topic has acked, so memory follows the backlog. */
function compact(log: MemLog): void {
  let low = log.next;
  for (const g of log.groups.values()) if (g.lowWater < low) low = g.lowWater;
  log.trim(low);
}

/** pubsub_persistent over MemLogs (a set separate from the streams'). */
export function memPersistent(topics: MemLogs): PubSubPersistentImpl {
  return {
    publishPersistent: (req) => {
      const log = topics.get(req.topic);
      // No durable subscription yet: nobody is owed this message.
      if (!log || log.groups.size === 0) return { messageId: randomUUID() };
      return { messageId: log.append(req.topic, req.payload, req.metadata).message.id };
    },
    subscribeDurable: async function* (req, ctx) {
      const log = topics.ensure(req.topic);
      const group = log.group(req.subscription, true);
      const member = group.join();
      const maxInFlight = req.maxInFlight || MESSAGING_DEFAULTS.maxInFlight;
      const ackWaitMs = orDefault(req.ackWaitMs, MESSAGING_DEFAULTS.ackWaitMs);
      try {
        yield { event: { case: 'subscribed', value: { subscriptionId: `${req.subscription}/${member}` } } };
        // A deleted subscription ends its streams.
        while (!ctx.signal.aborted && !topics.notifier.closed && log.groups.get(req.subscription) === group) {
          const got = group.claim(member, maxInFlight, ackWaitMs);
          if (typeof got === 'object') {
            const message = { ...got.record.message, payload: got.record.message.payload.slice() };
            yield {
              event: {
                case: 'message',
                value: { message, ackId: got.ackId, deliveryCount: got.deliveryCount },
              },
            };
            continue;
          }
          await topics.notifier.wait(ctx.signal, got === undefined ? 30_000 : got - Date.now());
        }
      } finally {
        group.leave(member);
      }
    },
    ack: (req) => {
      const log = topics.get(req.topic);
      const group = log?.groups.get(req.subscription);
      if (log && group) {
        group.ack(req.ackIds);
        compact(log);
      }
      return {};
    },
    deleteSubscription: (req) => {
      const log = topics.get(req.topic);
      const deleted = log?.groups.delete(req.subscription) ?? false;
      if (log && deleted) {
        compact(log);
        topics.notifier.notify();
      }
      return { deleted };
    },
  };
}

import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import type { PubSubPersistentImpl } from '@prism/pubsub-persistent';
import type { CallContext } from '@prism/sdk';
import { AckPolicy, DeliverPolicy, type Msg, nanos, RetentionPolicy } from 'nats';
import { isConsumerNotFound, isStreamNotFound, type NatsBackend } from './connection.js';
import type { DurableStreams } from './durable.js';
import { H_ID, metadataOf, newId, reservedOf, toHeaders } from './message.js';
import { encodeToken, fitName, type Names } from './names.js';
import { parseAckSubject, sendAck } from './pull.js';

/** A delivered JetStream message as a prism.common.v1.Message. */
export function jsMessage(topic: string, m: Msg) {
  const token = m.reply ? parseAckSubject(m.reply) : undefined;
  return {
    id: reservedOf(m.headers, H_ID) ?? String(token?.streamSeq ?? ''),
    topic,
    payload: m.data,
    metadata: metadataOf(m.headers),
    timestampMs: BigInt(token?.timestampMs ?? Date.now()),
  };
}

/** Acks deliveries of one consumer; ids that are not ack subjects of that consumer are ignored. */
export async function ackDeliveries(
  backend: NatsBackend,
  durable: DurableStreams,
  stream: string,
  consumer: string,
  ids: readonly string[],
): Promise<void> {
  const nc = backend.conn;
  const mine = ids.filter((id) => {
    const t = parseAckSubject(id);
    return t?.stream === stream && t.consumer === consumer;
  });
  for (const id of mine) sendAck(nc, id, '+ACK');
  // A PING round trip: the server has processed the acks when it answers.
  await backend.flush();
  durable.acked(mine);
}

/**
 * pubsub_persistent on JetStream: one interest-retention stream per namespace holds every topic
 * (subjects `prism.<ns>.dt.<topic>`); a durable subscription is a durable pull consumer filtered on its
 * topic, so each subscription gets every message (fan-out) and streams on the same subscription share
 * them. A message is kept until every subscription acked it.
 */
export class PersistentPubSub {
  constructor(
    private readonly backend: NatsBackend,
    private readonly names: Names,
    private readonly durable: DurableStreams,
  ) {}

  private ensure(): Promise<void> {
    return this.backend.ensureStream({
      name: this.names.durableTopicsStream,
      subjects: [`${this.names.root}dt.>`],
      retention: RetentionPolicy.Interest,
    });
  }

  private consumer(topic: string, subscription: string): string {
    return fitName(`${encodeToken(topic)}__${encodeToken(subscription)}`);
  }

  impl(): PubSubPersistentImpl {
    const b = this.backend;
    return {
      publishPersistent: (req, ctx) =>
        b.call(async () => {
          const id = newId();
          const headers = toHeaders(req.metadata, { [H_ID]: id });
          b.checkMessage(req.payload, headers);
          await this.ensure();
          await b.js.publish(this.names.durableTopicSubject(req.topic), req.payload, { headers });
          return { messageId: id };
        }, ctx),

      subscribeDurable: (req, call: CallContext) => this.subscribe(req, call.signal),

      ack: (req) =>
        b
          .call(() =>
            ackDeliveries(
              b,
              this.durable,
              this.names.durableTopicsStream,
              this.consumer(req.topic, req.subscription),
              req.ackIds,
            ),
          )
          .then(() => ({})),

      deleteSubscription: (req, ctx) =>
        b.call(async () => {
          const jsm = await b.jsm();
          this.durable.forget(this.names.durableTopicsStream, this.consumer(req.topic, req.subscription));
          try {
            return {
              deleted: await jsm.consumers.delete(
                this.names.durableTopicsStream,
                this.consumer(req.topic, req.subscription),
              ),
            };
          } catch (err) {
            if (isConsumerNotFound(err) || isStreamNotFound(err)) return { deleted: false };
            throw err;
          }
        }, ctx),
    };
  }

  private async *subscribe(
    req: { topic: string; subscription: string; ackWaitMs: bigint; maxInFlight: number },
    signal: AbortSignal,
  ) {
    const b = this.backend;
    const stream = this.names.durableTopicsStream;
    const name = this.consumer(req.topic, req.subscription);
    let ackWaitMs = orDefault(req.ackWaitMs, MESSAGING_DEFAULTS.ackWaitMs);
    /** Which incarnation of the consumer this is (a deleted and recreated subscription is another). */
    let created = '';
    await b.call(async () => {
      await this.ensure();
      const jsm = await b.jsm();
      try {
        // An existing subscription keeps the ack wait it was created with.
        const info = await jsm.consumers.info(stream, name);
        created = info.created;
        ackWaitMs = Math.round((info.config.ack_wait ?? 0) / 1e6) || ackWaitMs;
      } catch (err) {
        if (!isConsumerNotFound(err)) throw err;
        created = (
          await jsm.consumers.add(stream, {
            durable_name: name,
            filter_subject: this.names.durableTopicSubject(req.topic),
            ack_policy: AckPolicy.Explicit,
            ack_wait: nanos(ackWaitMs),
            deliver_policy: DeliverPolicy.New,
            max_deliver: -1,
            max_ack_pending: -1,
          })
        ).created;
      }
    });
    yield {
      event: { case: 'subscribed' as const, value: { subscriptionId: `${req.topic}/${req.subscription}` } },
    };
    const maxInFlight = orDefault(req.maxInFlight, MESSAGING_DEFAULTS.maxInFlight);
    for await (const m of this.durable.deliver(b, stream, name, maxInFlight, ackWaitMs, signal, created)) {
      const token = m.reply ? parseAckSubject(m.reply) : undefined;
      yield {
        event: {
          case: 'message' as const,
          value: {
            message: jsMessage(req.topic, m),
            ackId: m.reply ?? '',
            deliveryCount: token?.deliveryCount ?? 1,
          },
        },
      };
    }
  }
}

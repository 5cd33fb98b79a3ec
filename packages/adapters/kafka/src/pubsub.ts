// pubsub_basic on Kafka (at-most-once): Publish produces to partition 0 of `<prefix>.<ns>.<topic>`; all
// subscriptions of one topic in this instance share one group-less consumer ("tail") that is assigned at
// the end of the log, so 100 subscribers cost one consumer. Each subscription records the high watermarks
// at subscribe time and gets exactly the records written after that.
import { randomUUID } from 'node:crypto';
import type { KafkaConsumer, Message as KafkaMessage } from '@confluentinc/kafka-javascript';
import type { PubSubBasicImpl } from '@prism/pubsub-basic';
import { DroppingBuffer, type PluginContext } from '@prism/sdk';
import { type KafkaBackend, mapKafkaError, recordId, toMessage } from './client.js';
import { tailConsumer } from './tail.js';

type Msg = ReturnType<typeof toMessage>;

interface Subscription {
  readonly buffer: DroppingBuffer<Msg>;
  /** Per partition: the first offset this subscription must receive. */
  readonly from: ReadonlyMap<number, number>;
}

/** One shared consumer following the end of a topic for every local subscription of it. */
class TopicTail {
  readonly subs = new Set<Subscription>();
  partitions: number[] = [];
  #consumer: KafkaConsumer | undefined;

  constructor(
    private readonly backend: KafkaBackend,
    readonly topic: string,
    private readonly name: string,
  ) {}

  async open(): Promise<void> {
    await this.backend.ensureTopic(this.topic);
    this.partitions = (await this.backend.partitions(this.topic)) ?? [0];
    // At-most-once: the subscriptions' buffers drop what a slow client can't take.
    this.#consumer = await tailConsumer(this.backend, this.topic, this.partitions, (m) => this.#deliver(m));
  }

  #deliver(m: KafkaMessage): void {
    let msg: Msg | undefined;
    for (const sub of this.subs) {
      if (m.offset < (sub.from.get(m.partition) ?? 0)) continue;
      msg ??= toMessage(m, this.name);
      sub.buffer.push(msg);
    }
  }

  async close(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    if (consumer) await this.backend.closeConsumer(consumer);
  }
}

/** pubsub_basic over Kafka topics. */
export class KafkaPubSub {
  readonly #tails = new Map<string, Promise<TopicTail>>();

  constructor(
    private readonly backend: KafkaBackend,
    private readonly ctx: PluginContext,
  ) {}

  /** A started tail of `topic`, shared with other subscriptions. */
  #tail(topic: string, name: string): Promise<TopicTail> {
    let tail = this.#tails.get(topic);
    if (!tail) {
      const t = new TopicTail(this.backend, topic, name);
      tail = t.open().then(() => t);
      this.#tails.set(topic, tail);
      tail.catch(() => {
        this.#tails.delete(topic);
        void t.close();
      });
    }
    return tail;
  }

  async #detach(tail: TopicTail, sub: Subscription): Promise<void> {
    tail.subs.delete(sub);
    if (tail.subs.size > 0) return;
    // Last local subscriber gone: release the consumer (a later Subscribe starts a fresh tail).
    if ((await this.#tails.get(tail.topic)?.catch(() => undefined)) === tail) this.#tails.delete(tail.topic);
    await tail.close();
  }

  impl(): PubSubBasicImpl {
    return {
      publish: async (req, ctx) => {
        const topic = this.backend.topic(req.topic);
        try {
          await this.backend.bounded(this.backend.ensureTopic(topic), ctx);
          const d = await this.backend.produce(topic, 0, req.payload, req.metadata, ctx);
          return { messageId: recordId(d.partition, d.offset) };
        } catch (err) {
          throw mapKafkaError(err, `publish to "${req.topic}"`);
        }
      },
      subscribe: (req, call) => this.#subscribe(req.topic, call.signal),
    };
  }

  async *#subscribe(name: string, signal: AbortSignal) {
    const topic = this.backend.topic(name);
    const buffer = new DroppingBuffer<Msg>({
      capacity: this.backend.config.subscription_buffer,
      signal,
      metrics: this.ctx.metrics,
      labels: { interface: 'pubsub_basic' },
    });
    try {
      const tail = await this.#tail(topic, name);
      const highs = await Promise.all(tail.partitions.map((p) => this.backend.watermarks(topic, p)));
      const sub: Subscription = {
        buffer,
        from: new Map(tail.partitions.map((p, i) => [p, highs[i]!.highOffset])),
      };
      tail.subs.add(sub);
      buffer.onRelease(() => this.#detach(tail, sub));
      yield { event: { case: 'subscribed' as const, value: { subscriptionId: randomUUID() } } };
      for await (const message of buffer) yield { event: { case: 'message' as const, value: message } };
    } catch (err) {
      throw mapKafkaError(err, `subscribe to "${name}"`);
    } finally {
      await buffer.release();
    }
  }

  /** Releases every tail (instance close). */
  async close(): Promise<void> {
    const tails = await Promise.all([...this.#tails.values()].map((t) => t.catch(() => undefined)));
    this.#tails.clear();
    await Promise.all(tails.map((t) => t?.close()));
  }
}

// pubsub_ordering on Kafka (at-most-once, per-key order): an ordered topic is the Kafka topic
// `<prefix>.<ns>..ordered.<topic>` (a pubsub_basic topic never starts with a dot, so the two spaces cannot
// meet) with `ordering_partitions` partitions. PublishOrdered routes the ordering key to a partition with
// Kafka's default partitioner (murmur2, as stream_partitioning) and stores it as the record key: one key's
// records sit in one partition, in the order the broker accepted them (the idempotent producer keeps it
// across retries), while keys on other partitions flow in parallel. All subscriptions of one ordered topic
// in this instance share one group-less consumer assigned at the end of every partition; each has its own
// bounded buffer (a slow stream drops, counted, and never holds the others) and its key filter.
import { randomUUID } from 'node:crypto';
import type { KafkaConsumer, Message as KafkaMessage } from '@confluentinc/kafka-javascript';
import { keySet, type PubSubOrderingImpl } from '@prism/pubsub-ordering';
import { DroppingBuffer, type PluginContext, unavailable } from '@prism/sdk';
import { partitionForKey } from '@prism/stream-partitioning';
import { type KafkaBackend, mapKafkaError, recordId, toMessage } from './client.js';
import { tailConsumer } from './tail.js';

type Ordered = { message: ReturnType<typeof toMessage>; orderingKey: string };

interface Subscription {
  readonly buffer: DroppingBuffer<Ordered>;
  /** Per partition: the first offset this subscription must receive. */
  readonly from: ReadonlyMap<number, number>;
  /** Keys it is limited to; undefined = every key. */
  readonly keys: ReadonlySet<string> | undefined;
}

/** Marker between the namespace prefix and an ordered topic's name (topics never start with a dot). */
const ORDERED = '.ordered.';

/** The record key of a consumed record as the ordering key. */
const keyOf = (m: KafkaMessage): string =>
  m.key === undefined || m.key === null ? '' : typeof m.key === 'string' ? m.key : m.key.toString('utf8');

/** One shared consumer following the end of every partition of an ordered topic. */
class OrderedTail {
  readonly subs = new Set<Subscription>();
  partitions: number[] = [];
  #consumer: KafkaConsumer | undefined;

  constructor(
    private readonly backend: KafkaBackend,
    private readonly source: KafkaOrdering,
    readonly topic: string,
    private readonly name: string,
  ) {}

  async open(): Promise<void> {
    this.partitions = await this.source.partitionsOf(this.topic);
    this.#consumer = await tailConsumer(this.backend, this.topic, this.partitions, (m) => this.#deliver(m));
  }

  #deliver(m: KafkaMessage): void {
    let out: Ordered | undefined;
    let key: string | undefined;
    for (const sub of this.subs) {
      if (m.offset < (sub.from.get(m.partition) ?? 0)) continue;
      key ??= keyOf(m);
      if (sub.keys && !sub.keys.has(key)) continue;
      out ??= { message: toMessage(m, this.name), orderingKey: key };
      sub.buffer.push(out);
    }
  }

  async close(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    if (consumer) await this.backend.closeConsumer(consumer);
  }
}

/** pubsub_ordering over multi-partition Kafka topics. */
export class KafkaOrdering {
  readonly #tails = new Map<string, Promise<OrderedTail>>();
  /** Partition ids per ordered topic (created by us or found; Kafka partition counts only grow). */
  readonly #partitions = new Map<string, Promise<number[]>>();

  constructor(
    private readonly backend: KafkaBackend,
    private readonly ctx: PluginContext,
  ) {}

  /** Kafka topic of an ordered topic. */
  topic(name: string): string {
    return this.backend.topic(`${ORDERED}${name}`);
  }

  /** Partitions of an ordered topic, creating it (with `ordering_partitions`) on first use. */
  partitionsOf(topic: string): Promise<number[]> {
    let pending = this.#partitions.get(topic);
    if (!pending) {
      pending = (async () => {
        await this.backend.ensureTopic(topic, this.backend.config.ordering_partitions);
        // A just-created topic may take a moment to show in the client's metadata.
        for (let i = 0; ; i++) {
          const ids = await this.backend.partitions(topic);
          if (ids) return ids;
          if (i >= 40)
            throw unavailable(`kafka topic "${topic}" has no partitions in the cluster metadata yet`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      this.#partitions.set(topic, pending);
      pending.catch(() => this.#partitions.delete(topic));
    }
    return pending;
  }

  /** A started tail of `topic`, shared with other subscriptions. */
  #tail(topic: string, name: string): Promise<OrderedTail> {
    let tail = this.#tails.get(topic);
    if (!tail) {
      const t = new OrderedTail(this.backend, this, topic, name);
      tail = t.open().then(() => t);
      this.#tails.set(topic, tail);
      tail.catch(() => {
        this.#tails.delete(topic);
        void t.close();
      });
    }
    return tail;
  }

  async #detach(tail: OrderedTail, sub: Subscription): Promise<void> {
    tail.subs.delete(sub);
    if (tail.subs.size > 0) return;
    if ((await this.#tails.get(tail.topic)?.catch(() => undefined)) === tail) this.#tails.delete(tail.topic);
    await tail.close();
  }

  impl(): PubSubOrderingImpl {
    return {
      publishOrdered: async (req, ctx) => {
        const topic = this.topic(req.topic);
        try {
          const ids = await this.backend.bounded(this.partitionsOf(topic), ctx);
          const key = Buffer.from(req.orderingKey, 'utf8');
          const partition = ids[partitionForKey(key, ids.length)]!;
          const d = await this.backend.produce(topic, partition, req.payload, req.metadata, ctx, key);
          return { messageId: recordId(d.partition, d.offset) };
        } catch (err) {
          throw mapKafkaError(err, `publish to ordered topic "${req.topic}"`);
        }
      },
      subscribeOrdered: (req, call) => this.#subscribe(req.topic, req.orderingKeys, call.signal),
    };
  }

  async *#subscribe(name: string, keys: readonly string[], signal: AbortSignal) {
    const topic = this.topic(name);
    const buffer = new DroppingBuffer<Ordered>({
      capacity: this.backend.config.subscription_buffer,
      signal,
      metrics: this.ctx.metrics,
      labels: { interface: 'pubsub_ordering' },
    });
    try {
      const tail = await this.#tail(topic, name);
      const highs = await Promise.all(tail.partitions.map((p) => this.backend.watermarks(topic, p)));
      const sub: Subscription = {
        buffer,
        from: new Map(tail.partitions.map((p, i) => [p, highs[i]!.highOffset])),
        keys: keySet(keys),
      };
      tail.subs.add(sub);
      buffer.onRelease(() => this.#detach(tail, sub));
      yield { event: { case: 'subscribed' as const, value: { subscriptionId: randomUUID() } } };
      for await (const value of buffer) yield { event: { case: 'message' as const, value } };
    } catch (err) {
      throw mapKafkaError(err, `subscribe to ordered topic "${name}"`);
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

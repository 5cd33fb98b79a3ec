// stream_partitioning on Kafka: a stream is the topic `<prefix>.<ns>.<stream>` with all its partitions.
// Keyed appends pick the partition with Kafka's default partitioner (murmur2, computed here, so Java and
// librdkafka clients using murmur2 agree) and carry the key as the record key; ReadPartition is the stream
// reader on one partition; group reading uses the Kafka group protocol (see groups.ts).
import { alreadyExists, unavailable } from '@prism/sdk';
import {
  partitionForKey,
  partitionOutOfRange,
  type StreamPartitioningImpl,
} from '@prism/stream-partitioning';
import { type KafkaBackend, mapKafkaError, recordId } from './client.js';
import type { KafkaGroups } from './groups.js';
import type { KafkaStreams } from './streams.js';

/** stream_partitioning over Kafka topics. */
export class KafkaPartitioning {
  /** Partition counts seen per topic (Kafka counts only grow; refreshed when a partition looks out of range). */
  readonly #counts = new Map<string, number>();

  constructor(
    private readonly backend: KafkaBackend,
    private readonly streams: KafkaStreams,
    private readonly groups: KafkaGroups,
  ) {}

  /** Partition count of `topic` (0 when it does not exist). */
  async #count(topic: string, fresh = false): Promise<number> {
    const cached = this.#counts.get(topic);
    if (cached !== undefined && !fresh) return cached;
    const n = (await this.backend.partitions(topic))?.length ?? 0;
    if (n > 0) this.#counts.set(topic, n);
    return n;
  }

  /** Partition count of a topic that exists (just created: waits until the metadata shows it). */
  async #settledCount(topic: string): Promise<number> {
    for (let i = 0; ; i++) {
      const n = await this.#count(topic, i > 0);
      if (n > 0) return n;
      if (i >= 40) throw unavailable(`kafka topic "${topic}" has no partitions in the cluster metadata yet`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Throws INVALID_ARGUMENT unless `partition` exists (an unknown stream has none: nothing to check). */
  async #checkPartition(stream: string, topic: string, partition: number): Promise<number> {
    let n = await this.#count(topic);
    if (n > 0 && partition >= n) n = await this.#count(topic, true);
    if (n > 0 && partition >= n) throw partitionOutOfRange(stream, partition, n);
    return n;
  }

  impl(): StreamPartitioningImpl {
    return {
      createPartitionedStream: async (req) => {
        const topic = this.backend.topic(req.stream);
        try {
          const created =
            (await this.#count(topic, true)) === 0 && (await this.backend.createTopic(topic, req.partitions));
          const n = created ? req.partitions : await this.#count(topic, true);
          if (!created && n !== req.partitions)
            throw alreadyExists(
              `stream "${req.stream}" already exists with ${n} partition${n === 1 ? '' : 's'}`,
            );
          this.#counts.set(topic, n);
          return { created, partitionCount: n };
        } catch (err) {
          throw mapKafkaError(err, `create stream "${req.stream}"`);
        }
      },
      describePartitionedStream: async (req) => {
        const topic = this.backend.topic(req.stream);
        try {
          const ids = (await this.backend.partitions(topic)) ?? [];
          const marks = await Promise.all(ids.map((p) => this.backend.watermarks(topic, p)));
          return {
            exists: ids.length > 0,
            partitionCount: ids.length,
            partitions: ids.map((partition, i) => ({
              partition,
              firstOffset: BigInt(marks[i]!.lowOffset),
              nextOffset: BigInt(marks[i]!.highOffset),
            })),
          };
        } catch (err) {
          throw mapKafkaError(err, `describe stream "${req.stream}"`);
        }
      },
      appendPartitioned: async (req, ctx) => {
        const topic = this.backend.topic(req.stream);
        try {
          await this.backend.bounded(this.backend.ensureTopic(topic), ctx);
          const route = req.route;
          let partition: number;
          let key: Uint8Array | undefined;
          if (route.case === 'key') {
            const n = await this.#settledCount(topic);
            partition = partitionForKey(route.value, n);
            key = route.value;
          } else {
            partition = route.value ?? 0;
            await this.#checkPartition(req.stream, topic, partition);
          }
          const d = await this.backend.produce(topic, partition, req.payload, req.metadata, ctx, key);
          return {
            partition: d.partition,
            offset: BigInt(d.offset),
            messageId: recordId(d.partition, d.offset),
            timestampMs: BigInt(d.timestampMs),
          };
        } catch (err) {
          throw mapKafkaError(err, `append to stream "${req.stream}"`);
        }
      },
      readPartition: (req, call) => {
        const self = this;
        return (async function* () {
          const topic = self.backend.topic(req.stream);
          try {
            await self.#checkPartition(req.stream, topic, req.partition);
          } catch (err) {
            throw mapKafkaError(err, `read stream "${req.stream}"`);
          }
          const records = self.streams.readPartition(
            {
              name: req.stream,
              partition: req.partition,
              from: { offset: Number(req.fromOffset) },
              max: req.maxRecords,
              follow: req.follow,
            },
            call.signal,
          );
          for await (const r of records) yield { partition: req.partition, ...r };
        })();
      },
      ...this.groups.partitioned(),
    };
  }
}

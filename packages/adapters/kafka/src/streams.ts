// stream_basic and stream_replay on Kafka: a stream is partition 0 of `<prefix>.<ns>.<stream>` (one totally
// ordered log, as the contract requires), its offsets are Kafka offsets. Topics may have more partitions
// (the `partitions` setting, CreatePartitionedStream): keyed appends of stream_partitioning spread over them,
// and ReadPartition reads any one of them with the same reader. Reads use a group-less consumer
// assigned at the start offset and pull only when the caller asks for the next record (flow control).
import { randomUUID } from 'node:crypto';
import type { StreamBasicImpl } from '@prism/stream-basic';
import type { StreamReplayImpl } from '@prism/stream-replay';
import { consume, type KafkaBackend, mapKafkaError, recordId, toMessage } from './client.js';

/** Partition every stream_basic / stream_replay operation uses. */
const PARTITION = 0;
/** Records pulled from librdkafka per consume call. */
const BATCH = 64;

/** A read position request: where to start, how many, and whether to wait for new records. */
interface ReadSpec {
  readonly name: string;
  /** Partition to read (stream_basic: 0). */
  readonly partition?: number;
  /** Absolute start offset, or a timestamp to resolve into one. */
  readonly from: { readonly offset: number } | { readonly timestampMs: number };
  readonly max: number;
  readonly follow: boolean;
}

/** stream_basic + stream_replay over Kafka partitions. */
export class KafkaStreams {
  constructor(private readonly backend: KafkaBackend) {}

  basic(): StreamBasicImpl {
    return {
      append: async (req, ctx) => {
        const topic = this.backend.topic(req.stream);
        try {
          await this.backend.bounded(this.backend.ensureTopic(topic), ctx);
          const d = await this.backend.produce(topic, PARTITION, req.payload, req.metadata, ctx);
          return {
            offset: BigInt(d.offset),
            messageId: recordId(d.partition, d.offset),
            timestampMs: BigInt(d.timestampMs),
          };
        } catch (err) {
          throw mapKafkaError(err, `append to stream "${req.stream}"`);
        }
      },
      read: (req, call) =>
        this.#read(
          {
            name: req.stream,
            from: { offset: Number(req.fromOffset) },
            max: req.maxRecords,
            follow: req.follow,
          },
          call.signal,
        ),
      trim: async (req) => {
        const topic = this.backend.topic(req.stream);
        const before = Number(req.beforeOffset);
        try {
          if (before === 0 || !(await this.backend.partitions(topic))) return {};
          const { lowOffset, highOffset } = await this.backend.watermarks(topic, PARTITION);
          // Kafka rejects offsets past the end; "everything below before_offset" is then everything.
          const target = Math.min(before, highOffset);
          if (target > lowOffset) await this.backend.deleteRecords(topic, PARTITION, target);
          return {};
        } catch (err) {
          throw mapKafkaError(err, `trim stream "${req.stream}"`);
        }
      },
    };
  }

  replay(): StreamReplayImpl {
    return {
      replay: (req, call) => {
        const from =
          req.start.case === 'fromTimestampMs'
            ? { timestampMs: Number(req.start.value) }
            : { offset: Number(req.start.value ?? 0n) };
        return this.#read({ name: req.stream, from, max: req.maxRecords, follow: req.follow }, call.signal);
      },
    };
  }

  /** Reads one partition of a stream (stream_partitioning's ReadPartition). */
  readPartition(spec: ReadSpec & { readonly partition: number }, signal: AbortSignal) {
    return this.#read(spec, signal);
  }

  async *#read(spec: ReadSpec, signal: AbortSignal) {
    const topic = this.backend.topic(spec.name);
    const partition = spec.partition ?? 0;
    let consumer: Awaited<ReturnType<KafkaBackend['consumer']>> | undefined;
    try {
      const exists = (await this.backend.partitions(topic)) !== undefined;
      if (!exists) {
        if (!spec.follow) return;
        // Following a stream that does not exist yet: create it so the consumer can wait on its partition.
        await this.backend.ensureTopic(topic);
      }
      const { lowOffset, highOffset } = await this.backend.watermarks(topic, partition);
      const start =
        'offset' in spec.from
          ? Math.max(spec.from.offset, lowOffset)
          : await this.backend.offsetForTime(topic, partition, spec.from.timestampMs);
      // Without follow the read ends at the last record present when the call started.
      if (!spec.follow && start >= highOffset) return;
      consumer = await this.backend.consumer({
        'group.id': `prism-reader-${randomUUID()}`,
        // A start below the retained range (trimmed meanwhile) begins at the oldest record.
        'auto.offset.reset': 'earliest',
        'fetch.wait.max.ms': 100,
      });
      consumer.setDefaultConsumeTimeout(250);
      consumer.assign([{ topic, partition, offset: start }]);
      let delivered = 0;
      while (!signal.aborted) {
        const want = spec.max > 0 ? Math.min(BATCH, spec.max - delivered) : BATCH;
        const batch = await consume(consumer, want);
        // Gaps (transaction markers, compaction) may hide the last offset: the position tells we are done.
        if (batch.length === 0 && !spec.follow) {
          const [pos] = consumer.position([{ topic, partition }]);
          if (pos && pos.offset >= highOffset) return;
        }
        for (const m of batch) {
          if (m.partition !== partition) continue;
          if (!spec.follow && m.offset >= highOffset) return;
          yield { offset: BigInt(m.offset), message: toMessage(m, spec.name) };
          delivered++;
          if (spec.max > 0 && delivered >= spec.max) return;
          if (!spec.follow && m.offset >= highOffset - 1) return;
        }
      }
    } catch (err) {
      throw mapKafkaError(err, `read stream "${spec.name}"`);
    } finally {
      if (consumer) await this.backend.closeConsumer(consumer);
    }
  }
}

import { StreamPartitioningInterface } from '@prism/proto/prism/stream/v1/stream_partitioning_pb';
import {
  checkAtMost,
  checkMemberName,
  checkMillis,
  checkOutgoing,
  checkTokens,
  checkTopic,
  MESSAGING_BOUNDS,
} from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export { GroupStart } from '@prism/proto/prism/stream/v1/stream_consumer_groups_pb';
export * from '@prism/proto/prism/stream/v1/stream_partitioning_pb';

/** Bounds of stream_partitioning (see proto/prism/stream/v1/stream_partitioning.proto). */
export const PARTITIONING_BOUNDS = Object.freeze({ maxPartitions: 1024 });

/**
 * Kafka's murmur2 hash (org.apache.kafka.common.utils.Utils.murmur2, librdkafka's "murmur2" partitioner) as
 * a signed 32-bit integer.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  switch (length % 4) {
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: murmur2 mixes the tail bytes by falling through
    case 3:
      h ^= data[tail + 2]! << 16;
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: as above
    case 2:
      h ^= data[tail + 1]! << 8;
    case 1:
      h ^= data[tail]!;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of `key` among `partitionCount` partitions: Kafka's default (murmur2) partitioner. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  if (!(partitionCount >= 1))
    throw new RangeError(`partitionCount must be at least 1 (got ${partitionCount})`);
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}

const checkPartition = (partition: number) => {
  if (partition >= PARTITIONING_BOUNDS.maxPartitions)
    throw invalidArgument(
      `partition is ${partition}; a stream has at most ${PARTITIONING_BOUNDS.maxPartitions} partitions`,
    );
};

/**
 * The stream_partitioning flavour: CreatePartitionedStream, DescribePartitionedStream, AppendPartitioned (by
 * key or explicit partition), ReadPartition, ReadPartitionedGroup (partition assignment) and AckPartitioned.
 */
export const StreamPartitioning = defineInterface(
  'stream_partitioning',
  StreamPartitioningInterface,
  {
    createPartitionedStream: 'admin',
    describePartitionedStream: 'read',
    appendPartitioned: 'write',
    readPartition: 'read',
    readPartitionedGroup: 'read',
    ackPartitioned: 'write',
  },
  {
    createPartitionedStream: (req) => {
      checkTopic(req.stream, 'stream');
      if (req.partitions < 1 || req.partitions > PARTITIONING_BOUNDS.maxPartitions)
        throw invalidArgument(`partitions is ${req.partitions}; use 1..${PARTITIONING_BOUNDS.maxPartitions}`);
    },
    describePartitionedStream: (req) => checkTopic(req.stream, 'stream'),
    appendPartitioned: (req, limits) => {
      checkTopic(req.stream, 'stream');
      const route = req.route;
      if (route.case === undefined) throw invalidArgument('route is required: set key or partition');
      if (route.case === 'key' && route.value.byteLength > limits.maxKeyBytes)
        throw invalidArgument(
          `key is ${route.value.byteLength} bytes; the namespace allows at most ${limits.maxKeyBytes}`,
        );
      if (route.case === 'partition') checkPartition(route.value);
      checkOutgoing(req, limits);
    },
    readPartition: (req) => {
      checkTopic(req.stream, 'stream');
      checkPartition(req.partition);
    },
    readPartitionedGroup: (req) => {
      checkTopic(req.stream, 'stream');
      checkMemberName(req.group, 'group');
      checkMemberName(req.consumer, 'consumer');
      checkAtMost(req.maxInFlight, 'max_in_flight', MESSAGING_BOUNDS.maxInFlight);
      checkMillis(req.claimTimeoutMs, 'claim_timeout_ms', MESSAGING_BOUNDS.maxTimeoutMs);
    },
    ackPartitioned: (req) => {
      checkTopic(req.stream, 'stream');
      checkMemberName(req.group, 'group');
      checkTokens(req.ackIds, 'ack_ids');
    },
  },
);

/** What an adapter implements for stream_partitioning. */
export type StreamPartitioningImpl = InterfaceImpl<typeof StreamPartitioningInterface>;

/** INVALID_ARGUMENT for a partition the stream does not have. */
export function partitionOutOfRange(stream: string, partition: number, count: number) {
  return invalidArgument(
    `partition ${partition} is out of range: stream "${stream}" has ${count} partition${count === 1 ? '' : 's'} (0..${count - 1})`,
  );
}

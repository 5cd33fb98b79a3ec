// Data-structure and partitioned-stream rows: SortedSet Add + RangeByScore on Redis (node-redis direct vs
// through Prism) and keyed appends across 8 Kafka partitions (the Kafka client direct vs through Prism).
// Both sides run in this process with the same closed-loop scheduler; the Prism side uses connect-node's
// gRPC client, as an application would.
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { SortedSetBasicInterface } from '@prism/sortedset-basic';
import { SortedSetRangeInterface } from '@prism/sortedset-range';
import { StreamPartitioningInterface } from '@prism/stream-partitioning';
import { createClient as createRedis, RESP_TYPES } from 'redis';
import { makeValue } from '../payload.js';
import { driveOp } from '../run.js';
import type { Op } from '../scheduler.js';
import type { BenchProcess } from './proxy-process.js';
import type { Scenario } from './results.js';
import { alternate, type Bench } from './scenarios.js';

const MEMBERS = 10_000;
const RANGE = 10;
const loop = (b: Bench, concurrency: number) => ({ concurrency, durationS: b.durationS, warmupS: b.warmupS });
const member = (i: number) => `member-${i}`;
const randomMember = () => Math.floor(Math.random() * MEMBERS);

/** SortedSet Add (one member, random score) and RangeByScore (10 entries from a random score). */
export async function sortedSetRedis(
  b: Bench,
  proxy: BenchProcess,
  redisUrl: string,
  concurrency = 16,
): Promise<Scenario[]> {
  const redis = createRedis({ url: redisUrl }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await redis.connect();
  const transport = createGrpcTransport({ baseUrl: proxy.url });
  const namespace = 'bench-zset';
  const add = createClient(SortedSetBasicInterface, transport);
  const range = createClient(SortedSetRangeInterface, transport);
  const enc = new TextEncoder();
  try {
    // The same 10k members with scores 0..9999 on both sides (the Prism side through the proxy).
    const directKey = 'bench-direct:leaderboard';
    await redis.del(directKey);
    for (let i = 0; i < MEMBERS; i += 1000) {
      const batch = Array.from({ length: 1000 }, (_, j) => ({ score: i + j, value: member(i + j) }));
      await redis.zAdd(directKey, batch);
      await add.add({
        namespace,
        key: 'leaderboard',
        entries: batch.map((e) => ({ member: enc.encode(e.value), score: e.score })),
      });
    }
    const directAdd: Op = () =>
      redis
        .zAdd(directKey, { score: Math.random() * MEMBERS, value: member(randomMember()) })
        .then(() => undefined);
    const prismAdd: Op = () =>
      add
        .add({
          namespace,
          key: 'leaderboard',
          entries: [{ member: enc.encode(member(randomMember())), score: Math.random() * MEMBERS }],
        })
        .then(() => undefined);
    const directRange: Op = () => {
      const min = randomMember();
      return redis
        .zRangeWithScores(directKey, min, '+inf', { BY: 'SCORE', LIMIT: { offset: 0, count: RANGE } })
        .then(() => undefined);
    };
    const prismRange: Op = () =>
      range
        .rangeByScore({ namespace, key: 'leaderboard', min: { value: randomMember() }, limit: RANGE })
        .then(() => undefined);

    const how = (op: string, cmd: string) =>
      `${MEMBERS.toLocaleString('en-US')} members. Direct: node-redis v5 ${cmd} from the benchmark process. Prism: connect-node gRPC client calling ${op} on a sorted-set namespace on the same redis-server. Closed loop, concurrency ${concurrency}.`;
    const [dAdd, pAdd] = await alternate(
      b,
      (r) => driveOp('node-redis ZADD', directAdd, loop(r, concurrency)),
      (r) => driveOp('Prism SortedSet Add', prismAdd, loop(r, concurrency)),
    );
    const [dRange, pRange] = await alternate(
      b,
      (r) => driveOp('node-redis ZRANGE BYSCORE', directRange, loop(r, concurrency)),
      (r) => driveOp('Prism SortedSet RangeByScore', prismRange, loop(r, concurrency)),
    );
    return [
      {
        id: `zset-add-c${concurrency}`,
        title: `SortedSet Add on Redis, concurrency ${concurrency}`,
        how: how('SortedSetBasic.Add (one member)', 'ZADD (one member)'),
        directName: 'node-redis',
        direct: dAdd,
        proxyName: 'through Prism (gRPC)',
        proxy: pAdd,
      },
      {
        id: `zset-range-c${concurrency}`,
        title: `SortedSet RangeByScore (${RANGE} entries) on Redis, concurrency ${concurrency}`,
        how: how(
          `SortedSetRange.RangeByScore (min = random score, limit ${RANGE})`,
          `ZRANGE … BYSCORE LIMIT 0 ${RANGE} WITHSCORES`,
        ),
        directName: 'node-redis',
        direct: dRange,
        proxyName: 'through Prism (gRPC)',
        proxy: pRange,
      },
    ];
  } finally {
    await redis.close();
  }
}

/** Keyed appends (1 KB, 1,000 distinct keys) to an 8-partition stream, each awaited until the broker acks it. */
export async function kafkaKeyed(
  b: Bench,
  proxy: BenchProcess,
  bootstrap: string,
  concurrency = 32,
): Promise<Scenario> {
  const { Producer } = (await import('@confluentinc/kafka-javascript')).default;
  const topic = `bench-direct-keyed-${Date.now()}`;
  // What the adapter's producer uses, so only the hop differs; murmur2 is Kafka's Java default partitioner.
  const producer = new Producer({
    'metadata.broker.list': bootstrap,
    dr_cb: true,
    'enable.idempotence': true,
    'linger.ms': 1,
    partitioner: 'murmur2_random',
  } as never);
  const waiters = new Map<number, () => void>();
  let seq = 0;
  producer.on('delivery-report', (err, report) => {
    const done = waiters.get(report.opaque as number);
    waiters.delete(report.opaque as number);
    if (!err) done?.();
  });
  producer.setPollInterval(5);
  await new Promise<void>((resolve, reject) => {
    producer.connect({}, (err) => (err ? reject(err) : resolve()));
  });
  const admin = (await import('@confluentinc/kafka-javascript')).default.AdminClient.createFrom(producer);
  await new Promise<void>((resolve, reject) =>
    admin.createTopic({ topic, num_partitions: 8, replication_factor: 1 }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  const transport = createGrpcTransport({ baseUrl: proxy.url });
  const streams = createClient(StreamPartitioningInterface, transport);
  const namespace = 'bench-kafka';
  await streams.createPartitionedStream({ namespace, stream: 'keyed', partitions: 8 });
  const value = Buffer.from(makeValue(b.valueSize));
  const keys = Array.from({ length: 1000 }, (_, i) => Buffer.from(`key-${i}`));
  const pick = () => keys[Math.floor(Math.random() * keys.length)] as Buffer;
  const direct: Op = () =>
    new Promise<undefined>((resolve) => {
      const id = seq++;
      waiters.set(id, () => resolve(undefined));
      producer.produce(topic, null, value, pick(), null, id);
    });
  const viaPrism: Op = () =>
    streams
      .appendPartitioned({
        namespace,
        stream: 'keyed',
        route: { case: 'key', value: pick() },
        payload: value,
      })
      .then(() => undefined);
  try {
    const [d, p] = await alternate(
      b,
      (r) => driveOp('Kafka client', direct, loop(r, concurrency)),
      (r) => driveOp('Prism AppendPartitioned', viaPrism, loop(r, concurrency)),
    );
    return {
      id: `kafka-keyed-8p-c${concurrency}`,
      title: `Kafka keyed append across 8 partitions, ${b.valueSize} B, concurrency ${concurrency}`,
      how: `Direct: @confluentinc/kafka-javascript (librdkafka) producer with the adapter's settings (idempotent, linger.ms 1, murmur2 partitioner), each produce awaited until its delivery report. Prism: connect-node gRPC StreamPartitioning.AppendPartitioned with a key, on an 8-partition stream. 1,000 distinct keys. Closed loop, concurrency ${concurrency}.`,
      directName: 'Kafka client',
      direct: d,
      proxyName: 'through Prism (gRPC)',
      proxy: p,
    };
  } finally {
    await new Promise<void>((resolve) => producer.flush(2000, () => resolve()));
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }
}

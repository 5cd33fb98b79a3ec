import { existsSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createKafkaTopic,
  ensureKafkaLibs,
  type KafkaTestServer,
  kafkaMetadata,
  kafkaTopicPartitionCount,
  kafkaVersion,
  listKafkaTopics,
  probeKafkaMetadata,
  randomKafkaUuid,
  startKafka,
} from './kafka.js';
import { freePort, isListening } from './ports.js';
import { isAlive } from './process.js';

describe('startKafka (Apache Kafka 4.x, KRaft)', () => {
  let kafka: KafkaTestServer;

  beforeAll(async () => {
    kafka = await startKafka({ defaultPartitions: 2 });
  }, 180_000);

  afterAll(async () => {
    await kafka?.dispose();
  }, 60_000);

  it('fetched a 4.x broker with the admin tools and an slf4j binding', async () => {
    const libs = await ensureKafkaLibs();
    const version = kafkaVersion();
    expect(version).toMatch(/^4\./);
    for (const jar of [`kafka_2.13-${version}.jar`, `kafka-tools-${version}.jar`]) {
      expect(existsSync(join(libs, jar))).toBe(true);
    }
    expect(readFileSync(kafka.logFile, 'utf8')).toMatch(/Kafka Server started/);
  });

  it('runs one combined broker+controller node formatted with the generated cluster id', () => {
    expect(kafka.bootstrap).toBe(`127.0.0.1:${kafka.port}`);
    expect(kafka.url).toBe(`kafka://127.0.0.1:${kafka.port}`);
    const meta = readFileSync(join(kafka.dir, 'data', 'meta.properties'), 'utf8');
    expect(meta).toContain(`cluster.id=${kafka.clusterId}`);
    expect(meta).toContain('node.id=1');
    const props = readFileSync(join(kafka.dir, 'server.properties'), 'utf8');
    expect(props).toContain('process.roles=broker,controller');
    expect(props).toContain(`CONTROLLER://127.0.0.1:${kafka.controllerPort}`);
  });

  it('answers Metadata with itself as a live broker of its own cluster', async () => {
    await expect(kafkaMetadata('127.0.0.1', kafka.port)).resolves.toEqual({
      brokers: 1,
      clusterId: kafka.clusterId,
    });
    await expect(probeKafkaMetadata('127.0.0.1', kafka.port, kafka.clusterId)).resolves.toBe(true);
    await expect(probeKafkaMetadata('127.0.0.1', kafka.port, randomKafkaUuid())).resolves.toBe(false);
  });

  it('creates topics with N partitions and lists them', async () => {
    await kafka.createTopic('orders', 3);
    await createKafkaTopic(kafka.bootstrap, 'orders', 3); // existing topic: no error
    expect(await kafkaTopicPartitionCount(kafka.bootstrap, 'orders')).toBe(3);
    expect(await kafkaTopicPartitionCount(kafka.bootstrap, 'no-such-topic')).toBeUndefined();
    expect(await listKafkaTopics(kafka.bootstrap)).toContain('orders');
  }, 60_000);

  it('stops by PID and restarts on the same port with its data', async () => {
    const pid = kafka.pid;
    expect(pid).toBeDefined();
    await kafka.stop();
    expect(isAlive(pid as number)).toBe(false);
    expect(await isListening('127.0.0.1', kafka.port)).toBe(false);
    await kafka.restart();
    expect(await kafkaTopicPartitionCount(kafka.bootstrap, 'orders')).toBe(3);
  }, 180_000);

  it('fails with the broker log when its port is taken', async () => {
    // A listener that never answers like Kafka: the new broker cannot bind and must not be taken as ready.
    const squatter = createServer((socket) => socket.on('error', () => {}).resume());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as AddressInfo;
    try {
      await expect(startKafka({ port, readyTimeoutMs: 60_000 })).rejects.toThrow(
        /kafka exited[\s\S]*before becoming ready[\s\S]*--- kafka log[\s\S]*Address already in use/,
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 120_000);
});

describe('Kafka helpers', () => {
  it('makes 22-character base64url cluster ids', () => {
    const id = randomKafkaUuid();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomKafkaUuid()).not.toBe(id);
  });

  it('never starts a cluster id with "-" (the storage tool would read it as an option)', () => {
    for (let i = 0; i < 2000; i++) expect(randomKafkaUuid().startsWith('-')).toBe(false);
  });

  it('the Metadata probe rejects when nothing listens', async () => {
    await expect(probeKafkaMetadata('127.0.0.1', await freePort())).rejects.toThrow();
  });
});

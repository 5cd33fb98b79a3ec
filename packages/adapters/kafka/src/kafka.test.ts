// Kafka-specific behaviour the conformance suites do not see: how names map onto the broker, that cancelled
// streams release their consumers, outages, and config validation. Effects are checked in the broker itself.

import { create } from '@bufbuild/protobuf';
import rdkafka, { type GroupDescriptions } from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PubSubBasic, SubscribeRequestSchema } from '@prism/pubsub-basic';
import { expectCode, pollUntil, pubsubBasic, utf8 } from '@prism/pubsub-basic/conformance';
import { Code, instantiatePlugin, PluginConfigError, type PluginHandle } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { streamClient } from '@prism/stream-basic/conformance';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { groupClient } from '@prism/stream-consumer-groups/conformance';
import {
  freePort,
  type KafkaTestServer,
  kafkaTopicPartitionCount,
  listKafkaTopics,
  runKafkaTool,
  startKafka,
  testServerUrl,
} from '@prism/testing';
import plugin from './index.js';

const bootstrap = () => testServerUrl('kafka').replace(/^kafka:\/\//, '');
const ns = (tag: string) => `kafka-${tag}-${Date.now().toString(36)}`;

/** Members of a consumer group, as the broker reports them (independent admin client). */
async function groupMembers(groupId: string): Promise<number> {
  const admin = rdkafka.AdminClient.create({ 'bootstrap.servers': bootstrap() });
  try {
    const res = await new Promise<GroupDescriptions>((resolve, reject) =>
      admin.describeGroups([groupId], { timeout: 5000 }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    return res.groups[0]?.members.length ?? 0;
  } finally {
    admin.disconnect();
  }
}

describe('kafka adapter on the run-wide broker', () => {
  let handle: PluginHandle;
  const namespace = ns('names');

  beforeAll(async () => {
    handle = await instantiatePlugin(
      plugin,
      { brokers: [testServerUrl('kafka')], partitions: 3 },
      { namespace },
    );
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('maps topics to <prefix>.<namespace>.<name>, created with the configured partitions and log-append time', async () => {
    await pubsubBasic(handle.get(PubSubBasic)!, namespace).publish('orders.eu', utf8('x'));
    const topic = `prism.${namespace}.orders.eu`;
    expect(await listKafkaTopics(bootstrap())).toContain(topic);
    expect(await kafkaTopicPartitionCount(bootstrap(), topic)).toBe(3);
    const configs = await runKafkaTool('kafka.admin.ConfigCommand', [
      '--bootstrap-server',
      bootstrap(),
      '--entity-type',
      'topics',
      '--entity-name',
      topic,
      '--describe',
    ]);
    expect(configs).toContain('message.timestamp.type=LogAppendTime');
  });

  it('leaves the Kafka group when a ReadGroup stream is cancelled', async () => {
    const s = streamClient(handle.get(StreamBasic)!, namespace);
    const g = groupClient(handle.get(StreamConsumerGroups)!, namespace);
    await s.append('jobs', utf8('one'));
    const member = g.member('jobs', 'workers', 'c1');
    await member.stream.atLeast(1, 'the record', 30_000);
    const groupId = `prism.${namespace}.jobs.workers`;
    expect(await groupMembers(groupId)).toBe(1);
    await member.ackNew();
    await member.cancel();
    await pollUntil(
      'the member to leave the group',
      async () => (await groupMembers(groupId)) === 0,
      30_000,
      200,
    );
    expect(await g.deleteGroup('jobs', 'workers')).toBe(true);
  });

  it('serves 100 concurrent subscribers of one topic', async () => {
    const ps = pubsubBasic(handle.get(PubSubBasic)!, namespace);
    const subs = await Promise.all(Array.from({ length: 100 }, () => ps.subscribe('crowd')));
    const id = await ps.publish('crowd', utf8('hello all'));
    await Promise.all(subs.map((sub) => sub.waitForId(id, 30_000)));
    await Promise.all(subs.map((sub) => sub.cancel()));
  });

  it('drops and counts what a slow subscriber cannot take, keeping the rest in order', async () => {
    const dropped: number[] = [];
    const metrics = {
      increment: (name: string, _labels?: unknown, value = 1) => {
        if (name === 'messages_dropped_total') dropped.push(value);
      },
      observe() {},
      gauge() {},
    };
    const slowNs = ns('slow');
    const slow = await instantiatePlugin(
      plugin,
      { brokers: [testServerUrl('kafka')], subscription_buffer: 5 },
      { namespace: slowNs, metrics },
    );
    try {
      const impl = slow.get(PubSubBasic)!;
      const ctl = new AbortController();
      const stream = impl
        .subscribe(create(SubscribeRequestSchema, { namespace: slowNs, topic: 'firehose' }), {
          signal: ctl.signal,
        })
        [Symbol.asyncIterator]();
      expect((await stream.next()).value?.event?.case).toBe('subscribed');
      const publisher = pubsubBasic(impl, slowNs);
      for (let i = 0; i < 20; i++) await publisher.publish('firehose', utf8(String(i)));
      // The client reads nothing meanwhile: 5 are buffered, 15 dropped and counted.
      await pollUntil('15 dropped messages', () => dropped.length === 15, 30_000, 20);
      const got: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await stream.next();
        const ev = r.value?.event;
        if (ev?.case === 'message') got.push(new TextDecoder().decode(ev.value.payload));
      }
      expect(got).toEqual(['0', '1', '2', '3', '4']);
      ctl.abort();
      await stream.return?.();
    } finally {
      await slow.close();
    }
  });

  it('rejects invalid config with the field named', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ brokers: ['no-port'] }, 'brokers'],
      [{ partitions: 0 }, 'partitions'],
      [{ topic_prefix: 'has.dot' }, 'topic_prefix'],
      [{ sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } }, 'sasl.mechanism'],
    ];
    for (const [config, field] of cases) {
      const err = await instantiatePlugin(plugin, config, { namespace: 'cfg' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PluginConfigError);
      expect((err as Error).message).toContain(field);
    }
  });
});

describe('kafka adapter outages', () => {
  let kafka: KafkaTestServer;
  let handle: PluginHandle;
  const namespace = ns('outage');

  beforeAll(async () => {
    kafka = await startKafka();
    handle = await instantiatePlugin(
      plugin,
      { brokers: [kafka.bootstrap], request_timeout_ms: 2000 },
      { namespace },
    );
  }, 180_000);
  afterAll(async () => {
    await handle?.close();
    await kafka?.dispose();
  }, 60_000);

  it('fails to start with UNAVAILABLE when no broker answers', async () => {
    const port = await freePort();
    await expectCode(
      () =>
        instantiatePlugin(
          plugin,
          { brokers: [`127.0.0.1:${port}`], request_timeout_ms: 1000 },
          { namespace },
        ),
      Code.Unavailable,
    );
  });

  it('answers UNAVAILABLE while the broker is down and works again after it is back', async () => {
    const ps = pubsubBasic(handle.get(PubSubBasic)!, namespace);
    const s = streamClient(handle.get(StreamBasic)!, namespace);
    await ps.publish('t', utf8('before'));
    await s.append('log', utf8('before'));
    await kafka.stop();
    await expectCode(() => ps.publish('t', utf8('down')), Code.Unavailable);
    await expectCode(() => s.append('log', utf8('down')), Code.Unavailable);
    await expectCode(() => s.read('log', {}, 30_000), Code.Unavailable);
    await kafka.restart();
    await pollUntil(
      'publishing to succeed again',
      () =>
        s.append('log', utf8('after')).then(
          () => true,
          () => false,
        ),
      60_000,
      200,
    );
    const texts = (await s.read('log', {}, 30_000)).map((r) => new TextDecoder().decode(r.message!.payload));
    expect(texts[0]).toBe('before');
    expect(texts).toContain('after');
    expect(texts).not.toContain('down');
  }, 180_000);
});

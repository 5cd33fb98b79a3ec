// `retention_ms` / `retention_bytes` become the topic configs retention.ms / retention.bytes of every topic
// the adapter creates (stream_basic and pubsub_ordering topics here), read back from the broker with Kafka's
// own ConfigCommand, not through the adapter (the Confluent client has no DescribeConfigs).
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { utf8 } from '@prism/pubsub-basic/conformance';
import { PublishOrderedRequestSchema, PubSubOrdering } from '@prism/pubsub-ordering';
import { instantiatePlugin, PluginConfigError } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { streamClient } from '@prism/stream-basic/conformance';
import { runKafkaTool, testServerUrl } from '@prism/testing';
import { bootstrap } from './broker.test-util.js';
import plugin from './index.js';

const ctx = { signal: new AbortController().signal };

/** The topic's configs as ConfigCommand describes them (`--all`: defaults included). */
async function describeTopicConfig(topic: string): Promise<Map<string, string>> {
  const out = await runKafkaTool('kafka.admin.ConfigCommand', [
    '--bootstrap-server',
    bootstrap(),
    '--entity-type',
    'topics',
    '--entity-name',
    topic,
    '--describe',
    '--all',
  ]);
  const configs = new Map<string, string>();
  for (const m of out.matchAll(/^\s+([a-z0-9.]+)=(\S*) sensitive=/gm)) configs.set(m[1]!, m[2]!);
  return configs;
}

describe('kafka retention_ms / retention_bytes on created topics', () => {
  const namespace = `kafka-ret-${Date.now().toString(36)}`;

  it('sets retention.ms and retention.bytes on every topic the adapter creates', async () => {
    const handle = await instantiatePlugin(
      plugin,
      { brokers: [testServerUrl('kafka')], retention_ms: 3_600_000, retention_bytes: 10_485_760 },
      { namespace },
    );
    try {
      await streamClient(handle.get(StreamBasic)!, namespace).append('events', utf8('x'));
      await handle.get(PubSubOrdering)!.publishOrdered(
        create(PublishOrderedRequestSchema, {
          namespace,
          topic: 'orders',
          orderingKey: 'k',
          payload: utf8('x'),
        }),
        ctx,
      );
    } finally {
      await handle.close();
    }
    for (const topic of [`prism.${namespace}.events`, `prism.${namespace}..ordered.orders`]) {
      const configs = await describeTopicConfig(topic);
      expect(configs.get('retention.ms')).toBe('3600000');
      expect(configs.get('retention.bytes')).toBe('10485760');
      expect(configs.get('message.timestamp.type')).toBe('LogAppendTime');
    }
  });

  it("leaves the broker's retention when they are not set", async () => {
    const ns = `${namespace}-default`;
    const handle = await instantiatePlugin(plugin, { brokers: [testServerUrl('kafka')] }, { namespace: ns });
    try {
      await streamClient(handle.get(StreamBasic)!, ns).append('events', utf8('x'));
    } finally {
      await handle.close();
    }
    const configs = await describeTopicConfig(`prism.${ns}.events`);
    // The broker defaults (log.retention.hours=168, log.retention.bytes=-1), not a topic override.
    expect(configs.get('retention.ms')).toBe('604800000');
    expect(configs.get('retention.bytes')).toBe('-1');
  });

  it('rejects invalid retention and ordering_partitions values with the field named', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ retention_ms: -2 }, 'retention_ms'],
      [{ retention_ms: 1.5 }, 'retention_ms'],
      [{ retention_bytes: '10MB' }, 'retention_bytes'],
      [{ ordering_partitions: 0 }, 'ordering_partitions'],
    ];
    for (const [config, field] of cases) {
      const err = await instantiatePlugin(plugin, config, { namespace: 'cfg' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PluginConfigError);
      expect((err as Error).message).toContain(field);
    }
  });
});

import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubOrdering } from '@prism/pubsub-ordering';
import { PubSubPersistent } from '@prism/pubsub-persistent';
import { definePlugin, endpointId, healthy, type Isolation, implement, unhealthy } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { StreamPartitioning } from '@prism/stream-partitioning';
import { StreamReplay } from '@prism/stream-replay';
import { KafkaBackend } from './client.js';
import { KafkaConfigSchema } from './config.js';
import { KafkaGroups } from './groups.js';
import { KafkaOrdering } from './ordering.js';
import { KafkaPartitioning } from './partitioning.js';
import { KafkaPubSub } from './pubsub.js';
import { KafkaStreams } from './streams.js';

export { type KafkaConfig, KafkaConfigSchema } from './config.js';

/**
 * The Kafka backend (@confluentinc/kafka-javascript / librdkafka): pub/sub, streams, consumer groups and
 * replay on Apache Kafka. Namespaces are isolated by the topic prefix `<topic_prefix>.<namespace>.` and
 * consumer group ids with the same prefix.
 */
const plugin = definePlugin({
  name: 'kafka',
  version: '0.1.0',
  description:
    'Apache Kafka pub/sub (at-most-once, durable and ordered by key), streams, consumer groups, replay and keyed partitions',
  interfaces: [
    PubSubBasic,
    PubSubPersistent,
    StreamBasic,
    StreamConsumerGroups,
    StreamReplay,
    StreamPartitioning,
    PubSubOrdering,
  ],
  omitted: {
    stream_retention:
      "the Confluent client (1.10) has no AlterConfigs/DescribeConfigs, so a topic's retention cannot be read or changed after creation, and Kafka cannot bound a topic by record count; set `retention_ms` / `retention_bytes` in the backend config to apply retention.ms / retention.bytes to every topic the adapter creates",
    pubsub_filtering:
      'not in this version: Kafka has no broker-side filtering, so the filter would run in the adapter on record headers, as on NATS',
    pubsub_wildcards:
      'not in this version: a pattern would be a regex topic subscription, which sees a newly created matching topic only at the next metadata refresh and would miss its first messages meanwhile',
  },
  configSchema: KafkaConfigSchema,
  /** Topics and consumer group ids `<topic_prefix>.<namespace>.…` on the cluster of the bootstrap brokers. */
  isolation(config, namespace): Isolation {
    return {
      endpoints: config.brokers.map((broker) => {
        const colon = broker.lastIndexOf(':');
        return endpointId(broker.slice(0, colon), broker.slice(colon + 1));
      }),
      scopes: [
        {
          kind: 'topics and consumer groups',
          value: `${config.topic_prefix}.${namespace}.`,
          ...(config.topic_prefix === 'prism' ? {} : { field: 'topic_prefix' }),
        },
      ],
    };
  },
  create(config, ctx) {
    const backend = new KafkaBackend(config, ctx.namespace, ctx.logger);
    const pubsub = new KafkaPubSub(backend, ctx);
    const streams = new KafkaStreams(backend);
    const groups = new KafkaGroups(backend, ctx.logger);
    const ordering = new KafkaOrdering(backend, ctx);
    return {
      bindings: [
        implement(PubSubBasic, pubsub.impl()),
        implement(PubSubPersistent, groups.persistent()),
        implement(StreamBasic, streams.basic()),
        implement(StreamConsumerGroups, groups.impl()),
        implement(StreamReplay, streams.replay()),
        implement(StreamPartitioning, new KafkaPartitioning(backend, streams, groups).impl()),
        implement(PubSubOrdering, ordering.impl()),
      ],
      start: () => backend.start(),
      async health() {
        try {
          const brokers = await backend.ping();
          return healthy({ brokers: String(brokers) });
        } catch (err) {
          return unhealthy(`kafka unreachable: ${(err as Error).message}`);
        }
      },
      async close() {
        groups.close();
        await pubsub.close();
        await ordering.close();
        await backend.close();
      },
    };
  },
});

export default plugin;
